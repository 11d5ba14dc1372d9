using System.Xml.Linq;

namespace AiPrompts.Web.Tests;

/// <summary>Every text of the console exists, non-empty, in every language it offers.</summary>
public sealed class TranslationsTests
{
    private static readonly string[] Languages = ["fa", "ar", "th", "vi", "ko"];

    [Fact]
    public void Every_language_has_every_text_of_the_english_resources()
    {
        var english = Texts("Text.resx");
        Assert.True(english.Count > 20, $"only {english.Count} English texts");
        foreach (var language in Languages)
        {
            var texts = Texts($"Text.{language}.resx");
            Assert.Empty(english.Keys.Except(texts.Keys));
            Assert.Empty(texts.Keys.Except(english.Keys));
            Assert.All(texts, t => Assert.False(string.IsNullOrWhiteSpace(t.Value), $"{language}: {t.Key} is empty"));
            // Placeholders survive translation ({0}, {1}...).
            Assert.All(english, t => Assert.Equal(Placeholders(t.Value), Placeholders(texts[t.Key])));
        }
    }

    [Fact]
    public void No_two_keys_differ_only_by_case()
    {
        // The resource lookup does not tell Role_Admin from Role_admin: with both, the page shows the key itself.
        var keys = XDocument.Load(Path.Combine(WebFolder, "Localization", "Text.resx")).Root!.Elements("data").Select(d => (string)d.Attribute("name")!).ToList();
        Assert.Empty(keys.GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => string.Join(" / ", g)));
    }

    [Fact]
    public void Every_text_formats_with_its_arguments()
    {
        // A text with arguments goes through string.Format, where "{{" means "{": a "{{placeholder}}" shown as it is
        // must be written "{{{{placeholder}}}}", or the page shows "{placeholder}".
        foreach (var language in Languages.Prepend(""))
        {
            var texts = Texts(language.Length == 0 ? "Text.resx" : $"Text.{language}.resx");
            Assert.All(texts.Where(t => Placeholders(t.Value).Length > 0), t =>
            {
                var formatted = string.Format(System.Globalization.CultureInfo.InvariantCulture, t.Value, "a", "b", "c", "d", "e", "f", "g", "h");
                Assert.DoesNotMatch("(?<!\\{)\\{(?!\\{)|(?<!\\})\\}(?!\\})", formatted);
            });
        }
    }

    [Fact]
    public void Every_text_a_page_names_exists()
    {
        var english = Texts("Text.resx");
        var named = Directory.EnumerateFiles(Path.Combine(WebFolder, ""), "*.razor", SearchOption.AllDirectories)
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), "T\\[\"([A-Za-z_]+)\"").Select(m => m.Groups[1].Value))
            .Distinct()
            .ToList();
        Assert.NotEmpty(named);
        Assert.Empty(named.Except(english.Keys));
    }

    private static string WebFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
                {
                    return Path.Combine(dir.FullName, "Web");
                }
            }
            throw new InvalidOperationException("Aspire.sln not found");
        }
    }

    private static Dictionary<string, string> Texts(string file) =>
        XDocument.Load(Path.Combine(WebFolder, "Localization", file)).Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "");

    private static string Placeholders(string text) =>
        string.Join(',', System.Text.RegularExpressions.Regex.Matches(text, "\\{\\d+\\}").Select(m => m.Value).Order(StringComparer.Ordinal));
}
