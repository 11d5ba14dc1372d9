using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace AiPrompts.Core.Errors;

/// <summary>
/// Translations of the free texts an answer carries besides its error code: the field messages under
/// <c>errors</c> and the <c>detail</c> line. The code writes them in English, with values in them
/// ("The limit must be between 1 and 200."); Core/Messages/Texts/{language}.json maps each English text,
/// its values as {slots}, to the language's text with the same slots. A text is matched whole; the values
/// taken from it are themselves translated when they are a known text (a type name, "none"). A text with
/// no translation stays English; the fuzzer fails a Thai answer that holds one.
/// </summary>
public sealed partial class TextCatalog
{
    private const string ResourcePrefix = "AiPrompts.Texts.";

    private readonly FrozenDictionary<string, Language> _languages;

    public TextCatalog() : this(LoadEmbedded())
    {
    }

    public TextCatalog(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> translations)
    {
        _languages = translations.ToFrozenDictionary(l => l.Key, l => new Language(l.Value), StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Languages => _languages.Keys;

    /// <summary>The English patterns a language translates.</summary>
    public IReadOnlyCollection<string> PatternsOf(string language) =>
        _languages.TryGetValue(language, out var table) ? table.Patterns : [];

    /// <summary>The text in <paramref name="language"/>, or the text itself when it has no translation.</summary>
    public string Translate(string text, string language) =>
        _languages.TryGetValue(language, out var table) ? table.Translate(text) ?? text : text;

    private static Dictionary<string, IReadOnlyDictionary<string, string>> LoadEmbedded() =>
        EmbeddedLanguageFiles.Load<IReadOnlyDictionary<string, string>, Dictionary<string, string>>(ResourcePrefix);

    [GeneratedRegex(@"\{([a-zA-Z]+)\}")]
    private static partial Regex Slot();

    private sealed class Language
    {
        private readonly FrozenDictionary<string, string> _exact;
        private readonly (Regex English, string Target)[] _patterns;

        public Language(IReadOnlyDictionary<string, string> table)
        {
            Patterns = [.. table.Keys];
            _exact = table.Where(p => !Slot().IsMatch(p.Key)).ToFrozenDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            // Longer literal text first, so "Unknown provider '{provider}'. …" wins over a looser pattern.
            _patterns = [.. table.Where(p => Slot().IsMatch(p.Key))
                .OrderByDescending(p => Slot().Replace(p.Key, "").Length)
                .Select(p => (ToRegex(p.Key), p.Value))];
        }

        public IReadOnlyCollection<string> Patterns { get; }

        public string? Translate(string text)
        {
            if (_exact.TryGetValue(text, out var exact))
            {
                return exact;
            }
            foreach (var (english, target) in _patterns)
            {
                if (english.Match(text) is { Success: true } match)
                {
                    return Slot().Replace(target, slot =>
                    {
                        var value = match.Groups[slot.Groups[1].Value].Value;
                        return _exact.TryGetValue(value, out var known) ? known : value;
                    });
                }
            }
            return null;
        }

        private static Regex ToRegex(string pattern)
        {
            var parts = Slot().Split(pattern);
            // Split with a capture group alternates literal text and slot names.
            var regex = string.Concat(parts.Select((part, i) => i % 2 == 0 ? Regex.Escape(part) : $"(?<{part}>.+?)"));
            return new Regex($"^{regex}$", RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
    }
}
