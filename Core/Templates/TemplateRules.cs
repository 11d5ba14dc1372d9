using AiPrompts.Core.Errors;

namespace AiPrompts.Core.Templates;

/// <summary>Why a template does not fit its type: a stable code, the arguments of its message, and a detail.</summary>
public sealed record TemplateProblem(ErrorCode Code, IReadOnlyDictionary<string, string> Args, string Detail);

/// <summary>The checks a template passes before it is saved as a version of its type.</summary>
public static class TemplateRules
{
    public static string Placeholder(string name) => "{{" + name + "}}";

    /// <summary>
    /// Null when the template fits: it parses, uses only the type's allowed variables, and contains every
    /// required placeholder. Otherwise the first problem, in that order.
    /// </summary>
    public static TemplateProblem? Check(string template, IReadOnlyCollection<string> required, IReadOnlyCollection<string> allowed)
    {
        var (placeholders, error) = TemplateSyntax.Parse(template);
        if (error is not null)
        {
            return new TemplateProblem(ErrorCode.TemplateSyntaxInvalid,
                new Dictionary<string, string> { ["position"] = error.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), ["reason"] = error.Reason },
                $"Character {error.Index}: {error.Reason}.");
        }
        if (placeholders.FirstOrDefault(p => !allowed.Contains(p.Name)) is { Name: not null } unknown)
        {
            var list = string.Join(", ", allowed.Order(StringComparer.Ordinal).Select(Placeholder));
            return new TemplateProblem(ErrorCode.TemplatePlaceholderUnknown,
                new Dictionary<string, string> { ["placeholder"] = Placeholder(unknown.Name), ["allowed"] = list },
                $"{Placeholder(unknown.Name)} at character {unknown.Index} is not one of: {list}.");
        }
        var used = placeholders.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var missing = required.Where(r => !used.Contains(r)).ToArray();
        if (missing.Length > 0)
        {
            return new TemplateProblem(ErrorCode.TemplatePlaceholderMissing,
                new Dictionary<string, string> { ["placeholder"] = Placeholder(missing[0]) },
                $"Missing: {string.Join(", ", missing.Select(Placeholder))}.");
        }
        return null;
    }
}
