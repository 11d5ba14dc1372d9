using System.Text.Json;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Core.Templates;

namespace AiPrompts.Api.Templates;

/// <summary>The contract's AiPromptResponse: one version of a prompt type's template.</summary>
public sealed record AiPromptResponse(
    string PromptType,
    int VersionNumber,
    string Template,
    bool IsActive,
    JsonElement? TestResultJson,
    string? ManualNote,
    DateTimeOffset? LastTestedAt,
    DateTimeOffset? ActivatedAt,
    DateTimeOffset CreatedAt)
{
    public static AiPromptResponse Of(PromptTemplateVersion v) => new(
        v.PromptType, v.VersionNumber, v.Template, v.IsActive,
        v.TestResultJson is { } json ? JsonDocument.Parse(json).RootElement.Clone() : null,
        v.ManualNote, v.LastTestedAt, v.ActivatedAt, v.CreatedAt);
}

/// <summary>The contract's CreateAiPromptRequest.</summary>
public sealed record CreateAiPromptRequest(string? Template);

/// <summary>The contract's UpdatePromptNoteRequest: manualNote is required and may be null (a JSON null clears it).</summary>
public sealed record UpdatePromptNoteRequest(JsonElement ManualNote);

/// <summary>The active version of a type, for apps that render it themselves.</summary>
public sealed record ActivePromptResponse(
    string PromptType,
    int VersionNumber,
    string Template,
    DateTimeOffset? ActivatedAt,
    IReadOnlyList<string> Variables,
    IReadOnlyList<string> RequiredPlaceholders,
    JsonElement? OutputSchema);

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

/// <summary>A line of a diff: "equal", "delete" (only in <c>from</c>) or "insert" (only in <c>to</c>).</summary>
public sealed record DiffLine(string Op, string Text);

public sealed record PromptDiffResponse(string PromptType, int From, int To, IReadOnlyList<DiffLine> Lines, string Unified);

/// <summary>A prompt type as data.</summary>
public sealed record PromptTemplateTypeResponse(
    string PromptType,
    string? Description,
    string Section,
    IReadOnlyList<string> RequiredPlaceholders,
    IReadOnlyList<string> AllowedVariables,
    JsonElement? OutputSchema,
    int? ActiveVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Define or change a prompt type (super admin).</summary>
public sealed record PutPromptTemplateTypeRequest(
    string? Description,
    string? Section,
    List<string>? RequiredPlaceholders,
    List<string>? AllowedVariables,
    JsonElement? OutputSchema);
