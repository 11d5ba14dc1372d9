using System.Text.Json.Serialization;
using AiPrompts.Api.Input;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;

namespace AiPrompts.Api.Ai;

/// <summary>A key as the API shows it: whether it is set, and its last four characters. Never the key.</summary>
public sealed record KeyState(bool IsSet, string? LastFour, DateTimeOffset? UpdatedAt)
{
    public static KeyState Of(ProviderKey? key) => key is null ? new(false, null, null) : new(true, "…" + key.LastFour, key.UpdatedAt);
}

/// <summary>The shared key and its policy: shown to the super admin only.</summary>
public sealed record SharedKeyState(bool IsSet, string? LastFour, DateTimeOffset? UpdatedAt, bool Enabled, bool AllowAdmins, bool AllowUsers);

public sealed record ProviderResponse(
    string Id,
    string DisplayName,
    string Kind,
    string? BaseUrl,
    bool Enabled,
    bool IsCustom,
    bool Retired,
    bool NeedsKey,
    KeyState PersonalKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SharedKeyState? SharedKey);

public sealed record CustomModelRequest(
    string? Id,
    string? DisplayName,
    string[]? Capabilities,
    int? ContextSize,
    [property: Numeric(AiModel.PricePrecision, AiModel.PriceScale)] decimal? InputPrice,
    [property: Numeric(AiModel.PricePrecision, AiModel.PriceScale)] decimal? OutputPrice);

public sealed record CreateProviderRequest(string? Id, string? DisplayName, string? BaseUrl, bool? Enabled, CustomModelRequest[]? Models);

public sealed record UpdateProviderRequest(bool? Enabled, string? DisplayName, string? BaseUrl);

public sealed record SetKeyRequest(string? Key);

public sealed record SharedKeyPolicyRequest(bool? Enabled, bool? AllowAdmins, bool? AllowUsers);

public sealed record TestKeyRequest(string? KeySource, string? Model);

public sealed record TestKeyResponse(
    bool Ok,
    string Provider,
    string Model,
    string KeySource,
    long DurationMs,
    string? Code,
    string? VendorMessage,
    string? UserMessage,
    string? RecoveryAction,
    int? RetryAfterSeconds);

public sealed record ModelResponse(
    string Provider,
    string Id,
    string DisplayName,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string> CatalogueCapabilities,
    bool CapabilitiesOverridden,
    int? ContextSize,
    decimal? InputPrice,
    decimal? OutputPrice,
    bool PricesOverridden,
    bool Enabled,
    bool Retired)
{
    public static ModelResponse Of(AiModel m) => new(
        m.ProviderId, m.ModelId, m.DisplayName, m.EffectiveCapabilities, m.Capabilities, m.CapabilitiesOverride is not null, m.ContextSize,
        m.EffectiveInputPrice, m.EffectiveOutputPrice, m.InputPriceOverride is not null || m.OutputPriceOverride is not null, m.IsEnabled, m.Retired);
}

/// <summary>Changes to one model. <c>Reset</c> names overrides to drop back to the catalogue: "enabled", "capabilities", "prices".</summary>
public sealed record UpdateModelRequest(
    bool? Enabled,
    string[]? Capabilities,
    [property: Numeric(AiModel.PricePrecision, AiModel.PriceScale)] decimal? InputPrice,
    [property: Numeric(AiModel.PricePrecision, AiModel.PriceScale)] decimal? OutputPrice,
    string[]? Reset);

public sealed record SectionResponse(string Section, string Provider, string Model, bool StoreByDefault, DateTimeOffset UpdatedAt)
{
    public static SectionResponse Of(Section s) => new(s.Name, s.ProviderId, s.ModelId, s.StoreByDefault, s.UpdatedAt);
}

public sealed record SetSectionRequest(string? Provider, string? Model, bool? StoreByDefault);

/// <summary>What the caller would get for one section, or why not (localised).</summary>
public sealed record AvailabilityResponse(
    string Section,
    string Provider,
    string Model,
    bool Available,
    string? KeySource,
    string? Code,
    string? UserMessage,
    string? RecoveryAction);

public sealed record PopulateResponse(int ProvidersAdded, int ProvidersUpdated, int ProvidersRetired, int ModelsAdded, int ModelsUpdated, int ModelsRetired, int SectionsAdded);
