namespace AiPrompts.Core.Providers;

/// <summary>A vendor (or the built-in local provider). Catalogue columns come from the catalogue file; overrides from a super admin.</summary>
public sealed class Provider
{
    public required string Id { get; set; }
    public required string DisplayName { get; set; }
    public required string Kind { get; set; }
    public string? BaseUrl { get; set; }

    /// <summary>Added by a super admin rather than by the catalogue; the populate step never touches it.</summary>
    public bool IsCustom { get; set; }

    /// <summary>No longer in the catalogue: kept for history, never usable.</summary>
    public bool Retired { get; set; }

    public bool EnabledDefault { get; set; }
    public bool? EnabledOverride { get; set; }

    public bool SharedKeyEnabled { get; set; } = true;
    public bool SharedAllowAdmins { get; set; }
    public bool SharedAllowUsers { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsEnabled => !Retired && (EnabledOverride ?? EnabledDefault);

    /// <summary>The shared-key policy: which roles may fall back on the shared key.</summary>
    public SharedKeyPolicy SharedPolicy => new(SharedKeyEnabled, SharedAllowAdmins, SharedAllowUsers);
}

public sealed record SharedKeyPolicy(bool Enabled, bool AllowAdmins, bool AllowUsers);

public static class ProviderKinds
{
    public const string OpenAICompatible = "openai_compatible";
    public const string Anthropic = "anthropic";
    public const string HuggingFace = "huggingface";
    public const string Local = "local";

    public static IReadOnlyList<string> All { get; } = [OpenAICompatible, Anthropic, HuggingFace, Local];

    /// <summary>Which capabilities an adapter of this kind can serve at all.</summary>
    public static IReadOnlyList<string> Serves(string kind) => kind switch
    {
        OpenAICompatible => [Capabilities.Chat, Capabilities.Content, Capabilities.Image, Capabilities.Audio, Capabilities.Vision, Capabilities.Json, Capabilities.Tools, Capabilities.JsonSchema, Capabilities.Embeddings],
        Anthropic => [Capabilities.Chat, Capabilities.Content, Capabilities.Vision, Capabilities.Json, Capabilities.Tools],
        HuggingFace => [Capabilities.Image],
        Local => [Capabilities.Chat, Capabilities.Content, Capabilities.Image, Capabilities.Audio, Capabilities.Json, Capabilities.Tools, Capabilities.JsonSchema, Capabilities.Embeddings],
        _ => [],
    };
}

public static class Capabilities
{
    public const string Chat = "chat";
    public const string Content = "content";
    public const string Image = "image";
    public const string Audio = "audio";
    public const string Vision = "vision";
    /// <summary>JSON mode: the answer is one JSON document (any shape).</summary>
    public const string Json = "json";

    /// <summary>Function tools: tool definitions in, tool calls out, tool results back.</summary>
    public const string Tools = "tools";

    /// <summary>Structured output: the vendor holds the answer to a JSON Schema (<c>response_format: json_schema</c>).</summary>
    public const string JsonSchema = "json_schema";

    /// <summary>Embedding vectors of texts (<c>/v1/embeddings</c>); no section, the caller names the model.</summary>
    public const string Embeddings = "embeddings";

    public static IReadOnlyList<string> All { get; } = [Chat, Content, Image, Audio, Vision, Json, Tools, JsonSchema, Embeddings];

    public static bool IsKnown(string capability) => All.Contains(capability, StringComparer.Ordinal);
}
