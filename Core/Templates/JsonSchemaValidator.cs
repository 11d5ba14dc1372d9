using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace AiPrompts.Core.Templates;

/// <summary>
/// JSON Schema (draft 2020-12, every keyword) by JsonSchema.Net, for prompt types' output schemas and for
/// structured output everywhere. Formats are asserted, not only annotated (a "date-time" must be one), and
/// OpenAPI 3.0's <c>nullable: true</c> is read as "or null", so a schema written for an OpenAPI document
/// means what it says. Errors read "$.path: reason", at most <see cref="MaxErrors"/> of them.
/// </summary>
public static class JsonSchemaValidator
{
    private const int MaxErrors = 20;
    private const int MaxCached = 256;
    private static readonly ConcurrentDictionary<string, JsonSchema> Compiled = new(StringComparer.Ordinal);

    private static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    /// <summary>The library's messages in our words (short, after the path), which the language files translate.</summary>
    static JsonSchemaValidator()
    {
        ErrorMessages.FalseSchema = "is not allowed";
        ErrorMessages.Required = "[[missing]]"; // split into one "is required" per property below
        ErrorMessages.Type = "expected [[expected]], got [[received]]";
        ErrorMessages.Enum = "must be one of [[values]]";
        ErrorMessages.Const = "must be [[value]]";
        ErrorMessages.MinLength = "at least [[limit]] characters";
        ErrorMessages.MaxLength = "at most [[limit]] characters";
        ErrorMessages.Minimum = "must be at least [[limit]]";
        ErrorMessages.Maximum = "must be at most [[limit]]";
        ErrorMessages.ExclusiveMinimum = "must be more than [[limit]]";
        ErrorMessages.ExclusiveMaximum = "must be less than [[limit]]";
        ErrorMessages.MultipleOf = "must be a multiple of [[divisor]]";
        ErrorMessages.MinItems = "at least [[limit]] items";
        ErrorMessages.MaxItems = "at most [[limit]] items";
        ErrorMessages.MinProperties = "at least [[limit]] properties";
        ErrorMessages.MaxProperties = "at most [[limit]] properties";
        ErrorMessages.UniqueItems = "has duplicate items at [[duplicates]]";
        ErrorMessages.Pattern = "does not match [[pattern]]";
        ErrorMessages.Format = "is not a [[format]]";
    }

    /// <summary>What is wrong with the instance; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(JsonElement schema, JsonElement instance)
    {
        JsonSchema compiled;
        try
        {
            compiled = CompileCached(schema);
        }
        catch (Exception ex) when (ex is JsonSchemaException or JsonException or InvalidOperationException or ArgumentException)
        {
            return [$"$: the schema cannot be used: {ex.Message}"];
        }
        return Validate(compiled, instance);
    }

    public static IReadOnlyList<string> Validate(JsonSchema schema, JsonElement instance)
    {
        EvaluationResults results;
        try
        {
            results = schema.Evaluate(instance, Options);
        }
        catch (Exception ex) when (ex is JsonSchemaException or InvalidOperationException or ArgumentException)
        {
            return [$"$: the schema cannot be used: {ex.Message}"];
        }
        return results.IsValid ? [] : Errors(results, "$", JsonPath);
    }

    /// <summary>
    /// Problems with a schema itself: what the 2020-12 meta-schema refuses (unknown type names, a malformed
    /// regular expression, …), or a schema that cannot be evaluated (a <c>$ref</c> to nowhere).
    /// </summary>
    public static IReadOnlyList<string> CheckSchema(JsonElement schema)
    {
        var results = MetaSchemas.Draft202012.Evaluate(schema, Options);
        if (!results.IsValid)
        {
            return Errors(results, "#", pointer => pointer);
        }
        try
        {
            Compile(JsonNode.Parse(schema.GetRawText()), Strict).Evaluate(JsonDocument.Parse("null").RootElement, Options);
            return [];
        }
        catch (Exception ex) when (ex is JsonSchemaException or JsonException or InvalidOperationException or ArgumentException)
        {
            return [$"#: the schema cannot be used: {ex.Message}"];
        }
    }

    /// <summary>
    /// A schema document, its <c>nullable</c> keywords read as OpenAPI 3.0 means them, in a registry of its own.
    /// Unknown keywords are annotations, as 2020-12 says (a stored schema keeps working as the library grows).
    /// </summary>
    public static JsonSchema Compile(JsonNode? schema) => Compile(schema, Dialect.Draft202012);

    /// <summary>A new schema is held to more: a keyword 2020-12 does not know is a typo until shown otherwise.</summary>
    private static readonly Dialect Strict = Dialect.Draft202012.With([], allowUnknownKeywords: false);

    private static JsonSchema Compile(JsonNode? schema, Dialect dialect)
    {
        ReadNullable(schema);
        return JsonSchema.FromText(schema?.ToJsonString() ?? "true", new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = dialect });
    }

    private static JsonSchema CompileCached(JsonElement schema)
    {
        var text = schema.GetRawText();
        if (Compiled.TryGetValue(text, out var compiled))
        {
            return compiled;
        }
        compiled = Compile(JsonNode.Parse(text));
        if (Compiled.Count >= MaxCached)
        {
            Compiled.Clear();
        }
        return Compiled.GetOrAdd(text, compiled);
    }

    private static void ReadNullable(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject schema:
                if (schema["nullable"] is JsonValue nullable && nullable.TryGetValue<bool>(out var isNullable))
                {
                    if (isNullable && schema["type"] is JsonValue type && type.TryGetValue<string>(out var name))
                    {
                        schema["type"] = new JsonArray(name, "null");
                    }
                    schema.Remove("nullable");
                }
                foreach (var (_, child) in schema.ToList())
                {
                    ReadNullable(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    ReadNullable(child);
                }
                break;
        }
    }

    private static List<string> Errors(EvaluationResults results, string root, Func<string, string> path)
    {
        var errors = new List<string>();
        var failed = ((IEnumerable<EvaluationResults>)[results, .. results.Details ?? []]).Where(d => !d.IsValid && !UnderAValidParent(d)).ToList();
        foreach (var detail in failed)
        {
            var at = root + path(detail.InstanceLocation.ToString());
            foreach (var (keyword, message) in detail.Errors ?? new Dictionary<string, string>())
            {
                var lines = keyword == "required" && Missing(message) is { } names
                    ? names.Select(name => $"{at}{path("/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))}: is required")
                    : [$"{at}: {message}"];
                foreach (var line in lines.Where(line => !errors.Contains(line)))
                {
                    errors.Add(line);
                }
            }
        }
        if (errors.Count == 0)
        {
            // The library names no reason for some failures (oneOf with two matches): say where, at least.
            errors.AddRange(failed.Select(d => $"{root}{path(d.InstanceLocation.ToString())}: does not match the schema").Distinct());
        }
        return errors.Count > MaxErrors ? errors[..MaxErrors] : errors;
    }

    /// <summary>A branch that failed inside one that passed (an anyOf's other choice) is not an error of the document.</summary>
    private static bool UnderAValidParent(EvaluationResults detail)
    {
        for (var parent = detail.Parent; parent is not null && !ReferenceEquals(parent, detail); detail = parent, parent = parent.Parent)
        {
            if (parent.IsValid)
            {
                return true;
            }
        }
        return false;
    }

    private static string[]? Missing(string names)
    {
        try
        {
            return JsonSerializer.Deserialize<string[]>(names);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A JSON Pointer as a path after "$": <c>/items/0/name</c> → <c>.items[0].name</c>.</summary>
    private static string JsonPath(string pointer)
    {
        var path = new StringBuilder();
        foreach (var segment in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            path.Append(name.All(char.IsAsciiDigit) ? $"[{name}]" : $".{name}");
        }
        return path.ToString();
    }
}
