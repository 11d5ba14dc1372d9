using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// The local model's structured output: an instance of a JSON schema, built from the schema alone and a
/// seed, so the same prompt and schema always give the same JSON. It covers what output schemas use:
/// objects (every property, required first), arrays (their minimum, at least one item), strings (enum,
/// const, formats, lengths), numbers and integers (bounds), booleans, null, <c>$ref</c> into the document,
/// and <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c>.
/// </summary>
public static class SchemaInstance
{
    private const int MaxDepth = 16;

    public static string Generate(JsonElement schema, string seed) =>
        (Build(schema, schema, seed, 0) ?? JsonValue.Create("")).ToJsonString();

    private static JsonNode? Build(JsonElement schema, JsonElement root, string seed, int depth)
    {
        if (schema.ValueKind == JsonValueKind.True || schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            return JsonValue.Create(seed);
        }
        if (schema.TryGetProperty("$ref", out var reference) && Resolve(root, reference.GetString()) is { } target)
        {
            return Build(target, root, seed, depth + 1);
        }
        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }
        if (schema.TryGetProperty("enum", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            return JsonNode.Parse(choices[0].GetRawText());
        }
        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(keyword, out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
            {
                return Build(options[0], root, seed, depth + 1);
            }
        }
        if (schema.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array)
        {
            JsonObject? merged = null;
            foreach (var part in all.EnumerateArray())
            {
                if (Build(part, root, seed, depth + 1) is JsonObject piece)
                {
                    merged ??= [];
                    foreach (var (name, value) in piece.ToList())
                    {
                        piece.Remove(name);
                        merged[name] = value;
                    }
                }
            }
            if (merged is not null && !schema.TryGetProperty("properties", out _))
            {
                return merged;
            }
        }
        return TypeOf(schema) switch
        {
            "object" => Object(schema, root, seed, depth),
            "array" => Array(schema, root, seed, depth),
            "integer" => JsonValue.Create((long)Number(schema, integer: true)),
            "number" => JsonValue.Create(Number(schema, integer: false)),
            "boolean" => JsonValue.Create(true),
            "null" => null,
            _ => JsonValue.Create(Text(schema, seed)),
        };
    }

    private static string TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                return type.GetString()!;
            }
            if (type.ValueKind == JsonValueKind.Array)
            {
                // ["string", "null"]: the first type that is not null.
                return type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t is not null and not "null") ?? "null";
            }
        }
        return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("items", out _) ? "array" : "string";
    }

    private static JsonObject Object(JsonElement schema, JsonElement root, string seed, int depth)
    {
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                result[property.Name] = Build(property.Value, root, $"{seed}-{property.Name}", depth + 1);
            }
        }
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()).OfType<string>())
            {
                if (!result.ContainsKey(name))
                {
                    result[name] = JsonValue.Create(seed);
                }
            }
        }
        return result;
    }

    private static JsonArray Array(JsonElement schema, JsonElement root, string seed, int depth)
    {
        var count = schema.TryGetProperty("minItems", out var min) && min.TryGetInt32(out var m) ? Math.Clamp(m, 1, 100) : 1;
        var result = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var item = schema.TryGetProperty("items", out var items) ? Build(items, root, $"{seed}-{i}", depth + 1) : JsonValue.Create(seed);
            result.Add(item);
        }
        return result;
    }

    private static double Number(JsonElement schema, bool integer)
    {
        double? Bound(string name) => schema.TryGetProperty(name, out var b) && b.TryGetDouble(out var d) ? d : null;
        var low = Bound("minimum") ?? (Bound("exclusiveMinimum") is { } el ? el + (integer ? 1 : 0.5) : null);
        var high = Bound("maximum") ?? (Bound("exclusiveMaximum") is { } eh ? eh - (integer ? 1 : 0.5) : null);
        var value = low ?? (high is { } h ? Math.Min(h, 1) : 1);
        return integer ? Math.Ceiling(value) : value;
    }

    private static string Text(JsonElement schema, string seed)
    {
        var text = schema.TryGetProperty("format", out var format) ? format.GetString() switch
        {
            "date-time" => "2026-01-01T00:00:00Z",
            "date" => "2026-01-01",
            "time" => "00:00:00Z",
            "email" => "local@example.com",
            "uri" or "url" => "https://example.com/local",
            "uuid" => "00000000-0000-4000-8000-000000000000",
            _ => seed,
        } : seed;
        var minLength = schema.TryGetProperty("minLength", out var min) && min.TryGetInt32(out var a) ? a : 0;
        var maxLength = schema.TryGetProperty("maxLength", out var max) && max.TryGetInt32(out var b) ? b : int.MaxValue;
        if (text.Length < minLength)
        {
            text = text.PadRight(minLength, 'x');
        }
        return text.Length > maxLength ? text[..maxLength] : text;
    }

    /// <summary>A JSON pointer into the schema document (#/$defs/x, #/definitions/x); other references are not followed.</summary>
    private static JsonElement? Resolve(JsonElement root, string? reference)
    {
        if (reference is null || !reference.StartsWith('#'))
        {
            return null;
        }
        var node = root;
        foreach (var raw in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var next))
            {
                node = next;
            }
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < node.GetArrayLength())
            {
                node = node[index];
            }
            else
            {
                return null;
            }
        }
        return node;
    }
}
