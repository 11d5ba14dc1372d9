using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// What chat completions and responses share of their options, checked one way for both (each under its own field names):
/// a function tool, the tool choice, and the answer's format.
/// </summary>
public static partial class ToolRules
{
    public const int MaxTools = 128;

    private static readonly JsonElement EmptyObjectSchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    /// <summary>A function tool: <paramref name="type"/> "function", a name by OpenAI's rule, parameters a JSON Schema object (or none).</summary>
    public static void AddFunction(string? type, string? name, string? description, JsonElement? parameters, string field, string parametersField, ChatOptions options, Dictionary<string, string[]> errors)
    {
        if (type != "function" || name is null || !NamePattern().IsMatch(name))
        {
            errors[field] = ["A tool is a function with a name of letters, digits, '_' and '-' (at most 64)."];
            return;
        }
        if (parameters is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) })
        {
            errors[parametersField] = ["The parameters are a JSON Schema object."];
            return;
        }
        (options.Tools ??= []).Add(AIFunctionFactory.CreateDeclaration(name, description, parameters is { ValueKind: JsonValueKind.Object } schema ? schema : EmptyObjectSchema));
    }

    /// <summary>
    /// <c>none</c>, <c>auto</c>, <c>required</c>, or a function by name (<paramref name="named"/>: where the request's shape
    /// puts the name), which must be among the tools; a choice that requires a call needs tools.
    /// </summary>
    public static void Choose(JsonElement? choice, Func<JsonElement, string?> named, ChatOptions options, Dictionary<string, string[]> errors)
    {
        switch (choice)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                break;
            case { ValueKind: JsonValueKind.String } mode when mode.GetString() is "none" or "auto" or "required":
                options.ToolMode = mode.GetString() switch { "none" => ChatToolMode.None, "required" => ChatToolMode.RequireAny, _ => ChatToolMode.Auto };
                break;
            case { ValueKind: JsonValueKind.Object } function when named(function) is { Length: > 0 } name:
                if (options.Tools?.Any(t => t.Name == name) != true)
                {
                    errors["tool_choice"] = ["The tool choice names a function that is not among the tools."];
                    break;
                }
                options.ToolMode = ChatToolMode.RequireSpecific(name);
                break;
            default:
                errors["tool_choice"] = ["The tool choice is none, auto, required, or a function by name."];
                break;
        }
        if (options.ToolMode is RequiredChatToolMode && options.Tools is not { Count: > 0 })
        {
            errors["tool_choice"] = ["A tool choice that requires a call needs tools."];
        }
    }

    /// <summary>The answer's format: <c>text</c> (or none), <c>json_object</c>, or <c>json_schema</c> with a name and a schema object.</summary>
    public static void Format(string? type, string? name, string? description, JsonElement? schema, string field, ChatOptions options, Dictionary<string, string[]> errors)
    {
        switch (type)
        {
            case null or "text":
                break;
            case "json_object":
                options.ResponseFormat = ChatResponseFormat.Json;
                break;
            case "json_schema" when name is { Length: > 0 } && schema is { ValueKind: JsonValueKind.Object } body:
                options.ResponseFormat = ChatResponseFormat.ForJsonSchema(body, name, description);
                break;
            case "json_schema":
                errors[field] = ["A json_schema format has a name and a schema object."];
                break;
            default:
                errors[$"{field}.type"] = ["The response format is text, json_object or json_schema."];
                break;
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}
