using System.Text.Json;
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
