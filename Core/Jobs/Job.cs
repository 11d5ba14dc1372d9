namespace AiPrompts.Core.Jobs;

/// <summary>One unit of background work; the database enforces its rules (the Baseline and FencedTransition migrations: states, the fence, budget holds).</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public required string Kind { get; set; }
    public Guid SubjectId { get; set; }
    public required string Status { get; set; }
    public int Attempt { get; set; }
    public int MaxAttempts { get; set; }
    public DateTimeOffset RunAfter { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public bool CancelRequested { get; set; }
    public string? LastErrorCode { get; set; }
    public string? LastErrorMessage { get; set; }
    public string? LastErrorArgs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The W3C traceparent of the request that enqueued the job, so the work joins that trace.</summary>
    public string? TraceParent { get; set; }

    /// <summary>Who the work is for and the API key they came with: their budgets are charged, the usage rows say so.</summary>
    public Guid? UserId { get; set; }
    public Guid? ApiKeyId { get; set; }

    /// <summary>The expected use (<see cref="Budgets.JobCharge"/>) reserved against the budgets as the row is saved (just before, or by its insert); null for work no budget admits.</summary>
    public decimal? ReservedCost { get; set; }
    public long? ReservedTokens { get; set; }

    /// <summary>Which holds the insert took (1: the user's, 2: the API key's), so that the job's end releases exactly those. Set by the database.</summary>
    public int BudgetScopes { get; set; }

    /// <summary>A soft budget threshold this job's reservation crossed (JSON), set by the database and read back on insert.</summary>
    public string? BudgetWarning { get; set; }

    public bool IsFinished => JobStatus.IsFinal(Status);
}

/// <summary>The one job state machine: queued → running → succeeded | failed | cancelled, and running → queued on retry, rescue or release.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled;
}
