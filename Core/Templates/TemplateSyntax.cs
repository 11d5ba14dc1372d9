using System.Text;

namespace AiPrompts.Core.Templates;

/// <summary>A placeholder found in a template: its variable name and where it starts (0-based).</summary>
public readonly record struct Placeholder(string Name, int Index, int Length);

/// <summary>Why a template could not be parsed: the position (0-based) and what is wrong there.</summary>
public sealed record TemplateSyntaxError(int Index, string Reason);

/// <summary>
/// The template language: text with <c>{{name}}</c> placeholders (a name is a letter or '_' followed by
/// letters, digits and '_'; spaces inside the braces are allowed). Single braces are plain text, so JSON
/// examples can be written as they are. A <c>{{</c> that is not closed, or whose content is not a name,
/// is an error, never plain text: a typo must not reach a model silently.
/// </summary>
public static class TemplateSyntax
{
    public const int MaxNameLength = 64;

    /// <summary>The placeholders in order of appearance, or the first syntax error.</summary>
    public static (IReadOnlyList<Placeholder> Placeholders, TemplateSyntaxError? Error) Parse(string template)
    {
        var found = new List<Placeholder>();
        var i = 0;
        while (true)
        {
            var open = template.IndexOf("{{", i, StringComparison.Ordinal);
            if (open < 0)
            {
                return (found, null);
            }
            var close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            var nextOpen = template.IndexOf("{{", open + 2, StringComparison.Ordinal);
            if (close < 0 || (nextOpen >= 0 && nextOpen < close))
            {
                return (found, new TemplateSyntaxError(open, "'{{' is not closed by '}}'"));
            }
            var name = template.AsSpan(open + 2, close - open - 2).Trim(' ');
            if (!IsName(name))
            {
                return (found, new TemplateSyntaxError(open, $"'{template[open..(close + 2)]}' is not a placeholder: a name is a letter or '_' then letters, digits or '_', at most {MaxNameLength} characters"));
            }
            found.Add(new Placeholder(name.ToString(), open, close + 2 - open));
            i = close + 2;
        }
    }

    public static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxNameLength || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Fills every placeholder with its variable. Strict: a placeholder without a variable, or a variable
    /// the template does not use, is an error; values are inserted as they are, never parsed again.
    /// </summary>
    /// <summary>
    /// The template with its placeholders filled. With <paramref name="maxLength"/>, a text that would be
    /// longer is refused (<see cref="RenderResult.TooLong"/>) before it is built: 1,000 placeholders and a
    /// large value must not cost a gigabyte of memory to find out.
    /// </summary>
    public static RenderResult Render(string template, IReadOnlyDictionary<string, string> variables, int? maxLength = null)
    {
        var (placeholders, error) = Parse(template);
        if (error is not null)
        {
            return RenderResult.Failed([], [], error);
        }
        var used = placeholders.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var missing = used.Where(n => !variables.ContainsKey(n)).Order(StringComparer.Ordinal).ToArray();
        var extra = variables.Keys.Where(n => !used.Contains(n)).Order(StringComparer.Ordinal).ToArray();
        if (missing.Length > 0 || extra.Length > 0)
        {
            return RenderResult.Failed(missing, extra, null);
        }
        var length = (long)template.Length;
        foreach (var p in placeholders)
        {
            length += variables[p.Name].Length - p.Length;
        }
        // UTF-16 units: at most two per character, so a text over twice the limit is certainly too long.
        if (maxLength is { } max && length > 2L * max)
        {
            return new RenderResult(null, [], [], null) { TooLong = true };
        }
        var text = new StringBuilder((int)length);
        var at = 0;
        foreach (var p in placeholders)
        {
            text.Append(template, at, p.Index - at).Append(variables[p.Name]);
            at = p.Index + p.Length;
        }
        return RenderResult.Rendered(text.Append(template, at, template.Length - at).ToString());
    }
}

/// <summary>The rendered text, or why there is none.</summary>
public sealed record RenderResult(string? Text, IReadOnlyList<string> Missing, IReadOnlyList<string> Extra, TemplateSyntaxError? SyntaxError)
{
    public bool Succeeded => Text is not null;

    /// <summary>Refused before rendering: the text would be longer than the limit given.</summary>
    public bool TooLong { get; init; }

    public static RenderResult Rendered(string text) => new(text, [], [], null);

    public static RenderResult Failed(IReadOnlyList<string> missing, IReadOnlyList<string> extra, TemplateSyntaxError? error) => new(null, missing, extra, error);
}
