using System.Text;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Assistants;

/// <summary>
/// Runs an assistant on a thread: the key is resolved again for the thread's owner, the thread's messages
/// (the most recent that fit the model's context) go to the model with the assistant's instructions, and
/// the answer is written as the thread's next message with the run's completion and its usage row, in the
/// job's fenced transaction, so a Worker killed mid-run leaves nothing and the rescue writes it once.
/// </summary>
public sealed class AssistantRunHandler(
    NpgsqlDataSource dataSource, IServiceScopeFactory scopes, VendorClientFactory vendors, JobEvents events,
    IOptions<PromptRequestOptions> options, TimeProvider time) : VendorJobHandler<AssistantRunHandler.LoadedRun>(scopes, time)
{
    public const string JobKind = "assistant_run";

    /// <summary>The answer's room when the run sets no max_completion_tokens.</summary>
    private const int DefaultCompletionBudget = 4096;

    public override string Kind => JobKind;

    protected override string SectionOf(LoadedRun request) => Sections.Chat;

    protected override async Task<JobOutcome> CallAsync(JobContext context, LoadedRun run, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        var target = attempt.Target;
        var contextSize = attempt.Decision.Model?.ContextSize;

        var instructions = string.Join("\n\n", new[] { run.Instructions, run.AdditionalInstructions }.Where(i => !string.IsNullOrWhiteSpace(i)));
        var budget = (contextSize ?? 32_768) - (run.MaxCompletionTokens ?? DefaultCompletionBudget) - LocalChatClient.EstimateTokens(instructions);
        if (run.MaxPromptTokens is { } maxPrompt)
        {
            budget = Math.Min(budget, maxPrompt - LocalChatClient.EstimateTokens(instructions));
        }
        var history = await HistoryAsync(run.ThreadId, Math.Max(budget, 256), run.LastMessages ?? 1000, cancellationToken);
        history.AddRange(ToolRounds.Messages(run.ToolRounds));
        var chatOptions = new ChatOptions
        {
            ModelId = target.ModelId,
            Instructions = instructions.Length == 0 ? null : instructions,
            Temperature = run.Temperature,
            TopP = run.TopP,
            MaxOutputTokens = run.MaxCompletionTokens,
            Tools = ToolRounds.Declarations(run.Tools),
        };
        List<FunctionCallContent> calls = [];

        var text = new StringBuilder();
        var stream = new JobTextPublisher(events, context, options.Value.DeltaInterval, Time);
        ChatFinishReason? finish = null;
        using (var client = vendors.CreateChatClient(target))
        {
            await foreach (var update in client.GetStreamingResponseAsync(history, chatOptions, cancellationToken))
            {
                if (update.Text is { Length: > 0 } piece)
                {
                    text.Append(piece);
                    await stream.AddAsync(piece, cancellationToken);
                }
                calls.AddRange(update.Contents.OfType<FunctionCallContent>());
                finish ??= update.FinishReason;
                attempt.Metered = MeteredUsage.From(update.AdditionalProperties) ?? attempt.Metered;
            }
            await stream.FlushAsync(cancellationToken);
        }

        var now = Time.GetUtcNow();
        var usage = attempt.Metered;
        if (calls.Count > 0)
        {
            // The model wants the caller's tools: the run waits for their outputs (submit_tool_outputs) until it expires.
            var waiting = JobStore.Command("""
                UPDATE assistant_runs SET status = 'requires_action', required_action = $2::jsonb, expires_at = $3,
                       prompt_tokens = coalesce(prompt_tokens, 0) + $4, completion_tokens = coalesce(completion_tokens, 0) + $5
                WHERE id = $1
                """, context.Job.SubjectId, ToolRounds.RequiredAction(calls), now + ToolRounds.OutputsWindow, usage?.InputTokens ?? 0L, usage?.OutputTokens ?? 0L);
            waiting.Parameters[1].NpgsqlDbType = NpgsqlDbType.Text;
            return JobOutcome.Succeed(waiting, attempt.Usage(UsageStatus.Succeeded));
        }
        // The run's one answer: its message has the run's id, so a stream names it before it is written.
        var message = JobStore.Command("""
            INSERT INTO thread_messages (id, thread_id, role, text, assistant_id, run_id, metadata, created_at)
            VALUES ($1, $2, 'assistant', $3, $4, $5, '{}'::jsonb, $6)
            """, context.Job.SubjectId, run.ThreadId, text.ToString(), run.AssistantId, context.Job.SubjectId, now);
        var completed = JobStore.Command("""
            UPDATE assistant_runs SET status = $2, completed_at = $3, required_action = NULL,
                   prompt_tokens = coalesce(prompt_tokens, 0) + $4, completion_tokens = coalesce(completion_tokens, 0) + $5
            WHERE id = $1
            """, context.Job.SubjectId, finish == ChatFinishReason.Length ? RunStatus.Incomplete : RunStatus.Completed, now,
            usage?.InputTokens ?? 0L, usage?.OutputTokens ?? 0L);
        return JobOutcome.Succeed(message, completed, attempt.Usage(UsageStatus.Succeeded));
    }

    /// <summary>
    /// The thread's most recent messages (at most <paramref name="lastMessages"/>, OpenAI's last_messages) whose
    /// estimated tokens fit <paramref name="budget"/>, oldest first (its "auto" truncation).
    /// </summary>
    private async Task<List<ChatMessage>> HistoryAsync(Guid threadId, long budget, int lastMessages, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT role, text FROM thread_messages WHERE thread_id = $1 ORDER BY seq DESC LIMIT $2");
        command.Parameters.Add(new() { Value = threadId });
        command.Parameters.Add(new() { Value = Math.Clamp(lastMessages, 1, 1000) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var newestFirst = new List<ChatMessage>();
        long used = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var text = reader.GetString(1);
            used += LocalChatClient.EstimateTokens(text) + 4;
            if (used > budget && newestFirst.Count > 0)
            {
                break;
            }
            newestFirst.Add(new ChatMessage(reader.GetString(0) == "assistant" ? ChatRole.Assistant : ChatRole.User, text));
        }
        newestFirst.Reverse();
        return newestFirst;
    }

    protected override async Task<LoadedRun?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.thread_id, r.user_id, u.role, u.is_disabled, r.assistant_id, r.provider_id, r.model_id,
                   r.instructions, r.additional_instructions, r.temperature, r.top_p, r.max_completion_tokens, r.tools::text, r.tool_rounds::text, r.max_prompt_tokens, r.last_messages
            FROM assistant_runs r JOIN users u ON u.id = r.user_id
            WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = subjectId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new LoadedRun(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetBoolean(3), reader.GetGuid(4), reader.GetString(5), reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.IsDBNull(9) ? null : reader.GetFloat(9), reader.IsDBNull(10) ? null : reader.GetFloat(10), reader.IsDBNull(11) ? null : reader.GetInt32(11),
            reader.GetString(12), reader.IsDBNull(13) ? null : reader.GetString(13),
            reader.IsDBNull(14) ? null : reader.GetInt32(14), reader.IsDBNull(15) ? null : reader.GetInt32(15));
    }

    public sealed record LoadedRun(Guid ThreadId, Guid UserId, string Role, bool UserDisabled, Guid AssistantId, string ProviderId, string ModelId,
        string? Instructions, string? AdditionalInstructions, float? Temperature, float? TopP, int? MaxCompletionTokens, string Tools, string? ToolRounds,
        int? MaxPromptTokens, int? LastMessages) : IVendorJobRequest;
}
