namespace AiPrompts.Core.Budgets;

/// <summary>
/// Spending limits of one user, one API key, or every user of a role (a role's budget applies to each of its
/// users who has no budget of their own). Each limit is optional: US dollars per UTC day and per UTC month
/// (computed from catalogue prices), tokens per UTC day. Past <see cref="SoftPercent"/> of a limit a request
/// still runs, with a warning header and one audit row per period; past the limit it is refused before any
/// vendor call. Super admins set them.
/// </summary>
public sealed class Budget
{
    public Guid Id { get; set; }
    public required string Scope { get; set; }
    public Guid? UserId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public string? Role { get; set; }
    public decimal? CostPerDay { get; set; }
    public decimal? CostPerMonth { get; set; }
    public long? TokensPerDay { get; set; }
    public int SoftPercent { get; set; } = DefaultSoftPercent;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public const int DefaultSoftPercent = 80;
}

public static class BudgetScopes
{
    public const string User = "user";
    public const string ApiKey = "api_key";
    public const string Role = "role";
}

/// <summary>
/// What the queued and running jobs of one user or one API key have reserved and not yet settled: each job adds
/// its estimate when it is inserted, and takes it off again when it ends, however it ends (the triggers of the
/// Budgets migration). What was spent is in the usage rollups. The subject's reserved amount is the sum of its rows:
/// admissions add to shard 0, whose row lock is the subject's gate; releases subtract on the releasing connection's
/// shard (1 to 1024), so a job's completion waits neither for that gate nor for other completions.
/// </summary>
public sealed class BudgetHold
{
    public required string SubjectKind { get; set; }
    public Guid SubjectId { get; set; }
    public int Shard { get; set; }
    public decimal Cost { get; set; }
    public long Tokens { get; set; }
}

/// <summary>
/// A job admitted against the budgets before its row is written (<c>budget_reserve_ahead</c>, called by the Api just before
/// it saves the job): the estimate is already in the holds, and the job's insert takes this row over instead of passing the
/// gate again. One the job's insert never claimed (the saving failed, or the Api died in between) is given back by
/// <c>budget_reservation_cancel</c> at once, or by the Worker's sweep once it is older than <c>Budgets:ReservationTimeout</c>.
/// </summary>
public sealed class BudgetReservation
{
    public Guid JobId { get; set; }
    public Guid UserId { get; set; }
    public Guid? ApiKeyId { get; set; }

    /// <summary>Which holds the estimate was added to: 1 the user's, 2 the API key's (as <c>jobs.budget_scopes</c>).</summary>
    public int Scopes { get; set; }
    public decimal Cost { get; set; }
    public long Tokens { get; set; }

    /// <summary>The soft-threshold warning of the admission, if any (becomes the job's <c>budget_warning</c>).</summary>
    public string? Warning { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A soft threshold crossed: one row per budget, limit and period, so the audit log says it once.</summary>
public sealed class BudgetAlert
{
    public Guid BudgetId { get; set; }
    public required string Period { get; set; }
    public required string LimitName { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The names of the limits, as the API and the database's refusals spell them.</summary>
public static class BudgetLimits
{
    public const string CostPerDay = "costPerDay";
    public const string CostPerMonth = "costPerMonth";
    public const string TokensPerDay = "tokensPerDay";
}
