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

    /// <summary>
    /// With a <paramref name="hint"/> (the prompt), the instance follows it the way a model would, still from
    /// nothing but the text: an enum takes the choice whose words the hint uses most (else the first), a plain
    /// string is the hint itself, and an array of plain strings holds the hint's distinct longer words.
    /// </summary>
    public static string Generate(JsonElement schema, string seed, string? hint = null) =>
        (Build(schema, schema, seed, 0, string.IsNullOrWhiteSpace(hint) ? null : hint.Trim()) ?? JsonValue.Create("")).ToJsonString();

    private static JsonNode? Build(JsonElement schema, JsonElement root, string seed, int depth, string? hint)
    {
        if (schema.ValueKind == JsonValueKind.True || schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            return JsonValue.Create(seed);
        }
        if (schema.TryGetProperty("$ref", out var reference) && Resolve(root, reference.GetString()) is { } target)
        {
            return Build(target, root, seed, depth + 1, hint);
        }
        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }
        if (schema.TryGetProperty("enum", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            return JsonNode.Parse(Choose(choices, hint).GetRawText());
        }
        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(keyword, out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
            {
                return Build(options[0], root, seed, depth + 1, hint);
            }
        }
        if (schema.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array)
        {
            JsonObject? merged = null;
            foreach (var part in all.EnumerateArray())
            {
                if (Build(part, root, seed, depth + 1, hint) is JsonObject piece)
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
            "object" => Object(schema, root, seed, depth, hint),
            "array" => Array(schema, root, seed, depth, hint),
            "integer" => JsonValue.Create((long)Number(schema, integer: true)),
            "number" => JsonValue.Create(Number(schema, integer: false)),
            "boolean" => JsonValue.Create(true),
            "null" => null,
            _ => JsonValue.Create(Text(schema, seed, hint)),
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

    private static JsonObject Object(JsonElement schema, JsonElement root, string seed, int depth, string? hint)
    {
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                result[property.Name] = Build(property.Value, root, $"{seed}-{property.Name}", depth + 1, hint);
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

    private static JsonArray Array(JsonElement schema, JsonElement root, string seed, int depth, string? hint)
    {
        if (hint is not null && schema.TryGetProperty("items", out var plain) && IsPlainString(plain))
        {
            var most = schema.TryGetProperty("maxItems", out var cap) && cap.TryGetInt32(out var c) ? Math.Clamp(c, 1, 8) : 8;
            var words = WordsOf(hint).Where(w => w.Length > 3).Distinct(StringComparer.OrdinalIgnoreCase).Take(most).Select(w => (JsonNode?)JsonValue.Create(w)).ToArray();
            if (words.Length > 0)
            {
                return [.. words];
            }
        }
        var count = schema.TryGetProperty("minItems", out var min) && min.TryGetInt32(out var m) ? Math.Clamp(m, 1, 100) : 1;
        var result = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var item = schema.TryGetProperty("items", out var items) ? Build(items, root, $"{seed}-{i}", depth + 1, hint) : JsonValue.Create(seed);
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

    private static string Text(JsonElement schema, string seed, string? hint)
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
        } : schema.TryGetProperty("pattern", out _) ? seed : hint ?? seed;
        var minLength = schema.TryGetProperty("minLength", out var min) && min.TryGetInt32(out var a) ? a : 0;
        var maxLength = schema.TryGetProperty("maxLength", out var max) && max.TryGetInt32(out var b) ? b : int.MaxValue;
        if (text.Length < minLength)
        {
            text = text.PadRight(minLength, 'x');
        }
        return text.Length > maxLength ? text[..maxLength] : text;
    }

    /// <summary>The enum value whose words (camelCase and snake_case split) the hint uses most; the first on a tie.</summary>
    private static JsonElement Choose(JsonElement choices, string? hint)
    {
        var best = choices[0];
        if (hint is null)
        {
            return best;
        }
        var used = WordsOf(hint).Select(w => w.ToLowerInvariant()).ToHashSet();
        var bestScore = 0;
        foreach (var choice in choices.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String))
        {
            var score = WordsOf(SplitCamel(choice.GetString()!)).Count(w => used.Contains(w.ToLowerInvariant()));
            if (score > bestScore)
            {
                (best, bestScore) = (choice, score);
            }
        }
        return best;
    }

    private static bool IsPlainString(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && TypeOf(schema) == "string"
        && !schema.TryGetProperty("enum", out _) && !schema.TryGetProperty("const", out _) && !schema.TryGetProperty("format", out _) && !schema.TryGetProperty("pattern", out _);

    private static IEnumerable<string> WordsOf(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim(',', '.', ';', ':', '!', '?', '"', '\'', '(', ')')).Where(w => w.Length > 0);

    private static string SplitCamel(string name) =>
        string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? " " + ch : ch == '_' || ch == '-' ? " " : ch.ToString()));

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
