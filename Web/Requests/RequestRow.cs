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
    DateTimeOffset? FinishedAt,
    string? TraceId)
{
    /// <summary>Still to change: the page keeps it up to date.</summary>
    public bool IsRunning => Status is "pending" or "generating";
}

internal sealed record RequestAnswer(string? Text, int DurationMs, long InputTokens, long OutputTokens, decimal? Cost);

internal sealed record RequestError(string Code, string UserMessage, string RecoveryAction);

/// <summary>What the requests page is filtered by; empty means any.</summary>
public sealed record RequestFilter(string Status = "", string Type = "", string Model = "", string User = "", DateOnly? From = null, DateOnly? To = null)
{
    /// <summary>The Api's query for this filter (days are whole UTC days, the last one included).</summary>
    public string Query()
    {
        var query = new List<string>();
        void Add(string name, string value)
        {
            if (value.Length > 0)
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
        Add("status", Status);
        Add("type", Type);
        if (Model.Split('/', 2) is [var provider, var model])
        {
            Add("provider", provider);
            Add("model", model);
        }
        Add("userId", User);
        Add("from", From?.ToString("yyyy-MM-dd'T00:00:00Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "");
        Add("to", To?.AddDays(1).ToString("yyyy-MM-dd'T00:00:00Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "");
        return string.Join('&', query);
    }
}
