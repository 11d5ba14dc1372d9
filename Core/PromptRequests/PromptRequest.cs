namespace AiPrompts.Core.PromptRequests;

/// <summary>A prompt someone sent: who (UserId), when (CreatedAt), why (Purpose*), what (PromptType, PromptText). Its status is its job's.</summary>
public sealed class PromptRequest
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public Guid JobId { get; set; }
    public required string PromptType { get; set; }
    public required string Section { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }

    /// <summary>Null once the job has ended when <see cref="Store"/> is false.</summary>
    public string? PromptText { get; set; }
    public string? PurposeCode { get; set; }
    public string? PurposeText { get; set; }
    public string? Metadata { get; set; }
    public bool Store { get; set; }
    public string? IdempotencyKey { get; set; }
    public byte[]? RequestHash { get; set; }

    /// <summary>The template version of <see cref="PromptType"/> the prompt was rendered from, if any.</summary>
    public int? TemplateVersion { get; set; }

    /// <summary>A sandbox test of <see cref="TemplateVersion"/>: its output is checked and kept on the version.</summary>
    public bool Sandbox { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class PromptResponse
{
    public Guid Id { get; set; }
    public Guid PromptRequestId { get; set; }

    /// <summary>Null when the request is not stored: the text lives in Redis for a while instead.</summary>
    public string? ResponseText { get; set; }
    public string? FinishReason { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal? Cost { get; set; }
    public int DurationMs { get; set; }
    public int Attempt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Prompt requests show the Arabic document's status words over the job state machine.</summary>
public static class PromptRequestStatus
{
    public const string Pending = "pending";
    public const string Generating = "generating";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Pending, Generating, Completed, Failed, Cancelled];

    public static string FromJob(string jobStatus) => jobStatus switch
    {
        Jobs.JobStatus.Queued => Pending,
        Jobs.JobStatus.Running => Generating,
        Jobs.JobStatus.Succeeded => Completed,
        Jobs.JobStatus.Failed => Failed,
        Jobs.JobStatus.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(jobStatus), jobStatus, "Unknown job status."),
    };

    public static string ToJob(string status) => status switch
    {
        Pending => Jobs.JobStatus.Queued,
        Generating => Jobs.JobStatus.Running,
        Completed => Jobs.JobStatus.Succeeded,
        Failed => Jobs.JobStatus.Failed,
        Cancelled => Jobs.JobStatus.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown status."),
    };

    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}
