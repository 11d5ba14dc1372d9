using System.Text.Json;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.PromptRequests;
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

public sealed class AssistantOptions
{
    public const string Section = "Assistants";

    /// <summary>The assistant for /chat and for runs that name none (the Korean document's ASSISTANT_ID); unset: the built-in one.</summary>
    public string? DefaultAssistantId { get; set; }

    /// <summary>The built-in assistant's instructions: the document's digital-signage data analyst.</summary>
    public string DefaultInstructions { get; set; } =
        "You are a data analyst for digital signage. Answer questions about displays, content, schedules and audience data " +
        "clearly and briefly; when the message carries JSON data, analyse it and say what it shows.";

    /// <summary>How long POST /api/v1/chat waits for the answer before it says how to poll.</summary>
    public TimeSpan ChatWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest message accepted, in characters.</summary>
    public int MaxMessageLength { get; set; } = 100_000;

    public int MaxAttempts { get; set; } = 5;
}

/// <summary>A run with its job: the status OpenAI names, its timestamps and its error.</summary>
internal sealed record RunView(AssistantRun Run, Job Job, DateTimeOffset Now)
{
    public string Status => RunStatus.Of(Run.Status, Job.Status, Job.CancelRequested, Run.ExpiresAt, Now);

    /// <summary>The run as OpenAI shows it; a stream may name the status it announces (in_progress before the row says so).</summary>
    public RunObject View(string? announced = null)
    {
        var status = announced ?? Status;
        static long? Unix(DateTimeOffset? at) => at?.ToUnixTimeSeconds();
        return new RunObject(
            OpenAIIds.Of(OpenAIIds.Run, Run.Id), "thread.run", Run.CreatedAt.ToUnixTimeSeconds(), OpenAIIds.Of(OpenAIIds.Assistant, Run.AssistantId),
            OpenAIIds.Of(OpenAIIds.Thread, Run.ThreadId), status,
            StartedAt: Unix(Job.StartedAt), ExpiresAt: status is RunStatus.RequiresAction or RunStatus.Expired ? Unix(Run.ExpiresAt) : null,
            CancelledAt: status == RunStatus.Cancelled ? Unix(Job.FinishedAt) : null,
            FailedAt: status == RunStatus.Failed ? Unix(Job.FinishedAt) : null,
            CompletedAt: status is RunStatus.Completed or RunStatus.Incomplete ? Unix(Run.CompletedAt) : null,
            RequiredAction: status == RunStatus.RequiresAction && Run.RequiredAction is { } action ? JsonDocument.Parse(action).RootElement.Clone() : null,
            LastError: status == RunStatus.Failed
                ? new RunError(Job.LastErrorCode is "vendor_rate_limited" ? "rate_limit_exceeded" : "server_error", Job.LastErrorMessage ?? Job.LastErrorCode ?? "The run failed.")
                : null,
            IncompleteDetails: status == RunStatus.Incomplete ? new RunIncomplete("max_completion_tokens") : null,
            Model: Run.ModelId, Instructions: Run.Instructions ?? "",
            Tools: JsonSerializer.Deserialize<List<JsonElement>>(Run.Tools) ?? [],
            Metadata: JsonSerializer.Deserialize<Dictionary<string, string>>(Run.Metadata) ?? [],
            Usage: Run.PromptTokens is { } prompt ? new RunUsage(prompt, Run.CompletionTokens ?? 0, prompt + (Run.CompletionTokens ?? 0)) : null,
            Temperature: Run.Temperature, TopP: Run.TopP, MaxPromptTokens: Run.MaxPromptTokens, MaxCompletionTokens: Run.MaxCompletionTokens,
            TruncationStrategy: Run.LastMessages is { } last ? new TruncationStrategy("last_messages", last) : new TruncationStrategy("auto", null), ResponseFormat: "auto", ToolChoice: "auto", ParallelToolCalls: true);
    }

    public string? ErrorCode => Job.LastErrorCode;

    public IReadOnlyDictionary<string, string>? ErrorArgs =>
        Job.LastErrorArgs is { } args ? JsonSerializer.Deserialize<Dictionary<string, string>>(args) : null;
}

/// <summary>Threads, messages and runs for the API: checks, the one-active-run rule, and starting a run as a job.</summary>
internal sealed class ThreadStore(AppDbContext db, AiAccess access, JobScheduler scheduler, JobSubmission submission, JobCancellation cancellation, ChargeEstimator charges, IOptions<AssistantOptions> options, TimeProvider time)
{
    /// <summary>The built-in assistant's fixed id (asst_0193a000000070008000000000000001).</summary>
    public static readonly Guid BuiltInAssistant = new("0193a000-0000-7000-8000-000000000001");

    private const int MaxMetadataPairs = 16;
    private const int MaxMetadataKey = 64;
    private const int MaxMetadataValue = 512;

    // ---------------------------------------------------------------- checks

    public static string CheckText(string? text, AssistantOptions options, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors[field] = ["A message is required."];
            return "";
        }
        if (TextLength.Of(text) > options.MaxMessageLength)
        {
            errors[field] = [$"The message is longer than {options.MaxMessageLength} characters."];
        }
        return text;
    }

    /// <summary>A string, or a list of <c>{"type": "text", "text": "…"}</c> parts (joined with new lines).</summary>
    public static string CheckContent(JsonElement? content, AssistantOptions options, string field, Dictionary<string, string[]> errors)
    {
        switch (content)
        {
            case { ValueKind: JsonValueKind.String } text:
                return CheckText(text.GetString(), options, field, errors);
            case { ValueKind: JsonValueKind.Array } parts:
                var texts = new List<string>();
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text")
                        || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                    {
                        errors[field] = ["Each content part must be {\"type\": \"text\", \"text\": \"…\"}: images and files are not supported."];
                        return "";
                    }
                    texts.Add(value.GetString()!);
                }
                return CheckText(string.Join("\n", texts), options, field, errors);
            default:
                errors[field] = ["The content is required: a string, or a list of text parts."];
                return "";
        }
    }

    public static string CheckRole(string? role, string field, Dictionary<string, string[]> errors, bool allowAssistant)
    {
        if (role is "user" || (allowAssistant && role is "assistant"))
        {
            return role;
        }
        errors[field] = [allowAssistant ? "The role must be 'user' or 'assistant'." : "The role must be 'user'."];
        return "user";
    }

    /// <summary>As OpenAI has them: at most 16 pairs, keys up to 64 characters, values up to 512.</summary>
    public static void CheckMetadata(Dictionary<string, string>? metadata, string field, Dictionary<string, string[]> errors)
    {
        if (metadata is null)
        {
            return;
        }
        if (metadata.Count > MaxMetadataPairs)
        {
            errors[field] = [$"At most {MaxMetadataPairs} pairs."];
        }
        else if (metadata.Keys.FirstOrDefault(k => k.Length == 0 || TextLength.Of(k) > MaxMetadataKey) is { } key)
        {
            errors[field] = [$"A key must have 1 to {MaxMetadataKey} characters: '{key}'."];
        }
        else if (metadata.FirstOrDefault(p => p.Value is null || TextLength.Of(p.Value) > MaxMetadataValue) is { Key: { } bad })
        {
            errors[field] = [$"The value of '{bad}' must be a string of at most {MaxMetadataValue} characters."];
        }
    }

    public static (int Limit, bool Ascending) CheckPage(int? limit, string? order, Dictionary<string, string[]> errors)
    {
        if (limit is < 1 or > 100)
        {
            errors["limit"] = ["The limit must be between 1 and 100."];
        }
        if (order is not (null or "asc" or "desc"))
        {
            errors["order"] = ["The order must be 'asc' or 'desc'."];
        }
        return (limit ?? 20, order == "asc");
    }

    /// <summary>Messages given with a thread or a run: each a role, content and metadata, checked in place.</summary>
    public static List<(string Role, string Text, Dictionary<string, string>? Metadata)> CheckMessages(
        IEnumerable<MessageCreate>? messages, string field, AssistantOptions options, Dictionary<string, string[]> errors)
    {
        var checkedMessages = new List<(string, string, Dictionary<string, string>?)>();
        foreach (var (message, index) in (messages ?? []).Select((m, i) => (m, i)))
        {
            var at = $"{field}[{index}]";
            var role = CheckRole(message.Role, $"{at}.role", errors, allowAssistant: true);
            var text = CheckContent(message.Content, options, $"{at}.content", errors);
            CheckMetadata(message.Metadata, $"{at}.metadata", errors);
            checkedMessages.Add((role, text, message.Metadata));
        }
        return checkedMessages;
    }

    public static void CheckRun(RunCreate run, Dictionary<string, string[]> errors)
    {
        if (run.AssistantId is { } id && !OpenAIIds.TryParse(OpenAIIds.Assistant, id, out _))
        {
            errors["assistant_id"] = ["Not an assistant id (asst_…)."];
        }
        if (run.Temperature is { } temperature && !(temperature >= 0 && temperature <= 2)) // NaN too
        {
            errors["temperature"] = ["The temperature must be between 0 and 2."];
        }
        if (run.TopP is { } topP && !(topP >= 0 && topP <= 1))
        {
            errors["top_p"] = ["top_p must be between 0 and 1."];
        }
        if (run.MaxCompletionTokens is < 16)
        {
            errors["max_completion_tokens"] = ["max_completion_tokens must be at least 16."];
        }
        if (run.MaxPromptTokens is < 256)
        {
            errors["max_prompt_tokens"] = ["max_prompt_tokens must be at least 256."];
        }
        switch (run.TruncationStrategy)
        {
            case null or { Type: "auto", LastMessages: null }:
                break;
            case { Type: "last_messages", LastMessages: >= 1 }:
                break;
            default:
                errors["truncation_strategy"] = ["The type is 'auto', or 'last_messages' with last_messages of at least 1."];
                break;
        }
        if (run.Instructions is { Length: > 256_000 } || run.AdditionalInstructions is { Length: > 256_000 })
        {
            errors[run.Instructions is { Length: > 256_000 } ? "instructions" : "additional_instructions"] = ["At most 256000 characters."];
        }
        CheckMetadata(run.Metadata, "metadata", errors);
    }

    // ---------------------------------------------------------------- views

    public static ThreadObject View(AssistantThread thread) => new(
        OpenAIIds.Of(OpenAIIds.Thread, thread.Id), "thread", thread.CreatedAt.ToUnixTimeSeconds(),
        JsonSerializer.Deserialize<Dictionary<string, string>>(thread.Metadata) ?? [], []);

    public static MessageObject View(ThreadMessage message) => new(
        OpenAIIds.Of(OpenAIIds.Message, message.Id), "thread.message", message.CreatedAt.ToUnixTimeSeconds(), OpenAIIds.Of(OpenAIIds.Thread, message.ThreadId),
        message.Role, [new MessageContent("text", new MessageText(message.Text, []))],
        message.AssistantId is { } assistant ? OpenAIIds.Of(OpenAIIds.Assistant, assistant) : null,
        message.RunId is { } run ? OpenAIIds.Of(OpenAIIds.Run, run) : null,
        [], JsonSerializer.Deserialize<Dictionary<string, string>>(message.Metadata) ?? [], "completed", message.CreatedAt.ToUnixTimeSeconds());

    public static ListObject<T> List<T>(IReadOnlyList<T> items, bool more, Func<T, string> id) =>
        new("list", items, items.Count > 0 ? id(items[0]) : null, items.Count > 0 ? id(items[^1]) : null, more);

    // ---------------------------------------------------------------- threads and messages

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
    public async Task<(ThreadMessage? Message, ProblemHttpResult? Refusal)> AddMessageAsync(Guid threadId, string role, string text, Dictionary<string, string>? metadata, CancellationToken cancellationToken,
        Func<ThreadMessage, CancellationToken, Task>? alongside = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockAndFindActiveRunAsync(threadId, cancellationToken) is { } active)
        {
            return (null, Busy(threadId, active));
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
    public async Task<(bool Deleted, ProblemHttpResult? Refusal)> DeleteMessageAsync(Guid threadId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LockAndFindActiveRunAsync(threadId, cancellationToken) is { } active)
        {
            return (false, Busy(threadId, active));
        }
        var deleted = await db.ThreadMessages.Where(m => m.Id == messageId && m.ThreadId == threadId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (deleted > 0, null);
    }

    /// <summary>A run's one answer: its message has the run's id.</summary>
    public Task<ThreadMessage?> AnswerOfAsync(Guid runId, CancellationToken cancellationToken) =>
        db.ThreadMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == runId, cancellationToken);

    /// <summary>Messages in the order given, in one statement: seq is assigned as rows are inserted, in ordinality order.</summary>
    private async Task InsertMessagesAsync(Guid threadId, IReadOnlyList<(string Role, string Text, Dictionary<string, string>? Metadata)> messages, DateTimeOffset now, CancellationToken cancellationToken)
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

    // ---------------------------------------------------------------- runs

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
            if (await LockAndFindActiveRunAsync(threadId, ct) is { } active)
            {
                busy = Busy(threadId, active);
                return false;
            }
            await InsertMessagesAsync(threadId, userMessage is null ? additionalMessages ?? [] : [("user", userMessage, null), .. additionalMessages ?? []], now, ct);
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

    private async Task<Guid?> LockAndFindActiveRunAsync(Guid threadId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM assistant_threads WHERE id = {threadId} FOR UPDATE", cancellationToken);
        var now = time.GetUtcNow();
        return await db.Runs.Where(r => r.ThreadId == threadId && (r.Status == RunStatus.Queued || (r.Status == RunStatus.RequiresAction && r.ExpiresAt > now)))
            .Join(db.Jobs, r => r.JobId, j => j.Id, (r, j) => new { r.Id, RunStatus = r.Status, j.Status })
            .Where(x => x.RunStatus == RunStatus.RequiresAction || x.Status == JobStatus.Queued || x.Status == JobStatus.Running)
            .Select(x => (Guid?)x.Id).FirstOrDefaultAsync(cancellationToken);
    }

    private static ProblemHttpResult Busy(Guid threadId, Guid runId) => ApiProblem.Of(ErrorCode.ThreadRunActive, new Dictionary<string, string>
    {
        ["thread"] = OpenAIIds.Of(OpenAIIds.Thread, threadId),
        ["run"] = OpenAIIds.Of(OpenAIIds.Run, runId),
    });

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
}
