using System.Text;
using System.Text.Json;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiPrompts.Core.PromptRequests;

/// <summary>
/// Runs a prompt request: resolves the key again (it may have changed since submit), streams the answer
/// from the vendor while publishing the text, and writes the response and the usage row with the job's
/// completion. Requests that are not stored leave their text in Redis only.
/// </summary>
public sealed partial class PromptRequestHandler(
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    VendorClientFactory vendors,
    PromptTypes promptTypes,
    JobEvents events,
    RetainedTexts retained,
    IOptions<PromptRequestOptions> options,
    TimeProvider time,
    ILogger<PromptRequestHandler> logger) : VendorJobHandler<PromptRequestHandler.LoadedRequest>(scopes, time)
{
    public const string JobKind = "prompt_request";

    public override string Kind => JobKind;

    protected override string SectionOf(LoadedRequest request) => request.Section;

    protected override string? PurposeOf(LoadedRequest request) => request.Purpose;

    protected override async Task<JobOutcome> CallAsync(JobContext context, LoadedRequest request, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        if (request.PromptText is null)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.InternalError, "The prompt text is gone."));
        }
        var target = attempt.Target;
        // A prompt rendered from a template is complete as it is; the built-in types add their instructions.
        var instructions = request.TemplateVersion is null ? promptTypes.Find(request.PromptType)?.Instructions : null;
        List<ChatMessage> messages = instructions is null
            ? [new(ChatRole.User, request.PromptText)]
            : [new(ChatRole.System, instructions), new(ChatRole.User, request.PromptText)];
        var text = new StringBuilder();
        var stream = new JobTextPublisher(events, context, options.Value.DeltaInterval, Time);
        ChatFinishReason? finish = null;
        using (var client = vendors.CreateChatClient(target))
        {
            var chatOptions = new ChatOptions { ModelId = target.ModelId };
            if (request is { Sandbox: true, OutputSchema: { } schema })
            {
                // A sandbox run asks for the type's output schema, so that its answer can be judged and kept.
                chatOptions = StructuredOutput.Request(chatOptions, target, JsonDocument.Parse(schema).RootElement.Clone());
            }
            await foreach (var update in client.GetStreamingResponseAsync(messages, chatOptions, cancellationToken))
            {
                if (update.Text is { Length: > 0 } piece)
                {
                    text.Append(piece);
                    await stream.AddAsync(piece, cancellationToken);
                }
                finish ??= update.FinishReason;
                attempt.Metered = MeteredUsage.From(update.AdditionalProperties) ?? attempt.Metered;
            }
            await stream.FlushAsync(cancellationToken);
        }

        var responseText = text.ToString();
        if (!request.Store)
        {
            await RetainAsync(context.Job.SubjectId, request.PromptText, responseText);
        }
        var now = Time.GetUtcNow();
        var usage = attempt.Metered;
        var response = JobStore.Command("""
            INSERT INTO prompt_responses (id, prompt_request_id, response_text, finish_reason, input_tokens, output_tokens, cost, duration_ms, attempt, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            Guid.CreateVersion7(now), context.Job.SubjectId, request.Store ? responseText : null, finish?.Value,
            usage?.InputTokens ?? 0L, usage?.OutputTokens ?? 0L, usage?.Cost, Milliseconds(usage?.Duration ?? attempt.Elapsed), context.Attempt, now);
        response.Parameters[2].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        response.Parameters[3].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        response.Parameters[6].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Numeric;
        var succeeded = attempt.Usage(UsageStatus.Succeeded);
        return request is { Sandbox: true, TemplateVersion: { } version }
            && SandboxOutput.Judge(responseText, request.OutputSchema) is { Valid: true, Json: { } result }
            ? JobOutcome.Succeed(response, succeeded, StoreTestResult(request.PromptType, version, result, now))
            : JobOutcome.Succeed(response, succeeded);
    }

    /// <summary>A sandbox run whose output satisfies the type's schema becomes the version's last test result.</summary>
    private static NpgsqlBatchCommand StoreTestResult(string promptType, int version, string resultJson, DateTimeOffset now)
    {
        var command = JobStore.Command(
            "UPDATE prompt_template_versions SET test_result_json = $3::jsonb, last_tested_at = $4 WHERE prompt_type = $1 AND version_number = $2",
            promptType, version, resultJson, now);
        command.Parameters[2].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        return command;
    }

    /// <summary>When the job ends, however it ends, the text of a request that is not stored leaves Postgres.</summary>
    public override IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context)
    {
        yield return ForgetText(context.Job.SubjectId);
    }

    public static NpgsqlBatchCommand ForgetText(Guid requestId) =>
        JobStore.Command("UPDATE prompt_requests SET prompt_text = NULL WHERE id = $1 AND NOT store AND prompt_text IS NOT NULL", requestId);

    private async Task RetainAsync(Guid id, string promptText, string responseText)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await retained.RetainAsync(id, promptText, responseText, timeout.Token);
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is OperationCanceledException)
        {
            LogNotRetained(logger, id, ex.Message);
        }
    }

    private static int Milliseconds(TimeSpan duration) => (int)Math.Min(int.MaxValue, Math.Round(duration.TotalMilliseconds));

    protected override async Task<LoadedRequest?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.user_id, u.role, u.is_disabled, r.prompt_type, r.section, r.provider_id, r.model_id, r.prompt_text, r.store,
                   r.template_version, r.sandbox, t.output_schema::text, r.purpose_code
            FROM prompt_requests r JOIN users u ON u.id = r.user_id
            LEFT JOIN prompt_templates t ON r.sandbox AND t.prompt_type = r.prompt_type
            WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = subjectId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new LoadedRequest(
            reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetBoolean(8),
            reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetBoolean(10), reader.IsDBNull(11) ? null : reader.GetString(11),
            reader.IsDBNull(12) ? null : reader.GetString(12));
    }

    public sealed record LoadedRequest(
        Guid UserId, string Role, bool UserDisabled, string PromptType, string Section, string ProviderId, string ModelId, string? PromptText, bool Store,
        int? TemplateVersion, bool Sandbox, string? OutputSchema, string? Purpose) : IVendorJobRequest;

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "The answer of prompt request {RequestId} (store: false) could not be kept in Redis: {Reason}")]
    private static partial void LogNotRetained(ILogger logger, Guid requestId, string reason);
}
