using System.Text.Json;
namespace AiPrompts.Core.Templates;

/// <summary>Variables arrive as a JSON object of strings; anything else is a validation error, never coerced.</summary>
public static class TemplateVariables
{
    public static Dictionary<string, string> Parse(Dictionary<string, JsonElement>? given, Dictionary<string, string[]> errors)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in given ?? [])
        {
            if (!TemplateSyntax.IsName(name))
            {
                errors[$"variables.{name}"] = ["A variable name is a letter or '_' then letters, digits or '_'."];
            }
            else if (value.ValueKind != JsonValueKind.String)
            {
                errors[$"variables.{name}"] = ["A variable's value must be a string."];
            }
            else
            {
                variables[name] = value.GetString()!;
            }
        }
        return variables;
    }

    /// <summary>The message arguments of template_variables_invalid.</summary>
    public static Dictionary<string, string> Args(IReadOnlyList<string> missing, IReadOnlyList<string> extra) => new()
    {
        ["missing"] = missing.Count == 0 ? "none" : string.Join(", ", missing),
        ["extra"] = extra.Count == 0 ? "none" : string.Join(", ", extra),
    };
}
