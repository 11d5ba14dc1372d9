namespace AiPrompts.Core.Usage;

/// <summary>One vendor call: who, which provider and model, with which key, what it used and cost, and how it ended.</summary>
public sealed class UsageEvent
{
    public Guid Id { get; set; }
    public Guid? UserId { get; set; }
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
    public decimal? Cost { get; set; }
    public decimal? VendorCost { get; set; }
    public int DurationMs { get; set; }
    public required string Status { get; set; }
    public string? ErrorCode { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public static class UsageStatus
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The worker stopped the call at shutdown; the job runs again elsewhere.</summary>
    public const string Interrupted = "interrupted";
}
