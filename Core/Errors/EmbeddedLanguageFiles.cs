using System.Text.Json;

namespace AiPrompts.Core.Errors;

/// <summary>The JSON files of Core/Messages embedded under one prefix, one per language, by language tag.</summary>
internal static class EmbeddedLanguageFiles
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static Dictionary<string, TValue> Load<TValue, TFile>(string prefix) where TFile : TValue
    {
        var assembly = typeof(EmbeddedLanguageFiles).Assembly;
        var result = new Dictionary<string, TValue>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            result[name[prefix.Length..^".json".Length]] = JsonSerializer.Deserialize<TFile>(stream, Options)
                ?? throw new InvalidOperationException($"The embedded file {name} is empty.");
        }
        return result;
    }
}
