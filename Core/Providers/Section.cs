namespace AiPrompts.Core.Providers;

/// <summary>One of the four uses of AI, with its one active provider and model.</summary>
public sealed class Section
{
    public required string Name { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }

    /// <summary>Whether prompts and outputs of this section are kept when a request does not say.</summary>
    public bool StoreByDefault { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
    public Guid? UpdatedBy { get; set; }
}

public static class Sections
{
    public const string Chat = "chat";
    public const string Content = "content";
    public const string Image = "image";
    public const string Audio = "audio";

    public static IReadOnlyList<string> All { get; } = [Chat, Content, Image, Audio];

    public static bool IsKnown(string section) => All.Contains(section, StringComparer.Ordinal);

    /// <summary>The capability a model needs to serve the section; the names match one to one.</summary>
    public static string CapabilityOf(string section) => section;
}
