using AiPrompts.Core.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Usage;

/// <summary>A usage row as a write that joins a job's outcome (same transaction, same fence).</summary>
public static class UsageWrites
{
    /// <summary>
    /// The usage row of one attempt of a job's vendor call: the job's kind is the subject type, its subject the subject,
    /// its API key the row's.
    /// </summary>
    public static NpgsqlBatchCommand ForAttempt(JobContext context, string section, Guid userId, Vendors.VendorTarget target, Vendors.MeteredUsage? usage,
        TimeSpan elapsed, string status, string? errorCode, DateTimeOffset now, string? purpose = null)
    {
        var row = UsageEvent.ForCall(context.Job.Kind, section, userId, target, usage, elapsed, status, errorCode, now);
        row.ApiKeyId = context.Job.ApiKeyId;
        row.Purpose = purpose;
        row.JobId = context.Job.Id;
        row.Attempt = context.Attempt;
        row.SubjectId = context.Job.SubjectId;
        return Insert(row);
    }

    public static NpgsqlBatchCommand Insert(UsageEvent e) => Typed(JobStore.Command($"INSERT INTO usage_events ({Columns}) VALUES ({Values})", Fields(e)));

    /// <summary>
    /// The usage row of a gateway call, written only if the record that the call began is still there, and removing it in
    /// the same statement (its budget hold goes back by trigger): a call is counted once, by its end or by the sweep.
    /// </summary>
    public static NpgsqlBatchCommand EndingGatewayCall(UsageEvent e, Guid callId) =>
        Typed(JobStore.Command($"WITH ended AS (DELETE FROM gateway_calls WHERE id = $23 RETURNING id) INSERT INTO usage_events ({Columns}) SELECT {Values} FROM ended", [.. Fields(e), callId]));

    private const string Columns = "id, user_id, job_id, attempt, subject_type, subject_id, section, provider_id, model_id, key_source, " +
        "input_tokens, output_tokens, cost, vendor_cost, duration_ms, status, error_code, created_at, api_key_id, purpose, cached_input_tokens, reasoning_tokens";

    private const string Values = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22";

    private static object?[] Fields(UsageEvent e) =>
    [
        e.Id, e.UserId, e.JobId, e.Attempt, e.SubjectType, e.SubjectId, e.Section, e.ProviderId, e.ModelId, e.KeySource,
        e.InputTokens, e.OutputTokens, e.Cost, e.VendorCost, e.DurationMs, e.Status, e.ErrorCode, e.CreatedAt, e.ApiKeyId, e.Purpose,
        e.CachedInputTokens, e.ReasoningTokens,
    ];

    /// <summary>Every nullable column typed, so a null is never sent as an unknown (which a SELECT list would not coerce).</summary>
    private static NpgsqlBatchCommand Typed(NpgsqlBatchCommand command)
    {
        command.Parameters[1].NpgsqlDbType = NpgsqlDbType.Uuid;
        command.Parameters[2].NpgsqlDbType = NpgsqlDbType.Uuid;
        command.Parameters[3].NpgsqlDbType = NpgsqlDbType.Integer;
        command.Parameters[5].NpgsqlDbType = NpgsqlDbType.Uuid;
        command.Parameters[12].NpgsqlDbType = NpgsqlDbType.Numeric;
        command.Parameters[13].NpgsqlDbType = NpgsqlDbType.Numeric;
        command.Parameters[16].NpgsqlDbType = NpgsqlDbType.Text;
        command.Parameters[18].NpgsqlDbType = NpgsqlDbType.Uuid;
        command.Parameters[19].NpgsqlDbType = NpgsqlDbType.Text;
        return command;
    }
}
