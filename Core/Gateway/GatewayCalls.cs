using AiPrompts.Core.Usage;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// The records of gateway calls: <see cref="BeginAsync"/> admits the call against the budgets and records that it began,
/// in one statement and one short transaction of its own, committed before the vendor is called;
/// <see cref="GatewayUsageRecorder"/> ends it with its usage row; the Worker's sweep (<see cref="ExpireAsync"/>) counts
/// the calls whose end never came.
/// </summary>
public sealed class GatewayCalls(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Admits and records the call; answers the soft-threshold warning of a budget it crossed (the JSON facts), or null.
    /// A budget that refuses it raises a <see cref="PostgresException"/> that <see cref="Budgets.BudgetRefusal.Find"/> reads,
    /// and nothing is written.
    /// </summary>
    public async Task<string?> BeginAsync(GatewayCall call, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT gateway_call_begin($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        var parameters = command.Parameters;
        parameters.Add(new() { Value = call.Id });
        parameters.Add(new() { Value = call.UserId });
        parameters.Add(new() { Value = (object?)call.ApiKeyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        parameters.Add(new() { Value = call.Surface });
        parameters.Add(new() { Value = call.Section });
        parameters.Add(new() { Value = call.ProviderId });
        parameters.Add(new() { Value = call.ModelId });
        parameters.Add(new() { Value = call.KeySource });
        parameters.Add(new() { Value = (object?)call.Purpose ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new() { Value = (object?)call.SubjectId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        parameters.Add(new() { Value = call.ReservedCost, NpgsqlDbType = NpgsqlDbType.Numeric });
        parameters.Add(new() { Value = call.ReservedTokens });
        parameters.Add(new() { Value = call.StartedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>
    /// Counts the calls that began before <paramref name="before"/> and never ended (their Api died during the call): a usage
    /// row each, <c>interrupted</c>, at the call's estimate (an upper bound: the prompt and the longest answer allowed), and
    /// their budget holds given back. Answers how many.
    /// </summary>
    public async Task<int> ExpireAsync(DateTimeOffset before, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT gateway_calls_expire($1, $2)");
        command.Parameters.Add(new() { Value = before, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Ends calls: each one's usage row, written only if its begin record is still there (one batch, one transaction); a
    /// call with no usage (it never reached the vendor) only removes its record.
    /// </summary>
    public async Task EndAsync(IReadOnlyList<(Guid CallId, UsageEvent? Usage)> ended, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (callId, usage) in ended)
        {
            batch.BatchCommands.Add(usage is null ? Jobs.JobStore.Command("DELETE FROM gateway_calls WHERE id = $1", callId) : UsageWrites.EndingGatewayCall(usage, callId));
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
