using AiPrompts.Core.Vendors;

namespace AiPrompts.Core.Usage;

/// <summary>One vendor call: who, which provider and model, with which key, what it used and cost, and how it ended.</summary>
public sealed class UsageEvent
{
    public Guid Id { get; set; }
    public Guid? UserId { get; set; }

    /// <summary>The API key the request came with (null when signed in).</summary>
    public Guid? ApiKeyId { get; set; }

    /// <summary>Why, as the caller's purpose code said (prompt requests).</summary>
    public string? Purpose { get; set; }
    public Guid? JobId { get; set; }
    public int? Attempt { get; set; }
    public required string SubjectType { get; set; }
    public Guid? SubjectId { get; set; }
    public required string Section { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string KeySource { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }

    /// <summary>Of the input tokens, those the vendor read from its prompt cache.</summary>
    public long CachedInputTokens { get; set; }

    /// <summary>Of the output tokens, those the model spent reasoning.</summary>
    public long ReasoningTokens { get; set; }
    public decimal? Cost { get; set; }
    public decimal? VendorCost { get; set; }
    public int DurationMs { get; set; }
    public required string Status { get; set; }
    public string? ErrorCode { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The row of one vendor call: the target called, what the metering measured (or the time it took), and how it ended.</summary>
    public static UsageEvent ForCall(string subjectType, string section, Guid? userId, VendorTarget target, MeteredUsage? usage, TimeSpan elapsed, string status, string? errorCode, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        UserId = userId,
        SubjectType = subjectType,
        Section = section,
        ProviderId = target.ProviderId,
        ModelId = target.ModelId,
        KeySource = target.KeySource.ToString().ToLowerInvariant(),
        InputTokens = usage?.InputTokens ?? 0,
        OutputTokens = usage?.OutputTokens ?? 0,
        CachedInputTokens = usage?.CachedInputTokens ?? 0,
        ReasoningTokens = usage?.ReasoningTokens ?? 0,
        Cost = usage?.Cost,
        VendorCost = usage?.VendorCost,
        DurationMs = (int)Math.Min(int.MaxValue, Math.Round((usage?.Duration ?? elapsed).TotalMilliseconds)),
        Status = status,
        ErrorCode = errorCode,
        CreatedAt = now,
    };
}

public static class UsageStatus
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The worker stopped the call at shutdown; the job runs again elsewhere.</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>
/// Usage added up per UTC day and every dimension a report groups by, kept exact by a trigger as each usage
/// row is written (in the same transaction), so a report over months reads a few rows per day rather than
/// every call. Deleting raw rows (retention) leaves it as it is.
/// </summary>
public sealed class UsageRollup
{
    public long Id { get; set; }
    public DateOnly Day { get; set; }

    /// <summary>
    /// Which of a few rows of the same day and dimensions this is (the writing connection's, by its backend
    /// pid, modulo 1024): concurrent job completions for one user and model then do not wait on one row's lock. Reads sum them.
    /// </summary>
    public int Shard { get; set; }
    public Guid? UserId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public string? Purpose { get; set; }
    public required string SubjectType { get; set; }
    public required string Section { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string KeySource { get; set; }
    public required string Status { get; set; }
    public long Calls { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public long CachedInputTokens { get; set; }
    public long ReasoningTokens { get; set; }
    public decimal Cost { get; set; }

    /// <summary>The vendor-reported cost of the calls that had one (null when none did).</summary>
    public decimal? VendorCost { get; set; }

    /// <summary>Vendor minus computed cost, over the calls that had both (null when none did).</summary>
    public decimal? CostDifference { get; set; }
    public long DurationMs { get; set; }
}
