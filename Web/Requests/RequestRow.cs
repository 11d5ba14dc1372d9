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
