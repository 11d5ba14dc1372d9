using System.Text.Json;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Core.Assistants;

/// <summary>A run is answering the thread: no message is added or deleted, and no other run starts, until it ends (OpenAI refuses these too).</summary>
public sealed record ThreadBusy(Guid ThreadId, Guid RunId)
{
    public static ErrorCode Code => ErrorCode.ThreadRunActive;

    public IReadOnlyDictionary<string, string> Args => new Dictionary<string, string>
    {
        ["thread"] = OpenAIIds.Of(OpenAIIds.Thread, ThreadId),
        ["run"] = OpenAIIds.Of(OpenAIIds.Run, RunId),
    };
}

/// <summary>
/// Threads and their messages, for every surface that keeps a conversation as one (the assistants' threads, the
/// studio's conversations): a thread is its creator's (others are told it does not exist), a run answering it holds it
/// (<see cref="LockAsync"/>), and deleting it stops the work still going on for it.
/// </summary>
public sealed class ThreadStore(AppDbContext db, JobCancellation cancellation, TimeProvider time)
{
    public Task<AssistantThread?> FindThreadAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        db.Threads.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);

    public async Task<AssistantThread> CreateThreadAsync(Guid userId, Dictionary<string, string>? metadata, List<(string Role, string Text, Dictionary<string, string>? Metadata)> messages, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var thread = new AssistantThread { Id = Guid.CreateVersion7(now), UserId = userId, Metadata = JsonSerializer.Serialize(metadata ?? []), CreatedAt = now };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Threads.Add(thread);
        await db.SaveChangesAsync(cancellationToken);
        await InsertMessagesAsync(thread.Id, messages, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return thread;
    }

    /// <summary>Adds a message unless a run is answering the thread (OpenAI refuses that too).</summary>
    /// <remarks><paramref name="alongside"/> writes what goes with the saved message in its transaction (a studio message's first step).</remarks>
    public async Task<(ThreadMessage? Message, ThreadBusy? Busy)> AddMessageAsync(Guid threadId, string role, string text, Dictionary<string, string>? metadata, CancellationToken cancellationToken,
        Func<ThreadMessage, CancellationToken, Task>? alongside = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(threadId, cancellationToken) is { } busy)
        {
            return (null, busy);
        }
        var message = NewMessage(threadId, role, text, metadata, time.GetUtcNow());
        db.ThreadMessages.Add(message);
        await db.SaveChangesAsync(cancellationToken);
        if (alongside is not null)
        {
            await alongside(message, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return (message, null);
    }

    /// <summary>Deletes one of my threads with its messages and runs; a run still working is cancelled (its vendor call aborted).</summary>
    public async Task<bool> DeleteThreadAsync(Guid userId, Guid threadId, CancellationToken cancellationToken)
    {
        var runs = db.Runs.Where(r => r.ThreadId == threadId && r.UserId == userId && r.Status == RunStatus.Queued).Select(r => r.JobId);
        // A studio conversation's messages have their steps' jobs too.
        var steps = db.StudioRequests.Where(r => r.UserId == userId)
            .Join(db.ThreadMessages.Where(m => m.ThreadId == threadId), r => r.MessageId, m => m.Id, (r, m) => r.JobId);
        var working = await db.Jobs.Where(j => (runs.Contains(j.Id) || steps.Contains(j.Id)) && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running))
            .Select(j => j.Id).ToListAsync(cancellationToken);
        if (await db.Threads.Where(t => t.Id == threadId && t.UserId == userId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return false;
        }
        foreach (var job in working)
        {
            await cancellation.CancelAsync(job, CancellationToken.None);
        }
        return true;
    }

    /// <summary>Deletes a message unless a run is answering the thread (its context would change under it).</summary>
    public async Task<(bool Deleted, ThreadBusy? Busy)> DeleteMessageAsync(Guid threadId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(threadId, cancellationToken) is { } busy)
        {
            return (false, busy);
        }
        var deleted = await db.ThreadMessages.Where(m => m.Id == messageId && m.ThreadId == threadId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (deleted > 0, null);
    }

    /// <summary>Messages in the order given, in one statement: seq is assigned as rows are inserted, in ordinality order.</summary>
    public async Task InsertMessagesAsync(Guid threadId, IReadOnlyList<(string Role, string Text, Dictionary<string, string>? Metadata)> messages, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
        var ids = messages.Select(_ => Guid.CreateVersion7(now)).ToArray();
        var roles = messages.Select(m => m.Role).ToArray();
        var texts = messages.Select(m => m.Text).ToArray();
        var metas = messages.Select(m => JsonSerializer.Serialize(m.Metadata ?? [])).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO thread_messages (id, thread_id, role, text, metadata, created_at)
            SELECT m.id, {threadId}, m.role, m.text, m.metadata::jsonb, {now}
            FROM unnest({ids}, {roles}, {texts}, {metas}) WITH ORDINALITY AS m(id, role, text, metadata, n)
            ORDER BY m.n
            """, cancellationToken);
    }

    private static ThreadMessage NewMessage(Guid threadId, string role, string text, Dictionary<string, string>? metadata, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ThreadId = threadId,
        Role = role,
        Text = text,
        Metadata = JsonSerializer.Serialize(metadata ?? []),
        CreatedAt = now,
    };

    /// <summary>
    /// Locks the thread's row for the caller's transaction (so two requests never start two runs on one thread, nor add a
    /// message under a run) and says which run, if any, is answering it: a queued or running one, or one waiting for tool
    /// outputs that has not expired.
    /// </summary>
    public async Task<ThreadBusy?> LockAsync(Guid threadId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM assistant_threads WHERE id = {threadId} FOR UPDATE", cancellationToken);
        var now = time.GetUtcNow();
        var active = await db.Runs.Where(r => r.ThreadId == threadId && (r.Status == RunStatus.Queued || (r.Status == RunStatus.RequiresAction && r.ExpiresAt > now)))
            .Join(db.Jobs, r => r.JobId, j => j.Id, (r, j) => new { r.Id, RunStatus = r.Status, j.Status })
            .Where(x => x.RunStatus == RunStatus.RequiresAction || x.Status == JobStatus.Queued || x.Status == JobStatus.Running)
            .Select(x => (Guid?)x.Id).FirstOrDefaultAsync(cancellationToken);
        return active is { } run ? new ThreadBusy(threadId, run) : null;
    }
}
