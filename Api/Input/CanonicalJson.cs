using System.Text;
using System.Text.Json;

namespace AiPrompts.Api.Input;

/// <summary>
/// One spelling for JSON that means the same: no whitespace, object members in ordinal order of their
/// names, strings and numbers as System.Text.Json writes them. Two bodies that differ only in layout or
/// key order give the same text.
/// </summary>
internal static class CanonicalJson
{
    public static string Of(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, element);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when element.TryGetDecimal(out var number):
                // 1.0 and 1 and 1e0 are the same number.
                writer.WriteNumberValue(number / 1.0000000000000000000000000000m);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
