using System.Text.Json;

namespace AiPrompts.Api.PromptRequests;

/// <summary>Run the active version: its variables, and optionally the provider, model, purpose, metadata and store of the request.</summary>
public sealed record RunPromptRequest(
    Dictionary<string, JsonElement>? Variables,
    string? Provider,
    string? Model,
    Purpose? Purpose,
    JsonElement? Metadata,
    bool? Store);

/// <summary>A sandbox test of a version: its variables, optionally a provider and model, and whether to run the active version beside it.</summary>
public sealed record TestPromptRequest(
    Dictionary<string, JsonElement>? Variables,
    string? Provider,
    string? Model,
    bool? Compare);

/// <summary>One sandbox run: the request on the job engine, and once it ended, its output judged against the type's schema.</summary>
public sealed record SandboxRun(
    Guid RequestId,
    string Status,
    string PromptType,
    int VersionNumber,
    string Provider,
    string Model,
    string? OutputText,
    JsonElement? Output,
    bool? Valid,
    IReadOnlyList<string> ValidationErrors,
    PromptRequestError? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

/// <summary>A sandbox test: the tested version's run and, in compare mode, the active version's run on the same input.</summary>
public sealed record SandboxResponse(SandboxRun Tested, SandboxRun? Active);
