using AiPrompts.Core.Templates;

namespace AiPrompts.Web.Templates;

/// <summary>What is wrong with a template for its type, in the order the Api checks it: syntax, unknown names, missing ones.</summary>
public enum TemplateFindingKind
{
    Fits,
    Empty,
    Syntax,
    Unknown,
    Missing,
}

/// <summary>The first problem of a template (its kind, and the placeholders or the position concerned), or that it fits.</summary>
public sealed record TemplateFinding(TemplateFindingKind Kind, string Detail = "")
{
    public bool Fits => Kind == TemplateFindingKind.Fits;
}

/// <summary>
/// The checks of a new version as one types: the Api's template language (the same parser, linked from Core) and the
/// type's rules. The Api checks again when the version is saved; this is so the author sees a mistake where it is made.
/// </summary>
public static class TemplateCheck
{
    public static TemplateFinding Of(string? template, IReadOnlyCollection<string> required, IReadOnlyCollection<string> allowed)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return new(TemplateFindingKind.Empty);
        }
        var (placeholders, error) = TemplateSyntax.Parse(template);
        if (error is not null)
        {
            return new(TemplateFindingKind.Syntax, (error.Index + 1).ToString(System.Globalization.CultureInfo.CurrentCulture));
        }
        var unknown = placeholders.Select(p => p.Name).Where(n => !allowed.Contains(n)).Distinct(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
        {
            return new(TemplateFindingKind.Unknown, Braced(unknown));
        }
        var used = placeholders.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var missing = required.Where(r => !used.Contains(r)).ToArray();
        return missing.Length > 0 ? new(TemplateFindingKind.Missing, Braced(missing)) : new(TemplateFindingKind.Fits);
    }

    public static string Braced(IEnumerable<string> names) => string.Join(", ", names.Select(n => "{{" + n + "}}"));
}
