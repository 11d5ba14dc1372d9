using System.Text.Json;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Assistants;

/// <summary>
/// Runs: starting one as a job under the thread's lock (with /chat's message first), reading them as OpenAI shows them,
/// waiting for one, continuing one with its tool outputs, and cancelling one. Threads and messages are <see cref="ThreadStore"/>'s.
/// </summary>
internal sealed class RunStore(AppDbContext db, ThreadStore threads, AiAccess access, JobScheduler scheduler, JobSubmission submission, JobCancellation cancellation, ChargeEstimator charges, IOptions<AssistantOptions> options, TimeProvider time)
{
    /// <summary>The built-in assistant's fixed id (asst_0193a000000070008000000000000001).</summary>
    public static readonly Guid BuiltInAssistant = new("0193a000-0000-7000-8000-000000000001");

    /// <summary>
    /// Starts a run (with the user's message first, for /chat) in one transaction under the thread's row lock,
    /// so two requests never start two runs on one thread; then wakes the Worker.
    /// </summary>
    /// <returns>The run as it was created (queued), not as it is by the time the caller answers: a fast Worker may have claimed it already.</returns>
    public async Task<(RunView? Run, ProblemHttpResult? Refusal)> StartRunAsync(AiCaller caller, Guid threadId, RunCreate request, string? userMessage, CancellationToken cancellationToken,
        IReadOnlyList<(string Role, string Text, Dictionary<string, string>? Metadata)>? additionalMessages = null)
    {
        var assistant = await AssistantForAsync(caller, request.AssistantId, cancellationToken);
        if (assistant is null)
        {
            return (null, ApiProblem.Of(ErrorCode.NotFound, detail: $"No assistant {request.AssistantId} that you may use."));
        }
        var decision = await access.ForSectionAsync(caller, Sections.Chat, assistant.ProviderId, request.Model ?? assistant.ModelId, cancellationToken);
        if (decision.Provider is null || decision.Model is null)
        {
            return (null, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]> { ["model"] = [$"No enabled chat model '{request.Model ?? assistant.ModelId}'."] }));
        }
        if (decision.Outcome.Refusal is { } refusal)
        {
            return (null, ApiProblem.Of(refusal, decision.MessageArgs));
        }
        if (assistant.Tools != "[]" && !decision.Model.Has(Capabilities.Tools))
        {
            return (null, ApiProblem.Of(ErrorCode.ModelLacksCapability, new Dictionary<string, string>(decision.MessageArgs) { ["capability"] = Capabilities.Tools }));
        }

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        // Expected use: the new text and instructions, and the answer's limit (the thread's history is settled at what it used).
        var text = string.Join('\n', [request.Instructions ?? assistant.Instructions, request.AdditionalInstructions, userMessage, .. (additionalMessages ?? []).Select(m => m.Text)]);
        var job = scheduler.Create(AssistantRunHandler.JobKind, id, options.Value.MaxAttempts, charges.For(caller, decision.Model, text, request.MaxCompletionTokens));
        var run = new AssistantRun
        {
            Id = id,
            ThreadId = threadId,
            UserId = caller.UserId,
            AssistantId = assistant.Id,
            JobId = job.Id,
            Status = RunStatus.Queued,
            ProviderId = decision.ProviderId,
            ModelId = decision.ModelId,
            Instructions = request.Instructions ?? assistant.Instructions,
            AdditionalInstructions = request.AdditionalInstructions,
            Tools = assistant.Tools,
            Metadata = JsonSerializer.Serialize(request.Metadata ?? []),
            Temperature = request.Temperature ?? assistant.Temperature,
            TopP = request.TopP ?? assistant.TopP,
            MaxCompletionTokens = request.MaxCompletionTokens,
            MaxPromptTokens = request.MaxPromptTokens,
            LastMessages = request.TruncationStrategy?.Type == "last_messages" ? request.TruncationStrategy.LastMessages : null,
            CreatedAt = now,
        };
        ProblemHttpResult? busy = null;
        var submitted = await submission.SubmitAsync([job], async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            if (await threads.LockAsync(threadId, ct) is { } active)
            {
                busy = ApiProblem.Of(ThreadBusy.Code, active.Args);
                return false;
            }
            await threads.InsertMessagesAsync(threadId, userMessage is null ? additionalMessages ?? [] : [("user", userMessage, null), .. additionalMessages ?? []], now, ct);
            db.Jobs.Add(job);
            db.Runs.Add(run);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken);
        return submitted.Saved ? (new RunView(run, job, now), null) : (null, submitted.Refusal ?? busy);
    }

    public async Task<RunView?> FindRunAsync(Guid userId, Guid threadId, Guid runId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await db.Runs.AsNoTracking().Where(r => r.Id == runId && r.ThreadId == threadId && r.UserId == userId)
            .Join(db.Jobs.AsNoTracking(), r => r.JobId, j => j.Id, (r, j) => new RunView(r, j, now))
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<List<RunView>> ListRunsAsync(Guid userId, Guid threadId, int take, bool ascending, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var runs = db.Runs.AsNoTracking().Where(r => r.ThreadId == threadId && r.UserId == userId);
        runs = ascending ? runs.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id) : runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id);
        return await runs.Take(take).Join(db.Jobs.AsNoTracking(), r => r.JobId, j => j.Id, (r, j) => new RunView(r, j, now)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Waits until the run's job ends or <paramref name="wait"/> passes: told through Redis by the Worker's status
    /// events, with the database read first and as a slow safety net.
    /// </summary>
    public async Task<RunView?> WaitAsync(Guid userId, AssistantRun run, TimeSpan wait, JobEvents events, CancellationToken cancellationToken)
    {
        await using (var finished = await JobWaiter.StartAsync(events, run.JobId))
        {
            await finished.WaitAsync(db, wait, time, cancellationToken, lookFirst: true);
        }
        return await FindRunAsync(userId, run.ThreadId, run.Id, cancellationToken);
    }

    /// <summary>
    /// The outputs for a run that requires action: every call answered, before the run expires. The run goes
    /// on as a new job, with this round of calls and outputs as its context.
    /// </summary>
    /// <returns>The run as this call left it (queued again, with the new job), or why not.</returns>
    public async Task<(RunView? Run, ProblemHttpResult? Refusal)> SubmitToolOutputsAsync(AiCaller caller, RunView run, IReadOnlyList<(string CallId, string Output)> outputs, CancellationToken cancellationToken)
    {
        if (run.Status == RunStatus.Expired)
        {
            return (null, ApiProblem.Of(ErrorCode.BadRequest, detail: $"Run {OpenAIIds.Of(OpenAIIds.Run, run.Run.Id)} expired: its tool outputs were due by {run.Run.ExpiresAt:O}."));
        }
        if (run.Status != RunStatus.RequiresAction)
        {
            return (null, ApiProblem.Of(ErrorCode.BadRequest, detail: $"Run {OpenAIIds.Of(OpenAIIds.Run, run.Run.Id)} is {run.Status}; it is not waiting for tool outputs."));
        }
        var expected = ToolRounds.Pending(run.Run.RequiredAction).Select(c => c.Id).ToList();
        var given = outputs.Select(o => o.CallId).ToList();
        if (!expected.Order(StringComparer.Ordinal).SequenceEqual(given.Order(StringComparer.Ordinal)))
        {
            return (null, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]>
            {
                ["tool_outputs"] = [$"One output for each tool call, no more: {string.Join(", ", expected)}."],
            }));
        }
        var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.ProviderId == run.Run.ProviderId && m.ModelId == run.Run.ModelId, cancellationToken);
        var job = scheduler.Create(AssistantRunHandler.JobKind, run.Run.Id, options.Value.MaxAttempts,
            charges.For(caller, model, string.Join('\n', outputs.Select(o => o.Output)), run.Run.MaxCompletionTokens));
        var now = time.GetUtcNow();
        var rounds = ToolRounds.Append(run.Run.ToolRounds, run.Run.RequiredAction!, outputs, run.Run.ExpiresAt!.Value - ToolRounds.OutputsWindow, now);
        var runId = run.Run.Id;
        var submitted = await submission.SubmitAsync([job], async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
            var updated = await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.RequiresAction && r.JobId == run.Job.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Queued).SetProperty(r => r.JobId, job.Id).SetProperty(r => r.ToolRounds, rounds)
                    .SetProperty(r => r.RequiredAction, (string?)null).SetProperty(r => r.ExpiresAt, (DateTimeOffset?)null), ct);
            if (updated == 0)
            {
                return false; // rolled back with the job
            }
            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken);
        if (!submitted.Saved)
        {
            return (null, submitted.Refusal ?? ApiProblem.Of(ErrorCode.Conflict, detail: "The outputs of this run were submitted meanwhile."));
        }
        var queued = run.Run;
        (queued.Status, queued.JobId, queued.ToolRounds, queued.RequiredAction, queued.ExpiresAt) = (RunStatus.Queued, job.Id, rounds, null, null);
        return (new RunView(queued, job, now), null);
    }

    /// <summary>A queued run is cancelled at once; a running one is told to stop (the Worker aborts the vendor call).</summary>
    public Task CancelAsync(RunView run, CancellationToken cancellationToken) => cancellation.CancelAsync(run.Job.Id, cancellationToken);

    /// <summary>The assistant named (one of mine or a shared one), else the configured default, else the built-in one.</summary>
    private async Task<Assistant?> AssistantForAsync(AiCaller caller, string? named, CancellationToken cancellationToken)
    {
        var wanted = named ?? options.Value.DefaultAssistantId;
        if (wanted is not null)
        {
            return OpenAIIds.TryParse(OpenAIIds.Assistant, wanted, out var id)
                ? await db.Assistants.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id && (a.Shared || a.OwnerUserId == caller.UserId), cancellationToken)
                : null;
        }
        var instructions = options.Value.DefaultInstructions;
        // Read first: the row is written only the first time, or when the configured instructions change.
        if (await db.Assistants.AsNoTracking().FirstOrDefaultAsync(a => a.Id == BuiltInAssistant, cancellationToken) is { } builtIn && builtIn.Instructions == instructions)
        {
            return builtIn;
        }
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO assistants (id, shared, name, instructions, created_at)
            VALUES ({BuiltInAssistant}, true, 'Default assistant', {instructions}, {time.GetUtcNow()})
            ON CONFLICT (id) DO UPDATE SET instructions = EXCLUDED.instructions WHERE assistants.instructions IS DISTINCT FROM EXCLUDED.instructions
            """, cancellationToken);
        return await db.Assistants.AsNoTracking().FirstAsync(a => a.Id == BuiltInAssistant, cancellationToken);
    }

    /// <summary>A run's one answer: its message has the run's id.</summary>
    public Task<ThreadMessage?> AnswerOfAsync(Guid runId, CancellationToken cancellationToken) =>
        db.ThreadMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == runId, cancellationToken);
}
