using AiPrompts.Core.Caching;
using AiPrompts.Core.Errors;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Jobs;

/// <summary>What a cancellation did.</summary>
public enum JobCancelResult
{
    /// <summary>The job was queued: it is cancelled now and never runs.</summary>
    Cancelled,

    /// <summary>The job is running: its worker is told to stop (through Redis now, or its next heartbeat) and ends it cancelled.</summary>
    Requested,

    /// <summary>The job had already ended (or does not exist): nothing changed.</summary>
    AlreadyEnded,
}

/// <summary>
/// The one way any surface cancels a job. A queued job ends cancelled at once, in one transaction with what its handler
/// writes with every final state (<see cref="IJobHandler.FinalWrites"/>: a request that is not stored forgets its text, a
/// conversation's message is marked failed); a running one is asked to stop, and its worker ends it the same way. Either
/// way the job's state is <c>cancelled</c> and its code <c>cancelled</c>, whichever surface asked; the budgets' holds are
/// released by the database as the state changes.
/// </summary>
public sealed class JobCancellation(NpgsqlDataSource dataSource, IEnumerable<IJobHandler> handlers, JobScheduler scheduler, JobEvents events, TimeProvider time)
{
    /// <summary>The owner a cancelled queued job's final writes see: no worker held it.</summary>
    public const string Canceller = "cancellation";

    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);

    public async Task<JobCancelResult> CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        ClaimedJob? cancelled = null;
        await using (var queued = new NpgsqlCommand("""
            UPDATE jobs SET status = 'cancelled', finished_at = $2, updated_at = $2, last_error_code = $3, last_error_message = $4, last_error_args = NULL
            WHERE id = $1 AND status = 'queued'
            RETURNING kind, subject_id, attempt, max_attempts, trace_parent, api_key_id
            """, connection, transaction))
        {
            queued.Parameters.Add(new() { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            queued.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            queued.Parameters.Add(new() { Value = ErrorCode.Cancelled.Code });
            queued.Parameters.Add(new() { Value = "Cancelled before it ran." });
            await using var reader = await queued.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                cancelled = new ClaimedJob(jobId, reader.GetString(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetInt32(3), null, ErrorCode.Cancelled.Code, null,
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetGuid(5));
            }
        }
        if (cancelled is not null)
        {
            if (_handlers.TryGetValue(cancelled.Kind, out var handler) && handler.FinalWrites(new JobContext(cancelled, Canceller)).ToList() is { Count: > 0 } writes)
            {
                await using var batch = new NpgsqlBatch(connection, transaction);
                writes.ForEach(batch.BatchCommands.Add);
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            await PublishQuietlyAsync(cancelled);
            return JobCancelResult.Cancelled;
        }

        await using (var running = new NpgsqlCommand(
            "UPDATE jobs SET cancel_requested = true, updated_at = $2 WHERE id = $1 AND status = 'running'", connection, transaction))
        {
            running.Parameters.Add(new() { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            running.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            var requested = await running.ExecuteNonQueryAsync(cancellationToken) == 1;
            await transaction.CommitAsync(cancellationToken);
            if (!requested)
            {
                return JobCancelResult.AlreadyEnded;
            }
        }
        await scheduler.SignalCancelAsync(jobId, CancellationToken.None);
        return JobCancelResult.Requested;
    }

    /// <summary>Followers hear the end at once; without Redis they read it from the database at their next look.</summary>
    private async Task PublishQuietlyAsync(ClaimedJob job)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await events.PublishStatusAsync(job.Id, JobStatus.Cancelled, job.Attempt, timeout.Token);
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is OperationCanceledException)
        {
        }
    }
}
