using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiPrompts.Api.PromptRequests;

/// <summary>The "why" of a request: a short machine code (e.g. "support_reply") and free text.</summary>
public sealed record Purpose(string? Code, string? Text);

/// <summary>
/// A prompt to run. Provider and model are optional: without them the prompt type's section decides;
/// a model alone is looked up among the enabled providers. <c>Store</c> defaults to the section's setting.
/// </summary>
public sealed record SubmitPromptRequest(
    string? PromptType,
    string? PromptText,
    string? Provider,
    string? Model,
    Purpose? Purpose,
    JsonElement? Metadata,
    bool? Store);

public sealed record PromptRequestError(string Code, string? Message, string UserMessage, string RecoveryAction);

public sealed record PromptResponseBody(
    string? Text,
    string? FinishReason,
    int DurationMs,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    int Attempt,
    DateTimeOffset CreatedAt);

/// <summary>A request as lists show it: no prompt, no response.</summary>
public sealed record PromptRequestSummary(
    Guid Id,
    Guid UserId,
    string Status,
    string PromptType,
    string Section,
    string Provider,
    string Model,
    Purpose? Purpose,
    bool Store,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>
/// A request with its prompt and, once there is one, its response. For a request that is not stored,
/// the texts come from Redis until <c>RetainedUntil</c>, and are null after that. <c>TraceId</c> is the W3C trace the
/// request was submitted in, which its job's work joins: the key to its spans and logs in the dashboard.
/// </summary>
public sealed record PromptRequestDetail(
    Guid Id,
    Guid UserId,
    string Status,
    string PromptType,
    string Section,
    string Provider,
    string Model,
    Purpose? Purpose,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Metadata,
    bool Store,
    string? PromptText,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TemplateVersion,
    PromptResponseBody? Response,
    PromptRequestError? Error,
    int Attempts,
    int MaxAttempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? RetainedUntil,
    string? TraceId);

public sealed record PromptTypeResponse(string Name, string Section);
