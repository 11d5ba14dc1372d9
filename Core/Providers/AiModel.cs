namespace AiPrompts.Core.Providers;

/// <summary>
/// One model of a provider. Prices are US dollars per million tokens (for speech models, per million
/// input characters). The effective values are the super admin's overrides where set, else the catalogue's.
/// </summary>
public sealed class AiModel
{
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string DisplayName { get; set; }
    public required string[] Capabilities { get; set; }
    public string[]? CapabilitiesOverride { get; set; }
    public int? ContextSize { get; set; }
    /// <summary>Prices are numeric(14, 6): up to 99,999,999.999999 dollars per million tokens.</summary>
    public const int PricePrecision = 14;
    public const int PriceScale = 6;

    public decimal? InputPrice { get; set; }
    public decimal? OutputPrice { get; set; }
    public decimal? InputPriceOverride { get; set; }
    public decimal? OutputPriceOverride { get; set; }
    public bool? EnabledOverride { get; set; }
    public bool Retired { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public IReadOnlyList<string> EffectiveCapabilities => CapabilitiesOverride ?? Capabilities;
    public decimal? EffectiveInputPrice => InputPriceOverride ?? InputPrice;
    public decimal? EffectiveOutputPrice => OutputPriceOverride ?? OutputPrice;
    public bool IsEnabled => !Retired && (EnabledOverride ?? true);

    public bool Has(string capability) => EffectiveCapabilities.Contains(capability, StringComparer.Ordinal);

    public ModelPrices Prices => new(EffectiveInputPrice, EffectiveOutputPrice);
}

/// <summary>US dollars per million input and output tokens; null when unknown.</summary>
public sealed record ModelPrices(decimal? InputPerMillion, decimal? OutputPerMillion)
{
    public static readonly ModelPrices Unknown = new(null, null);

    public decimal? CostOf(long inputTokens, long outputTokens) =>
        InputPerMillion is null && OutputPerMillion is null
            ? null
            : Math.Round(((InputPerMillion ?? 0m) * inputTokens + (OutputPerMillion ?? 0m) * outputTokens) / 1_000_000m, 8);
}
