using AiPrompts.Core.Errors;
using Npgsql;

namespace AiPrompts.Core.Jobs;

/// <summary>
/// Runs one kind of job. The engine claims, leases, retries, cancels and fences; the handler does the
/// work of one attempt and says what to write with its outcome.
/// </summary>
public interface IJobHandler
{
    string Kind { get; }

    /// <summary>
    /// One attempt. Return an outcome rather than throw for anything expected: a vendor's transient
    /// failure is <see cref="JobOutcome.Retry"/>, a permanent one <see cref="JobOutcome.Fail"/>. When
    /// <paramref name="cancellationToken"/> fires, <see cref="JobContext.StopReason"/> says why.
    /// </summary>
    Task<JobOutcome> RunAsync(JobContext context, CancellationToken cancellationToken);

    /// <summary>Writes that go with every final state (succeeded, failed, cancelled), in the same transaction.</summary>
    IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context);

    /// <summary>
    /// Told after each committed change of the job's status, once the engine has published it on the job's channel
    /// (<see cref="JobEvents"/>): for what else should hear of it (a conversation's followers), best effort.
    /// </summary>
    ValueTask OnStatusChangedAsync(JobContext context, string status, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>The job as a worker claimed it.</summary>
public sealed record ClaimedJob(Guid Id, string Kind, Guid SubjectId, int Attempt, int MaxAttempts, string? PreviousOwner, string? LastErrorCode, string? LastErrorMessage, string? TraceParent = null, Guid? ApiKeyId = null);

/// <summary>Why a running attempt was told to stop.</summary>
public enum StopReason
{
    None,

    /// <summary>Someone cancelled the job: it ends cancelled.</summary>
    Cancelled,

    /// <summary>The worker is shutting down past its grace period: the job goes back to the queue.</summary>
    ShuttingDown,

    /// <summary>The lease was lost (another worker rescued the job): nothing this attempt does is written.</summary>
    LeaseLost,
}

public sealed class JobContext(ClaimedJob job, string owner)
{
    private int _stopReason;

    public ClaimedJob Job { get; } = job;

    public string Owner { get; } = owner;

    public int Attempt => Job.Attempt;

    public bool IsLastAttempt => Job.Attempt >= Job.MaxAttempts;

    public StopReason StopReason => (StopReason)Volatile.Read(ref _stopReason);

    /// <summary>Records the first reason only; answers whether this call set it.</summary>
    internal bool TrySetStopReason(StopReason reason) => Interlocked.CompareExchange(ref _stopReason, (int)reason, (int)StopReason.None) == (int)StopReason.None;
}

/// <summary>A stable code, a message for logs and operators (never a secret), and the slots of the user message.</summary>
public sealed record JobError(string Code, string Message, IReadOnlyDictionary<string, string>? Args = null)
{
    public static JobError Of(ErrorCode code, string message, IReadOnlyDictionary<string, string>? args = null) => new(code.Code, message, args);
}

public enum JobOutcomeKind
{
    Succeeded,
    Failed,
    Retry,

    /// <summary>The attempt stopped because it was told to; the engine ends it per <see cref="StopReason"/>.</summary>
    Stopped,
}

/// <summary>
/// What one attempt came to, and the rows to write with it. The writes are applied in one round trip
/// and one transaction with the job's new state, and only while this worker still holds the lease.
/// </summary>
public sealed record JobOutcome(JobOutcomeKind Kind, JobError? Error, TimeSpan? RetryAfter, IReadOnlyList<NpgsqlBatchCommand> Writes)
{
    public static JobOutcome Succeed(params IReadOnlyList<NpgsqlBatchCommand> writes) => new(JobOutcomeKind.Succeeded, null, null, writes);

    public static JobOutcome Fail(JobError error, params IReadOnlyList<NpgsqlBatchCommand> writes) => new(JobOutcomeKind.Failed, error, null, writes);

    public static JobOutcome Retry(JobError error, TimeSpan? retryAfter, params IReadOnlyList<NpgsqlBatchCommand> writes) => new(JobOutcomeKind.Retry, error, retryAfter, writes);

    public static JobOutcome Stopped(params IReadOnlyList<NpgsqlBatchCommand> writes) => new(JobOutcomeKind.Stopped, null, null, writes);
}
