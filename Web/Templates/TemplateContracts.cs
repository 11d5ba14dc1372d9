using System.Text.Json;

namespace AiPrompts.Web.Templates;

/// <summary>A prompt type and its rules (<c>GET /api/ai/prompt-types</c>).</summary>
public sealed record PromptTypeInfo(
    string PromptType,
    string? Description,
    string Section,
    IReadOnlyList<string> RequiredPlaceholders,
    IReadOnlyList<string> AllowedVariables,
    JsonElement? OutputSchema,
    int? ActiveVersion,
    DateTimeOffset UpdatedAt);

/// <summary>One version of a type's template (the contract's AiPromptResponse).</summary>
public sealed record TemplateVersion(
    string PromptType,
    int VersionNumber,
    string Template,
    bool IsActive,
    JsonElement? TestResultJson,
    string? ManualNote,
    DateTimeOffset? LastTestedAt,
    DateTimeOffset? ActivatedAt,
    DateTimeOffset CreatedAt);

/// <summary>A line diff between two versions: each line "equal", "delete" (only in from) or "insert" (only in to).</summary>
public sealed record TemplateDiff(string PromptType, int From, int To, IReadOnlyList<TemplateDiffLine> Lines);

public sealed record TemplateDiffLine(string Op, string Text);

/// <summary>A sandbox test: the tested version's run and, compared, the active version's on the same input.</summary>
public sealed record SandboxResult(SandboxRun Tested, SandboxRun? Active);

/// <summary>One sandbox run; once ended, its output judged against the type's schema.</summary>
public sealed record SandboxRun(
    Guid RequestId,
    string Status,
    int VersionNumber,
    string Provider,
    string Model,
    string? OutputText,
    bool? Valid,
    IReadOnlyList<string> ValidationErrors,
    SandboxError? Error)
{
    public bool IsRunning => Status is "pending" or "generating";
}

public sealed record SandboxError(string Code, string UserMessage, string RecoveryAction);

/// <summary>An audit entry (<c>GET /api/v1/audit-logs</c>).</summary>
public sealed record AuditEntry(
    Guid Id,
    Guid? ActorUserId,
    string? ActorEmail,
    string Action,
    string EntityType,
    string? EntityId,
    JsonElement? Before,
    JsonElement? After,
    string? TraceId,
    DateTimeOffset CreatedAt);
