namespace AiPrompts.Core.Templates;

/// <summary>
/// A prompt type as data: the placeholders each of its templates must contain, the variables a template
/// may use, the JSON schema its output must satisfy (optional) and the section whose model runs it.
/// </summary>
public sealed class PromptTemplate
{
    public required string PromptType { get; set; }
    public string? Description { get; set; }
    public required string Section { get; set; }
    public List<string> RequiredPlaceholders { get; set; } = [];
    public List<string> AllowedVariables { get; set; } = [];

    /// <summary>JSON Schema text (the subset <see cref="JsonSchemaValidator"/> supports), or null.</summary>
    public string? OutputSchema { get; set; }

    /// <summary>The number the next version gets; never goes back, so a deleted number is never reused.</summary>
    public int NextVersion { get; set; } = 1;

    /// <summary>Grows with every activation and rule change; cached copies carry it so an older copy never replaces a newer one.</summary>
    public long Revision { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One version of a type's template. At most one version per type is active (a partial unique index).</summary>
public sealed class PromptTemplateVersion
{
    public Guid Id { get; set; }
    public required string PromptType { get; set; }
    public int VersionNumber { get; set; }
    public required string Template { get; set; }
    public bool IsActive { get; set; }

    /// <summary>The last sandbox run's output (JSON), when it satisfied the type's schema.</summary>
    public string? TestResultJson { get; set; }
    public string? ManualNote { get; set; }
    public DateTimeOffset? LastTestedAt { get; set; }
    public DateTimeOffset? ActivatedAt { get; set; }
    public Guid? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
