using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// A request's channel, subscribed without waiting long for Redis: when Redis does not confirm within a
/// moment the caller goes on from the database (polling), and the subscription is used from whenever it
/// does confirm (its handler is live from then on), or cleaned up at the end if it never does.
/// </summary>
internal sealed class QuickSubscription(Task<IAsyncDisposable> subscribing) : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(250);

    /// <summary>Whether Redis delivers the channel's events now.</summary>
    public bool IsLive => subscribing.IsCompletedSuccessfully;

    public static async Task<QuickSubscription> StartAsync(PromptRequestEvents events, Guid id, Func<PromptRequestEvent, ValueTask> handler)
    {
        var subscribing = events.SubscribeAsync(id, handler, CancellationToken.None);
        await Task.WhenAny(subscribing, Task.Delay(Patience));
        return new QuickSubscription(subscribing);
    }

    public async ValueTask DisposeAsync()
    {
        if (subscribing.IsCompletedSuccessfully)
        {
            await subscribing.Result.DisposeAsync();
        }
        else if (!subscribing.IsCompleted)
        {
            _ = subscribing.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default);
        }
    }
}

/// <summary>Waits for a request to reach a final status: told through Redis, checked in the database.</summary>
internal sealed class FinishSignal : IAsyncDisposable
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QuickSubscription? _subscription;

    public static async Task<FinishSignal> StartAsync(PromptRequestEvents events, Guid id)
    {
        var signal = new FinishSignal();
        signal._subscription = await QuickSubscription.StartAsync(events, id, e =>
        {
            if (e.Type == PromptRequestEvent.StatusType && e.Status is { } status && PromptRequestStatus.IsFinal(status))
            {
                signal._finished.TrySetResult();
            }
            return ValueTask.CompletedTask;
        });
        return signal;
    }

    /// <summary>
    /// True when the job is final within <paramref name="wait"/>. <paramref name="lookFirst"/>: the job may have
    /// ended before the subscription began (it was created first), so the database is read before waiting.
    /// </summary>
    public async Task<bool> WaitAsync(AppDbContext db, Guid jobId, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken, bool lookFirst = false)
    {
        var started = time.GetTimestamp();
        if (lookFirst && JobStatus.IsFinal(await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.Status).FirstAsync(cancellationToken)))
        {
            return true;
        }
        // With Redis the database is a safety net; without it, the only source.
        while (true)
        {
            var poll = _subscription?.IsLive == true ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(250);
            var remaining = wait - time.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.WhenAny(_finished.Task, Task.Delay(remaining < poll ? remaining : poll, time, cancellationToken));
            }
            if (_finished.Task.IsCompleted)
            {
                return true;
            }
            var status = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.Status).FirstAsync(cancellationToken);
            if (JobStatus.IsFinal(status))
            {
                return true;
            }
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }
}

/// <summary>
/// The events of one request as server-sent events: <c>status</c> ({status, attempt}), <c>delta</c>
/// ({attempt, offset, text}: text streamed by that attempt from that offset; a new attempt starts again
/// at 0), <c>result</c> (the request's detail, last), and <c>ping</c> while nothing happens. Redis carries
/// the events; the database is read at the start, when text was missed, and on a slow poll.
/// </summary>
internal sealed class EventStream(Guid id, ClaimsPrincipal principal, PromptRequestReader reader, PromptRequestEvents events, string language, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(15);

    private readonly Channel<PromptRequestEvent> _queue = Channel.CreateUnbounded<PromptRequestEvent>(new UnboundedChannelOptions { SingleReader = true });

    public async IAsyncEnumerable<SseItem<string>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var subscription = await QuickSubscription.StartAsync(events, id, e =>
        {
            _queue.Writer.TryWrite(e);
            return ValueTask.CompletedTask;
        });

        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            yield break;
        }
        var status = row.Status;
        var attempt = row.Job.Attempt;
        var sent = 0;
        yield return Status(status, attempt);
        if (PromptRequestStatus.IsFinal(status))
        {
            yield return await ResultAsync(cancellationToken);
            yield break;
        }
        if (status == PromptRequestStatus.Generating && await PartialAsync(attempt, cancellationToken) is { Length: > 0 } partial)
        {
            yield return Delta(attempt, 0, partial);
            sent = partial.Length;
        }

        var quietSince = time.GetTimestamp();
        var lastPoll = time.GetTimestamp();
        while (true)
        {
            var poll = subscription.IsLive ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1);
            var next = await ReadOrTimeoutAsync(poll, cancellationToken);
            if (next is { Type: PromptRequestEvent.StatusType, Status: { } newStatus })
            {
                if (next.Attempt > attempt)
                {
                    (attempt, sent) = (next.Attempt, 0);
                }
                if (newStatus != status || next.Attempt == attempt)
                {
                    status = newStatus;
                    yield return Status(status, attempt);
                    quietSince = time.GetTimestamp();
                }
                if (PromptRequestStatus.IsFinal(status))
                {
                    yield return await ResultAsync(cancellationToken);
                    yield break;
                }
                continue;
            }
            if (next is { Type: PromptRequestEvent.DeltaType, Offset: { } offset, Text: { } text } && next.Attempt >= attempt)
            {
                if (next.Attempt > attempt)
                {
                    (attempt, sent) = (next.Attempt, 0);
                }
                if (offset > sent)
                {
                    // Text was missed (a message lost while Redis reconnected): catch up from the stored partial.
                    text = await PartialAsync(attempt, cancellationToken) ?? "";
                    offset = 0;
                }
                if (status == PromptRequestStatus.Pending)
                {
                    // Text means the attempt runs, even when its status message was missed (it came before
                    // the subscription did).
                    status = PromptRequestStatus.Generating;
                    yield return Status(status, attempt);
                }
                if (offset + text.Length > sent)
                {
                    yield return Delta(attempt, sent, text[(sent - offset)..]);
                    sent = offset + text.Length;
                    quietSince = time.GetTimestamp();
                }
                continue;
            }
            if (time.GetElapsedTime(lastPoll) >= poll)
            {
                lastPoll = time.GetTimestamp();
                row = await reader.FindAsync(principal, id, cancellationToken);
                if (row is null)
                {
                    yield break;
                }
                if (row.Status != status || row.Job.Attempt != attempt)
                {
                    (status, attempt) = (row.Status, row.Job.Attempt);
                    yield return Status(status, attempt);
                    quietSince = time.GetTimestamp();
                }
                if (PromptRequestStatus.IsFinal(status))
                {
                    yield return await ResultAsync(cancellationToken);
                    yield break;
                }
            }
            if (time.GetElapsedTime(quietSince) >= PingEvery)
            {
                yield return new SseItem<string>("{}", "ping");
                quietSince = time.GetTimestamp();
            }
        }
    }

    private async Task<PromptRequestEvent?> ReadOrTimeoutAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            return await _queue.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<string?> PartialAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await events.ReadPartialAsync(id, attempt, cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            return null;
        }
    }

    private async Task<SseItem<string>> ResultAsync(CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        var detail = await reader.DetailAsync(row!, language, cancellationToken);
        return new SseItem<string>(JsonSerializer.Serialize(detail, Json), "result");
    }

    private static SseItem<string> Status(string status, int attempt) =>
        new(JsonSerializer.Serialize(new { status, attempt }, Json), "status");

    private static SseItem<string> Delta(int attempt, int offset, string text) =>
        new(JsonSerializer.Serialize(new { attempt, offset, text }, Json), "delta");
}
