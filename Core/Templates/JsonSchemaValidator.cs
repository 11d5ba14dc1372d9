using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AiPrompts.Core.Templates;

/// <summary>
/// Validates JSON against a JSON Schema subset that covers model outputs and OpenAPI 3.0 bodies: type
/// (a name or a list), nullable, enum, properties, required, additionalProperties, items, min/maxLength,
/// pattern, minimum/maximum, min/maxItems, format date-time and date, and local $ref. Annotations
/// (title, description, example, ...) are ignored. A schema using any other keyword is refused by
/// <see cref="CheckSchema"/>, so a prompt type's schema is never weaker than it reads.
/// </summary>
public static class JsonSchemaValidator
{
    private const int MaxErrors = 20;

    private static readonly HashSet<string> Keywords =
    [
        "type", "nullable", "enum", "properties", "required", "additionalProperties", "items", "minLength", "maxLength",
        "pattern", "minimum", "maximum", "minItems", "maxItems", "format", "$ref",
    ];

    private static readonly HashSet<string> Annotations =
    [
        "title", "description", "example", "examples", "default", "$schema", "$id", "deprecated", "readOnly", "writeOnly", "$comment",
    ];

    private static readonly HashSet<string> TypeNames = ["object", "array", "string", "number", "integer", "boolean", "null"];

    /// <summary>What is wrong with the instance, as "$.path: reason" lines; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(JsonElement schema, JsonElement instance, JsonElement? root = null)
    {
        var errors = new List<string>();
        Check(schema, instance, "$", root ?? schema, errors, 0);
        return errors;
    }

    /// <summary>Problems with a schema itself: unsupported keywords, unknown type names, malformed values.</summary>
    public static IReadOnlyList<string> CheckSchema(JsonElement schema)
    {
        var problems = new List<string>();
        CheckSchema(schema, "#", problems, 0);
        return problems;
    }

    private static void CheckSchema(JsonElement schema, string path, List<string> problems, int depth)
    {
        if (depth > 32)
        {
            problems.Add($"{path}: nested too deeply");
            return;
        }
        if (schema.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path}: a schema must be an object");
            return;
        }
        foreach (var keyword in schema.EnumerateObject())
        {
            var at = $"{path}/{keyword.Name}";
            if (Annotations.Contains(keyword.Name))
            {
                continue;
            }
            if (!Keywords.Contains(keyword.Name))
            {
                problems.Add($"{at}: the keyword '{keyword.Name}' is not supported");
                continue;
            }
            var value = keyword.Value;
            switch (keyword.Name)
            {
                case "type":
                    var names = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToArray() : [value];
                    if (names.Length == 0 || names.Any(n => n.ValueKind != JsonValueKind.String || !TypeNames.Contains(n.GetString()!)))
                    {
                        problems.Add($"{at}: must be one of {string.Join(", ", TypeNames)}, or a list of them");
                    }
                    break;
                case "properties":
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        problems.Add($"{at}: must be an object");
                        break;
                    }
                    foreach (var property in value.EnumerateObject())
                    {
                        CheckSchema(property.Value, $"{at}/{property.Name}", problems, depth + 1);
                    }
                    break;
                case "items":
                    CheckSchema(value, at, problems, depth + 1);
                    break;
                case "additionalProperties":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        CheckSchema(value, at, problems, depth + 1);
                    }
                    break;
                case "required":
                case "enum":
                    if (value.ValueKind != JsonValueKind.Array || (keyword.Name == "required" && value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String)))
                    {
                        problems.Add($"{at}: must be a list{(keyword.Name == "required" ? " of property names" : "")}");
                    }
                    break;
                case "minLength" or "maxLength" or "minItems" or "maxItems":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var count) || count < 0)
                    {
                        problems.Add($"{at}: must be a non-negative integer");
                    }
                    break;
                case "minimum" or "maximum":
                    if (value.ValueKind != JsonValueKind.Number)
                    {
                        problems.Add($"{at}: must be a number");
                    }
                    break;
                case "nullable":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        problems.Add($"{at}: must be true or false");
                    }
                    break;
                case "pattern":
                    if (value.ValueKind != JsonValueKind.String || !IsRegex(value.GetString()!))
                    {
                        problems.Add($"{at}: must be a regular expression");
                    }
                    break;
                case "format" or "$ref":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        problems.Add($"{at}: must be a string");
                    }
                    break;
            }
        }
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Check(JsonElement schema, JsonElement value, string path, JsonElement root, List<string> errors, int depth)
    {
        if (errors.Count >= MaxErrors || schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (depth > 64)
        {
            errors.Add($"{path}: nested too deeply");
            return;
        }
        if (schema.TryGetProperty("$ref", out var reference))
        {
            Check(Resolve(root, reference.GetString()!), value, path, root, errors, depth + 1);
            return;
        }
        var nullable = schema.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True;
        if (value.ValueKind == JsonValueKind.Null && nullable)
        {
            return;
        }
        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
            if (!allowed.Any(t => IsOfType(value, t)))
            {
                errors.Add($"{path}: expected {string.Join(" or ", nullable ? [.. allowed, "null"] : allowed)}, got {TypeOf(value)}");
                return;
            }
        }
        if (schema.TryGetProperty("enum", out var options) && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
        {
            errors.Add($"{path}: must be one of {string.Join(", ", options.EnumerateArray().Select(o => o.GetRawText()))}");
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                CheckObject(schema, value, path, root, errors, depth);
                break;
            case JsonValueKind.Array:
                var length = value.GetArrayLength();
                if (schema.TryGetProperty("minItems", out var minItems) && length < minItems.GetInt32())
                {
                    errors.Add($"{path}: at least {minItems.GetInt32()} items");
                }
                if (schema.TryGetProperty("maxItems", out var maxItems) && length > maxItems.GetInt32())
                {
                    errors.Add($"{path}: at most {maxItems.GetInt32()} items");
                }
                if (schema.TryGetProperty("items", out var items))
                {
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        Check(items, item, $"{path}[{index++}]", root, errors, depth + 1);
                    }
                }
                break;
            case JsonValueKind.String:
                CheckString(schema, value.GetString()!, path, errors);
                break;
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (schema.TryGetProperty("minimum", out var minimum) && number < minimum.GetDouble())
                {
                    errors.Add($"{path}: must be at least {minimum.GetRawText()}");
                }
                if (schema.TryGetProperty("maximum", out var maximum) && number > maximum.GetDouble())
                {
                    errors.Add($"{path}: must be at most {maximum.GetRawText()}");
                }
                break;
        }
    }

    private static void CheckObject(JsonElement schema, JsonElement value, string path, JsonElement root, List<string> errors, int depth)
    {
        var properties = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : (JsonElement?)null;
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (!value.TryGetProperty(name, out _))
                {
                    errors.Add($"{path}.{name}: is required");
                }
            }
        }
        schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var property in value.EnumerateObject())
        {
            var at = $"{path}.{property.Name}";
            if (properties is { } known && known.TryGetProperty(property.Name, out var propertySchema))
            {
                Check(propertySchema, property.Value, at, root, errors, depth + 1);
            }
            else if (additional.ValueKind == JsonValueKind.False)
            {
                errors.Add($"{at}: is not allowed");
            }
            else if (additional.ValueKind == JsonValueKind.Object)
            {
                Check(additional, property.Value, at, root, errors, depth + 1);
            }
        }
    }

    private static void CheckString(JsonElement schema, string text, string path, List<string> errors)
    {
        // JSON Schema counts code points, not UTF-16 units.
        var length = text.EnumerateRunes().Count();
        if (schema.TryGetProperty("minLength", out var min) && length < min.GetInt32())
        {
            errors.Add($"{path}: at least {min.GetInt32()} characters");
        }
        if (schema.TryGetProperty("maxLength", out var max) && length > max.GetInt32())
        {
            errors.Add($"{path}: at most {max.GetInt32()} characters");
        }
        if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(text, pattern.GetString()!, RegexOptions.None, TimeSpan.FromMilliseconds(100)))
        {
            errors.Add($"{path}: does not match {pattern.GetString()}");
        }
        if (schema.TryGetProperty("format", out var format))
        {
            var ok = format.GetString() switch
            {
                "date-time" => text.Length >= 20 && text[10] is 'T' or 't' && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _),
                "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
                _ => true,
            };
            if (!ok)
            {
                errors.Add($"{path}: is not a {format.GetString()}");
            }
        }
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && decimal.Truncate(d) == d,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    private static string TypeOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static JsonElement Resolve(JsonElement root, string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"Only local references are supported, not '{reference}'.");
        }
        var current = root;
        foreach (var part in reference[2..].Split('/'))
        {
            var name = part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (!current.TryGetProperty(name, out current))
            {
                throw new KeyNotFoundException($"The reference '{reference}' does not resolve.");
            }
        }
        return current;
    }
}
