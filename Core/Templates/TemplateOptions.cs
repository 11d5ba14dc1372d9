namespace AiPrompts.Core.Templates;

/// <summary>Settings of versioned templates ("Templates").</summary>
public sealed class TemplateOptions
{
    public const string Section = "Templates";

    /// <summary>The longest template accepted, in characters.</summary>
    public int MaxTemplateLength { get; set; } = 100_000;

    /// <summary>How long an in-process copy of an active version is trusted at most (a backstop: invalidation is by message).</summary>
    public TimeSpan LocalCacheMaxAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the Redis copy of an active version lives.</summary>
    public TimeSpan RedisTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a sandbox test waits for its result before answering 202.</summary>
    public TimeSpan SandboxWait { get; set; } = TimeSpan.FromSeconds(30);
}
