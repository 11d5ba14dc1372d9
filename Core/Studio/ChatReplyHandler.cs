using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Studio;

/// <summary>
/// A conversation message whose intent is not an image one: the chat section's model answers it, with the
/// conversation so far as context, in the message's language. The answer is a new assistant message, written
/// with the user message's DONE and the usage row in the job's fenced completion.
/// </summary>
public sealed class ChatReplyHandler(
    NpgsqlDataSource dataSource, IServiceScopeFactory scopes, VendorClientFactory vendors, JobEvents events, JobScheduler scheduler, TimeProvider time)
    : VendorJobHandler<ChatReplyHandler.Loaded>(scopes, time)
{
    public const string JobKind = "chat_reply";

    /// <summary>How many earlier messages go with the question.</summary>
    private const int Context = 20;

    public override string Kind => JobKind;

    protected override string SectionOf(Loaded request) => Sections.Chat;

    protected override async Task<JobOutcome> CallAsync(JobContext context, Loaded request, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        if (request.MessageId is not { } messageId)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.NotFound, "The message no longer exists."));
        }
        var history = await HistoryAsync(messageId, cancellationToken);
        ChatResponse response;
        using (var client = vendors.CreateChatClient(attempt.Target))
        {
            response = await client.GetResponseAsync(history, new ChatOptions
            {
                ModelId = attempt.Target.ModelId,
                Instructions = $"You are the assistant of an AI photo studio. Answer briefly, in the language '{(string.IsNullOrWhiteSpace(request.Lang) ? "en" : request.Lang)}'.",
            }, cancellationToken);
        }
        attempt.Metered = MeteredUsage.From(response.AdditionalProperties);
        var now = Time.GetUtcNow();
        var answer = JobStore.Command("""
            INSERT INTO thread_messages (id, thread_id, role, text, metadata, created_at, studio_status, studio_request_id)
            SELECT $1, thread_id, 'assistant', $2, '{}'::jsonb, $3, 'done', $4 FROM thread_messages WHERE id = $5
            """, Guid.CreateVersion7(now), response.Text, now, context.Job.SubjectId, messageId);
        var done = JobStore.Command("UPDATE thread_messages SET studio_status = 'done' WHERE id = $1 AND studio_request_id = $2", messageId, context.Job.SubjectId);
        var completed = JobStore.Command("UPDATE studio_requests SET processing_ms = $2, completed_at = $3 WHERE id = $1",
            context.Job.SubjectId, (int)attempt.Elapsed.TotalMilliseconds, now);
        return JobOutcome.Succeed(answer, done, completed, attempt.Usage(UsageStatus.Succeeded));
    }

    public override IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context) => [StudioSteps.FailMessage(context)];

    public override ValueTask OnStatusChangedAsync(JobContext context, string status, CancellationToken cancellationToken) =>
        StudioSteps.NotifyAsync(dataSource, events, scheduler, context, status, cancellationToken);

    /// <summary>The conversation up to the message, the latest <see cref="Context"/> messages, oldest first.</summary>
    private async Task<List<ChatMessage>> HistoryAsync(Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT role, text FROM (
                SELECT m.role, m.text, m.seq FROM thread_messages m JOIN thread_messages q ON q.thread_id = m.thread_id
                WHERE q.id = $1 AND m.seq <= q.seq ORDER BY m.seq DESC LIMIT $2) recent
            ORDER BY seq
            """);
        command.Parameters.Add(new() { Value = messageId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = Context });
        var history = new List<ChatMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new ChatMessage(reader.GetString(0) == "assistant" ? ChatRole.Assistant : ChatRole.User, reader.GetString(1)));
        }
        return history;
    }

    protected override async Task<Loaded?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.user_id, u.role, u.is_disabled, r.provider_id, r.model_id, r.lang, r.message_id
            FROM studio_requests r JOIN users u ON u.id = r.user_id WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = subjectId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Loaded(reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetGuid(6))
            : null;
    }

    public sealed record Loaded(Guid UserId, string Role, bool UserDisabled, string ProviderId, string ModelId, string? Lang, Guid? MessageId) : IVendorJobRequest;
}
