namespace AiPrompts.Web.Requests;

/// <summary>A prompt request as the Api lists it (<c>GET /api/v1/prompt-requests</c>).</summary>
internal sealed record RequestRow(
    Guid Id,
    Guid UserId,
    string Status,
    string PromptType,
    string Provider,
    string Model,
    RequestPurpose? Purpose,
    int Attempts,
    DateTimeOffset CreatedAt);

internal sealed record RequestPurpose(string? Code, string? Text);

/// <summary>The statuses a prompt request shows, in the order a filter offers them.</summary>
internal static class RequestStatuses
{
    public static IReadOnlyList<string> All { get; } = ["pending", "generating", "completed", "failed", "cancelled"];
}

/// <summary>One prompt request with its prompt, answer and error (<c>GET /api/v1/prompt-requests/{id}</c>).</summary>
internal sealed record RequestDetail(
    Guid Id,
    string Status,
    string PromptType,
    string Provider,
    string Model,
    RequestPurpose? Purpose,
    bool Store,
    string? PromptText,
    RequestAnswer? Response,
    RequestError? Error,
    int Attempts,
    int MaxAttempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>Still to change: the page keeps it up to date.</summary>
    public bool IsRunning => Status is "pending" or "generating";
}

internal sealed record RequestAnswer(string? Text, int DurationMs, long InputTokens, long OutputTokens, decimal? Cost);

internal sealed record RequestError(string Code, string UserMessage, string RecoveryAction);
