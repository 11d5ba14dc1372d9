using System.Text.Json;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Studio;

/// <summary>
/// Runs <c>POST /v1/prompt/refine</c> and a conversation message's first step: one structured-output call
/// through the content section's model, held to <see cref="RefineOptions.Schema"/> (the vendor's own JSON
/// Schema mode where the model has it, and checked by our validator whatever it has). For a message, the same
/// completion writes the intent and refined prompt onto it and queues its next step: the image for an image
/// intent, else a text answer.
/// </summary>
public sealed class PromptRefineHandler(
    NpgsqlDataSource dataSource, IServiceScopeFactory scopes, VendorClientFactory vendors, JobEvents events, JobScheduler scheduler,
    IOptions<RefineOptions> refine, TimeProvider time) : VendorJobHandler<PromptRefineHandler.Loaded>(scopes, time)
{
    public const string JobKind = "prompt_refine";

    public override string Kind => JobKind;

    protected override string SectionOf(Loaded request) => Sections.Content;

    protected override async Task<JobOutcome> CallAsync(JobContext context, Loaded request, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        var caller = new AiCaller(request.UserId, request.Role);
        var (target, decision) = (attempt.Target, attempt.Decision);
        var options = refine.Value;
        var schema = options.Schema();
        var chatOptions = StructuredOutput.Request(new ChatOptions
        {
            ModelId = target.ModelId,
            Instructions = options.Instructions(request.Style, request.Topic, request.Lang, request.ImageUrl),
            Temperature = 0.2f,
        }, target, schema, "refinement");
        ChatResponse response;
        using (var client = vendors.CreateChatClient(target))
        {
            response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, request.Prompt)], chatOptions, cancellationToken);
        }
        attempt.Metered = MeteredUsage.From(response.AdditionalProperties);
        var judged = StructuredOutput.Check(response.Text, schema);
        if (!judged.Valid || judged.Json is null)
        {
            // The model broke the schema: another attempt may not; the last one says what was wrong.
            var reason = judged.Errors.Count > 0 ? string.Join("; ", judged.Errors.Take(3)) : "no JSON";
            var error = JobError.Of(ErrorCode.VendorBadOutput, $"The refinement did not satisfy its schema: {reason}.",
                new Dictionary<string, string>(decision.MessageArgs) { ["reason"] = reason });
            return JobOutcome.Retry(error, null, attempt.Usage(UsageStatus.Failed, ErrorCode.VendorBadOutput.Code));
        }
        var result = JsonSerializer.Deserialize<RefineResult>(judged.Json)!;
        var now = Time.GetUtcNow();
        var completed = JobStore.Command("UPDATE studio_requests SET result = $2, processing_ms = $3, completed_at = $4 WHERE id = $1",
            context.Job.SubjectId, JsonSerializer.Serialize(result), (int)attempt.Elapsed.TotalMilliseconds, now);
        completed.Parameters[1].NpgsqlDbType = NpgsqlDbType.Jsonb;
        List<NpgsqlBatchCommand> writes = [completed, attempt.Usage(UsageStatus.Succeeded)];
        if (request.MessageId is { } messageId)
        {
            writes.AddRange(await NextStepAsync(context, caller, request, messageId, result, now, cancellationToken));
        }
        return JobOutcome.Succeed(writes);
    }

    public override IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context) => [StudioSteps.FailMessage(context)];

    public override ValueTask OnStatusChangedAsync(JobContext context, string status, CancellationToken cancellationToken) =>
        StudioSteps.NotifyAsync(dataSource, events, scheduler, context, status, cancellationToken);

    /// <summary>
    /// The message takes its intent and refined prompt, and its next step: the image section's model draws an
    /// image intent, the chat section's answers the rest. The models are the sections' as they are now; a
    /// refusal (no model, no key) is the next step's to report, so it reaches the message like any failure.
    /// </summary>
    private async Task<IEnumerable<NpgsqlBatchCommand>> NextStepAsync(JobContext context, AiCaller caller, Loaded request, Guid messageId, RefineResult result, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var image = refine.Value.IsImageIntent(result.Intent);
        var section = image ? Sections.Image : Sections.Chat;
        AccessDecision decision;
        await using (var scope = Scopes.CreateAsyncScope())
        {
            decision = await scope.ServiceProvider.GetRequiredService<AiAccess>().ForSectionAsync(caller, section, null, null, cancellationToken);
        }
        var next = new StudioNext(Guid.CreateVersion7(now), image ? ImageGenerationHandler.JobKind : ChatReplyHandler.JobKind, request.UserId,
            decision.ProviderId, decision.ModelId, image ? result.RefinedPrompt : request.Prompt, request.Width, request.Height, request.Store,
            request.Lang, request.Style, request.Topic, messageId);
        var message = JobStore.Command("UPDATE thread_messages SET intent = $2, refined_prompt = $3, studio_request_id = $4 WHERE id = $1 AND studio_request_id = $5",
            messageId, result.Intent, result.RefinedPrompt, next.Id, context.Job.SubjectId);
        return [.. StudioSteps.Next(context, next, now), message];
    }

    protected override async Task<Loaded?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.user_id, u.role, u.is_disabled, r.provider_id, r.model_id, r.prompt, r.style, r.topic, r.lang, r.image_url, r.width, r.height, r.store, r.message_id
            FROM studio_requests r JOIN users u ON u.id = r.user_id WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = subjectId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new Loaded(reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
            Text(6), Text(7), Text(8), Text(9), reader.GetInt32(10), reader.GetInt32(11), reader.GetBoolean(12), reader.IsDBNull(13) ? null : reader.GetGuid(13));
    }

    public sealed record Loaded(Guid UserId, string Role, bool UserDisabled, string ProviderId, string ModelId, string Prompt,
        string? Style, string? Topic, string? Lang, string? ImageUrl, int Width, int Height, bool Store, Guid? MessageId) : IVendorJobRequest;
}
