namespace AiPrompts.Web.Settings;

/// <summary>A provider as <c>GET /api/v1/ai/providers</c> shows it to the caller (the shared key only to a super admin).</summary>
public sealed record ProviderSettings(
    string Id,
    string DisplayName,
    string Kind,
    bool Enabled,
    bool IsCustom,
    bool Retired,
    bool NeedsKey,
    KeySettings PersonalKey,
    SharedKeySettings? SharedKey);

public sealed record KeySettings(bool IsSet, string? LastFour, DateTimeOffset? UpdatedAt);

public sealed record SharedKeySettings(bool IsSet, string? LastFour, DateTimeOffset? UpdatedAt, bool Enabled, bool AllowAdmins, bool AllowUsers);

public sealed record KeyTestOutcome(bool Ok, string Model, long DurationMs, string? UserMessage);

/// <summary>Which key an action is about.</summary>
public enum KeyKind { Personal, Shared }

/// <summary>A custom OpenAI-compatible provider to create, with its first model.</summary>
public sealed record NewCustomProvider(string Id, string DisplayName, string BaseUrl, string Model, IReadOnlyList<string> Capabilities);
