using System.Collections.Frozen;

namespace AiPrompts.Core.Errors;

/// <summary>The texts of one error in one language.</summary>
public sealed record LocalizedMessage(string Message, string UserMessage, string RecoveryAction);

/// <summary>
/// Error texts per language, from the JSON files in Core/Messages (one file per language, named by its
/// tag: en.json, th.json). Adding a language is adding a file. English is the fallback for any code or
/// language that has no text. Texts may hold {name} slots, filled from the arguments given.
/// </summary>
public sealed class MessageCatalog
{
    public const string DefaultLanguage = "en";
    private const string ResourcePrefix = "AiPrompts.Messages.";

    private readonly FrozenDictionary<string, FrozenDictionary<string, LocalizedMessage>> _languages;

    public MessageCatalog() : this(LoadEmbedded())
    {
    }

    public MessageCatalog(IReadOnlyDictionary<string, IReadOnlyDictionary<string, LocalizedMessage>> languages)
    {
        _languages = languages.ToFrozenDictionary(
            l => l.Key,
            l => l.Value.ToFrozenDictionary(StringComparer.Ordinal),
            StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Languages => _languages.Keys;

    public IReadOnlyCollection<string> CodesOf(string language) =>
        _languages.TryGetValue(language, out var codes) ? codes.Keys : [];

    /// <summary>Picks the first supported language from an ordered preference list (tags like "th-TH" match "th").</summary>
    public string ChooseLanguage(IEnumerable<string> preferred)
    {
        foreach (var tag in preferred)
        {
            if (_languages.ContainsKey(tag))
            {
                return _languages.Keys.First(k => string.Equals(k, tag, StringComparison.OrdinalIgnoreCase));
            }
            var dash = tag.IndexOf('-');
            if (dash > 0 && _languages.ContainsKey(tag[..dash]))
            {
                return tag[..dash].ToLowerInvariant();
            }
        }
        return DefaultLanguage;
    }

    public LocalizedMessage Get(string code, string language, IReadOnlyDictionary<string, string>? args = null)
    {
        var message = Find(code, language) ?? Find(code, DefaultLanguage) ?? Find(ErrorCode.InternalError.Code, DefaultLanguage)!;
        return args is null || args.Count == 0
            ? message
            : new LocalizedMessage(Fill(message.Message, args), Fill(message.UserMessage, args), Fill(message.RecoveryAction, args));
    }

    private LocalizedMessage? Find(string code, string language) =>
        _languages.TryGetValue(language, out var codes) && codes.TryGetValue(code, out var message) ? message : null;

    private static string Fill(string text, IReadOnlyDictionary<string, string> args)
    {
        foreach (var (name, value) in args)
        {
            text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        }
        return text;
    }

    private static Dictionary<string, IReadOnlyDictionary<string, LocalizedMessage>> LoadEmbedded() =>
        EmbeddedLanguageFiles.Load<IReadOnlyDictionary<string, LocalizedMessage>, Dictionary<string, LocalizedMessage>>(ResourcePrefix);
}
