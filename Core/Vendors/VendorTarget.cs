using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;

namespace AiPrompts.Core.Vendors;

/// <summary>A vendor key in memory. Its ToString never shows it, so it cannot leak through a log or a record's ToString.</summary>
public sealed class VendorCredential(string secret)
{
    public string Secret { get; } = secret;

    public override string ToString() => "VendorCredential(***)";
}

/// <summary>Everything needed to call one model of one provider with one credential.</summary>
public sealed record VendorTarget(
    string ProviderId,
    string ProviderKind,
    string? BaseUrl,
    string ModelId,
    VendorCredential? Credential,
    KeySource KeySource,
    ModelPrices Prices,
    IReadOnlyList<string>? Capabilities = null)
{
    /// <summary>Whether the catalogue says the model can (tools, json_schema, json, …).</summary>
    public bool Supports(string capability) => Capabilities?.Contains(capability, StringComparer.Ordinal) ?? false;

    /// <summary>The name used in telemetry (gen_ai.provider.name).</summary>
    public string TelemetryName => ProviderId;
}
