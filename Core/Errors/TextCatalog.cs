using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace AiPrompts.Core.Errors;

/// <summary>
/// Translations of the free texts an answer carries besides its error code: the field messages under <c>errors</c> and
/// the <c>detail</c> line. Every text has a stable key: Core/Messages/Texts/en.json gives each key its English text, as
/// the code writes it, with the values in it as {slots}; each other language's file gives the same keys the language's
/// text with the same slots. An English text the code produces is recognised by its English pattern (matched whole),
/// and rendered from the key in the caller's language, with its values (themselves translated when they are a known
/// text: a type name, "none"). Rewording an English text changes en.json, not the key: its translations stay attached.
/// A text with no key, or a key a language lacks, stays English; tests fail on both.
/// </summary>
public sealed partial class TextCatalog
{
    public const string SourceLanguage = "en";
    private const string ResourcePrefix = "AiPrompts.Texts.";

    private readonly FrozenDictionary<string, FrozenDictionary<string, string>> _languages;
    private readonly FrozenDictionary<string, string> _exact;
    private readonly (Regex English, string Key)[] _patterns;

    public TextCatalog() : this(LoadEmbedded())
    {
    }

    /// <param name="texts">Language → key → text; <see cref="SourceLanguage"/> holds the English of every key.</param>
    public TextCatalog(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> texts)
    {
        _languages = texts.ToFrozenDictionary(l => l.Key, l => l.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.OrdinalIgnoreCase);
        var english = _languages.TryGetValue(SourceLanguage, out var source) ? source : FrozenDictionary<string, string>.Empty;
        _exact = english.Where(p => !Slot().IsMatch(p.Value)).ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
        // Longer literal text first, so "Unknown provider '{provider}'. …" wins over a looser pattern.
        _patterns = [.. english.Where(p => Slot().IsMatch(p.Value))
            .OrderByDescending(p => Slot().Replace(p.Value, "").Length)
            .Select(p => (ToRegex(p.Value), p.Key))];
    }

    /// <summary>The languages texts are translated into (the source language aside).</summary>
    public IReadOnlyCollection<string> Languages => [.. _languages.Keys.Where(l => !string.Equals(l, SourceLanguage, StringComparison.OrdinalIgnoreCase))];

    /// <summary>Every key, with its English text.</summary>
    public IReadOnlyDictionary<string, string> English => _languages.TryGetValue(SourceLanguage, out var source) ? source : FrozenDictionary<string, string>.Empty;

    /// <summary>The keys <paramref name="language"/> has a text for.</summary>
    public IReadOnlyDictionary<string, string> TextsOf(string language) =>
        _languages.TryGetValue(language, out var table) ? table : FrozenDictionary<string, string>.Empty;

    /// <summary>The key of an English text the code produced, with the values of its slots; null when it has none.</summary>
    public (string Key, IReadOnlyDictionary<string, string> Values)? KeyOf(string english)
    {
        if (_exact.TryGetValue(english, out var exact))
        {
            return (exact, FrozenDictionary<string, string>.Empty);
        }
        foreach (var (pattern, key) in _patterns)
        {
            if (pattern.Match(english) is { Success: true } match)
            {
                return (key, pattern.GetGroupNames().Where(n => !int.TryParse(n, out _)).ToDictionary(n => n, n => match.Groups[n].Value, StringComparer.Ordinal));
            }
        }
        return null;
    }

    /// <summary>The text in <paramref name="language"/>, or the text itself when it has no key or the language no text for it.</summary>
    public string Translate(string text, string language)
    {
        if (!_languages.TryGetValue(language, out var target) || KeyOf(text) is not { } found || !target.TryGetValue(found.Key, out var translated))
        {
            return text;
        }
        return Slot().Replace(translated, slot =>
        {
            var value = found.Values.TryGetValue(slot.Groups[1].Value, out var given) ? given : slot.Value;
            return _exact.TryGetValue(value, out var known) && target.TryGetValue(known, out var knownText) ? knownText : value;
        });
    }

    private static Dictionary<string, IReadOnlyDictionary<string, string>> LoadEmbedded() =>
        EmbeddedLanguageFiles.Load<IReadOnlyDictionary<string, string>, Dictionary<string, string>>(ResourcePrefix);

    [GeneratedRegex(@"\{([a-zA-Z]+)\}")]
    private static partial Regex Slot();

    private static Regex ToRegex(string pattern)
    {
        var parts = Slot().Split(pattern);
        // Split with a capture group alternates literal text and slot names.
        var regex = string.Concat(parts.Select((part, i) => i % 2 == 0 ? Regex.Escape(part) : $"(?<{part}>.+?)"));
        return new Regex($"^{regex}$", RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }
}
