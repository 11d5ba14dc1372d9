using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Jobs;

/// <summary>The job engine's SQL: claim (with rescue), heartbeat, and the fenced state changes. One round trip each.</summary>
public sealed class JobStore(NpgsqlDataSource dataSource)
{
    /// <summary>SQLSTATE raised by job_transition (and job_fence) when the caller no longer holds the lease.</summary>
    public const string LeaseLostState = "AJ001";

    /// <summary>
    /// Claims up to <paramref name="limit"/> jobs: queued ones that are due, and running ones whose lease
    /// expired (their worker died or froze). Each claim starts a new attempt.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(string owner, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH next AS (
                SELECT id, CASE WHEN status = 'running' THEN lease_owner END AS previous_owner
                FROM jobs
                WHERE (status = 'queued' AND run_after <= $1) OR (status = 'running' AND lease_expires_at < $1)
                ORDER BY run_after
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            UPDATE jobs j
            SET status = 'running', attempt = j.attempt + 1, lease_owner = $3, lease_expires_at = $4,
                started_at = coalesce(j.started_at, $1), updated_at = $1
            FROM next
            WHERE j.id = next.id
            RETURNING j.id, j.kind, j.subject_id, j.attempt, j.max_attempts, next.previous_owner, j.last_error_code, j.last_error_message, j.trace_parent, j.api_key_id
            """);
        command.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = owner });
        command.Parameters.Add(new() { Value = now + lease, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<ClaimedJob>();
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new ClaimedJob(
                reader.GetGuid(0), reader.GetString(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetGuid(9)));
        }
        return jobs;
    }

    /// <summary>Extends the leases this worker still holds; answers those it holds and whether each was asked to cancel.</summary>
    public async Task<IReadOnlyList<(Guid Id, int Attempt, bool CancelRequested)>> HeartbeatAsync(
        string owner, IReadOnlyCollection<Guid> ids, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE jobs SET lease_expires_at = $1, updated_at = $2
            WHERE id = ANY($3) AND lease_owner = $4 AND status = 'running'
            RETURNING id, attempt, cancel_requested
            """);
        command.Parameters.Add(new() { Value = now + lease, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = ids.ToArray() });
        command.Parameters.Add(new() { Value = owner });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var held = new List<(Guid, int, bool)>(ids.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetBoolean(2)));
        }
        return held;
    }

    /// <summary>
    /// Moves a claimed job to <paramref name="transition"/> and applies <paramref name="writes"/>, all in one
    /// implicit transaction, fenced: the state change (job_transition) comes first and raises if this worker no
    /// longer holds the lease for this attempt, so nothing is written and <see cref="JobLeaseLostException"/> is thrown.
    /// </summary>
    public async Task ApplyAsync(ClaimedJob job, string owner, JobTransition transition, IEnumerable<NpgsqlBatchCommand> writes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(transition.ToCommand(job.Id, job.Attempt, owner));
        foreach (var write in writes)
        {
            batch.BatchCommands.Add(write);
        }
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == LeaseLostState)
        {
            throw new JobLeaseLostException(job.Id, job.Attempt, ex);
        }
    }

    public static NpgsqlBatchCommand Command(string sql, params ReadOnlySpan<object?> values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value switch
            {
                null => new NpgsqlParameter { Value = DBNull.Value },
                DateTimeOffset t => new NpgsqlParameter { Value = t, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                JsonDocument or JsonElement => new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.Jsonb },
                _ => new NpgsqlParameter { Value = value },
            });
        }
        return command;
    }
}

/// <summary>A job's next state, as one UPDATE.</summary>
public sealed record JobTransition(string Status, DateTimeOffset Now, DateTimeOffset? RunAfter, JobError? Error, bool GiveBackAttempt)
{
    public static JobTransition Final(string status, DateTimeOffset now, JobError? error) => new(status, now, null, error, false);

    public static JobTransition Requeue(DateTimeOffset now, DateTimeOffset runAfter, JobError? error, bool giveBackAttempt) => new(JobStatus.Queued, now, runAfter, error, giveBackAttempt);

    /// <summary>The fenced state change: one call of job_transition, which raises AJ001 when the lease is no longer held.</summary>
    internal NpgsqlBatchCommand ToCommand(Guid id, int attempt, string owner)
    {
        var args = Error?.Args is { Count: > 0 } a ? JsonSerializer.Serialize(a) : null;
        var command = JobStore.Command("SELECT job_transition($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)",
            id, attempt, owner, Status, Now, Status == JobStatus.Queued ? RunAfter ?? Now : null, GiveBackAttempt ? 1 : 0, Error?.Code, Error?.Message, args);
        command.Parameters[5].NpgsqlDbType = NpgsqlDbType.TimestampTz;
        foreach (var index in (int[])[7, 8, 9])
        {
            command.Parameters[index].NpgsqlDbType = NpgsqlDbType.Text;
        }
        return command;
    }
}

/// <summary>Another worker has rescued the job: this attempt's result was discarded.</summary>
public sealed class JobLeaseLostException(Guid jobId, int attempt, Exception inner)
    : Exception($"Job {jobId} attempt {attempt}: the lease was lost; the result was not written.", inner);
