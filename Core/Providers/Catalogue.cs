using System.Text.Json;
using SectionNames = AiPrompts.Core.Providers.Sections;

namespace AiPrompts.Core.Providers;

/// <summary>The providers and models file (Providers/catalogue.json, or an operator's file at <c>Ai:CataloguePath</c>).</summary>
public sealed record Catalogue(IReadOnlyList<CatalogueProvider> Providers, IReadOnlyDictionary<string, CatalogueSection> Sections)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>The catalogue built into this build.</summary>
    public static Catalogue BuiltIn()
    {
        using var stream = typeof(Catalogue).Assembly.GetManifestResourceStream("AiPrompts.catalogue.json")
            ?? throw new InvalidOperationException("The built-in catalogue resource is missing.");
        return Parse(stream);
    }

    public static Catalogue Load(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return BuiltIn();
        }
        using var stream = File.OpenRead(path);
        return Parse(stream);
    }

    public static Catalogue Parse(Stream json)
    {
        var catalogue = JsonSerializer.Deserialize<Catalogue>(json, Json)
            ?? throw new InvalidDataException("The catalogue is empty.");
        var problems = catalogue.Validate();
        return problems.Count == 0
            ? catalogue
            : throw new InvalidDataException("The catalogue is invalid: " + string.Join("; ", problems));
    }

    /// <summary>Every reason the file cannot be loaded; empty when it is sound.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        foreach (var duplicate in Providers.GroupBy(p => p.Id).Where(g => g.Count() > 1))
        {
            problems.Add($"provider '{duplicate.Key}' appears twice");
        }
        foreach (var provider in Providers)
        {
            if (!ProviderRules.IsValidId(provider.Id))
            {
                problems.Add($"provider id '{provider.Id}' must be 2-40 lowercase letters, digits or dashes");
            }
            if (!ProviderKinds.All.Contains(provider.Kind))
            {
                problems.Add($"provider '{provider.Id}' has unknown kind '{provider.Kind}'");
            }
            if (provider.Kind != ProviderKinds.Local && !Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out _))
            {
                problems.Add($"provider '{provider.Id}' needs an absolute baseUrl");
            }
            foreach (var duplicate in provider.Models.GroupBy(m => m.Id).Where(g => g.Count() > 1))
            {
                problems.Add($"model '{provider.Id}/{duplicate.Key}' appears twice");
            }
            foreach (var model in provider.Models)
            {
                var unknown = model.Capabilities.Where(c => !Capabilities.IsKnown(c)).ToList();
                if (unknown.Count > 0)
                {
                    problems.Add($"model '{provider.Id}/{model.Id}' has unknown capabilities: {string.Join(", ", unknown)}");
                }
                if (model.InputPrice < 0 || model.OutputPrice < 0)
                {
                    problems.Add($"model '{provider.Id}/{model.Id}' has a negative price");
                }
            }
        }
        foreach (var section in SectionNames.All)
        {
            if (!Sections.TryGetValue(section, out var choice))
            {
                problems.Add($"section '{section}' has no default");
                continue;
            }
            var model = Providers.FirstOrDefault(p => p.Id == choice.Provider)?.Models.FirstOrDefault(m => m.Id == choice.Model);
            if (model is null || !model.Capabilities.Contains(SectionNames.CapabilityOf(section)))
            {
                problems.Add($"section '{section}' default {choice.Provider}/{choice.Model} is not a catalogue model with capability '{section}'");
            }
        }
        return problems;
    }
}

public sealed record CatalogueProvider(string Id, string DisplayName, string Kind, string? BaseUrl, bool Enabled, IReadOnlyList<CatalogueModel> Models);

public sealed record CatalogueModel(
    string Id, string DisplayName, IReadOnlyList<string> Capabilities, int? ContextSize, decimal? InputPrice, decimal? OutputPrice);

public sealed record CatalogueSection(string Provider, string Model);

public static class ProviderRules
{
    public static bool IsValidId(string? id) =>
        id is { Length: >= 2 and <= 40 }
        && id[0] is (>= 'a' and <= 'z') or (>= '0' and <= '9')
        && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
