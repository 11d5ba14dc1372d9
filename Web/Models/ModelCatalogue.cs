namespace AiPrompts.Web.Models;

/// <summary>One model as the Api lists it (<c>GET /api/v1/ai/models</c>); prices are US dollars per million tokens.</summary>
public sealed record ModelInfo(
    string Provider,
    string Id,
    string DisplayName,
    IReadOnlyList<string> Capabilities,
    int? ContextSize,
    decimal? InputPrice,
    decimal? OutputPrice,
    bool PricesOverridden,
    bool Enabled,
    bool Retired);

/// <summary>A section's active provider and model (<c>GET /api/v1/ai/sections</c>).</summary>
public sealed record SectionChoice(string Section, string Provider, string Model, bool StoreByDefault, DateTimeOffset UpdatedAt);

/// <summary>What the signed-in user would get for one section, or why not (<c>GET /api/v1/ai/availability</c>).</summary>
public sealed record SectionAvailability(string Section, string Provider, string Model, bool Available, string? KeySource, string? UserMessage, string? RecoveryAction);

/// <summary>What a reload of the catalogue changed (<c>POST /api/v1/ai/catalogue/populate</c>).</summary>
public sealed record CatalogueReload(int ProvidersAdded, int ProvidersUpdated, int ProvidersRetired, int ModelsAdded, int ModelsUpdated, int ModelsRetired, int SectionsAdded);

/// <summary>The four uses of AI; a section's models are those with the capability of the same name.</summary>
public static class SectionNames
{
    public static IReadOnlyList<string> All { get; } = ["chat", "content", "image", "audio"];
}

/// <summary>The choices a section offers: enabled providers, and of each only its enabled models with the section's capability.</summary>
public sealed class SectionOptions(IReadOnlyList<ModelInfo> models, IReadOnlySet<string> enabledProviders)
{
    public IReadOnlyList<string> ProvidersFor(string section) =>
        [.. ModelsFor(section).Select(m => m.Provider).Distinct(StringComparer.Ordinal)];

    public IReadOnlyList<ModelInfo> ModelsOf(string section, string provider) =>
        [.. ModelsFor(section).Where(m => m.Provider == provider)];

    private IEnumerable<ModelInfo> ModelsFor(string section) =>
        models.Where(m => m.Enabled && !m.Retired && enabledProviders.Contains(m.Provider) && m.Capabilities.Contains(section, StringComparer.Ordinal));
}
