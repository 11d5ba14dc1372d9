using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// A background response (<c>POST /openai/v1/responses</c> with <c>background: true</c>) on the job engine: the request
/// as it was stored, the context as it was when it was asked, streamed from the vendor into the response's event log
/// (<see cref="ResponseEventLog"/>) as <see cref="ResponseEvents"/>, then the response written whole, with its
/// conversation's new items and the attempt's usage row, in the job's fenced completion. A retry (a vendor's transient
/// failure, a Worker that died) goes on numbering the same stream: its output items are new ones. A job that fails or is
/// cancelled leaves the response <c>failed</c> or <c>cancelled</c>; the Api tells why from the job.
/// </summary>
public sealed class BackgroundResponseHandler(NpgsqlDataSource dataSource, IServiceScopeFactory scopes, VendorClientFactory vendors, ResponseEventLog log, TimeProvider time)
    : VendorJobHandler<BackgroundResponseHandler.Loaded>(scopes, time)
{
    public const string JobKind = "gateway_response";

    public override string Kind => JobKind;

    /// <summary>A background response's id: its job's subject, in OpenAI's form.</summary>
    public static string ResponseId(Guid subjectId) => $"resp_{subjectId:N}";

    protected override string SectionOf(Loaded request) => Sections.Chat;

    protected override string? PurposeOf(Loaded request) => request.Purpose;

    protected override async Task<JobOutcome> CallAsync(JobContext context, Loaded request, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        if (request is not { Request: { } stored, RunContext: { } runContext })
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.NotFound, "The response's request is gone."));
        }
        var errors = new Dictionary<string, string[]>();
        using var document = JsonDocument.Parse(stored);
        if (ResponseInput.From(document.RootElement, ResponseWriter.NewId, errors) is not { } parsed)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.InternalError, $"The stored request does not read as a response request: {string.Join(", ", errors.Keys)}."));
        }
        var input = parsed with { Items = JsonNode.Parse(request.InputItems)!.AsArray() };
        var options = input.Options;
        options.Instructions = input.Instructions;
        options.ModelId = attempt.Target.ModelId;
        var messages = ResponseInput.Messages(JsonNode.Parse(runContext)!.AsArray()).ToList();
        var id = ResponseId(context.Job.SubjectId);
        var model = ModelIds.Of(request.ProviderId, request.ModelId);

        var writer = await EventWriter.StartAsync(log, id, context, cancellationToken);
        var events = new ResponseEvents(writer.AppendAsync, writer.First);
        if (writer.First == 0)
        {
            await events.StartAsync(ResponseWriter.Response(id, request.Created, "in_progress", model, input, input.Instructions, null, null, null, input.Prompt, request.TemplateVersion), cancellationToken);
        }
        var calls = new List<FunctionCallContent>();
        ChatFinishReason? finish = null;
        using (var client = vendors.CreateChatClient(attempt.Target))
        {
            await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                attempt.Metered = MeteredUsage.From(update.AdditionalProperties) ?? attempt.Metered;
                finish = update.FinishReason ?? finish;
                calls.AddRange(update.Contents.OfType<FunctionCallContent>());
                if (update.Text is { Length: > 0 } delta)
                {
                    await events.TextAsync(delta, () => ResponseWriter.NewId("msg"), cancellationToken);
                }
            }
        }
        await events.EndMessageAsync(cancellationToken);
        foreach (var call in calls)
        {
            await events.FunctionCallAsync(ResponseWriter.FunctionCall(call, ResponseWriter.NewId("fc")), cancellationToken);
        }
        var status = finish == ChatFinishReason.Length ? "incomplete" : "completed";
        var response = ResponseWriter.Response(id, request.Created, status, model, input, input.Instructions, events.Output,
            MeteredUsage.Details(attempt.Metered), finish, input.Prompt, request.TemplateVersion);

        var now = Time.GetUtcNow();
        var completed = JobStore.Command("UPDATE gateway_responses SET status = $2, body = $3, run_context = NULL WHERE id = $1", id, status, response.ToJsonString());
        completed.Parameters[2].NpgsqlDbType = NpgsqlDbType.Jsonb;
        var usage = attempt.Usage(UsageStatus.Succeeded);
        return input.ConversationId is { } conversation
            ? JobOutcome.Succeed(completed, ConversationWrites.Appending(conversation, [.. input.Items.Select(i => i!.DeepClone()), .. events.Output.Select(o => o!.DeepClone())], now), usage)
            : JobOutcome.Succeed(completed, usage);
    }

    /// <summary>However the job ends other than well, the response says so (the Api reads why from the job) and lets go of its context.</summary>
    public override IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context) =>
    [
        JobStore.Command("""
            UPDATE gateway_responses r SET status = j.status, run_context = NULL
            FROM jobs j WHERE r.id = $1 AND j.id = $2 AND j.status IN ('failed', 'cancelled')
            """, ResponseId(context.Job.SubjectId), context.Job.Id),
    ];

    protected override async Task<Loaded?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.user_id, u.role, u.is_disabled, r.model, r.request::text, r.run_context::text, r.input_items::text, r.template_version, r.purpose, r.created_at
            FROM gateway_responses r JOIN users u ON u.id = r.user_id WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = ResponseId(subjectId) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        ModelIds.TrySplit(reader.GetString(3), out var providerId, out var modelId);
        return new Loaded(reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2), providerId, modelId,
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7), reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.GetFieldValue<DateTimeOffset>(9).ToUnixTimeSeconds());
    }

    public sealed record Loaded(
        Guid UserId, string Role, bool UserDisabled, string ProviderId, string ModelId, string? Request, string? RunContext, string InputItems,
        int? TemplateVersion, string? Purpose, long Created) : IVendorJobRequest;

    /// <summary>
    /// The attempt's side of the event log: it numbers on from what is kept, and stops writing (the answer goes on) when
    /// Redis fails or another attempt has written meanwhile; followers then end the stream from the stored response.
    /// </summary>
    private sealed class EventWriter(ResponseEventLog log, string responseId, JobContext context, int first, bool broken)
    {
        private bool _broken = broken;

        public int First => first;

        public static async Task<EventWriter> StartAsync(ResponseEventLog log, string responseId, JobContext context, CancellationToken cancellationToken)
        {
            try
            {
                return new EventWriter(log, responseId, context, (int)await log.CountAsync(responseId, cancellationToken), false);
            }
            catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
            {
                return new EventWriter(log, responseId, context, 0, true);
            }
        }

        public async ValueTask AppendAsync(string type, JsonObject body, CancellationToken cancellationToken)
        {
            if (_broken)
            {
                return;
            }
            try
            {
                _broken = !await log.AppendAsync(responseId, context.Job.Id, context.Attempt, (int)body["sequence_number"]!, body.ToJsonString(), cancellationToken);
            }
            catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
            {
                _broken = true;
            }
        }
    }
}
