using System.Text.Json;

namespace AiPrompts.Core.Templates;

/// <summary>
/// A sandbox run's output judged against its type: the JSON it holds and whether that satisfies the
/// type's output schema. Without a schema, a JSON object is taken as it is and any other text is kept as
/// <c>{"text": ...}</c>. Worker (which stores a valid result on the version) and Api (which reports it)
/// both judge with this, so they always agree.
/// </summary>
public sealed record SandboxOutput(string? Json, bool Valid, IReadOnlyList<string> Errors)
{
    public static SandboxOutput Judge(string text, string? outputSchema)
    {
        var body = StripFence(text.Trim());
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            // Not JSON: see below.
        }
        using (document)
        {
            if (outputSchema is null)
            {
                return document is { RootElement.ValueKind: JsonValueKind.Object }
                    ? new SandboxOutput(document.RootElement.GetRawText(), true, [])
                    : new SandboxOutput(JsonSerializer.Serialize(new { text }), true, []);
            }
            if (document is null)
            {
                return new SandboxOutput(null, false, ["$: the output is not JSON"]);
            }
            using var schema = JsonDocument.Parse(outputSchema);
            var errors = JsonSchemaValidator.Validate(schema.RootElement, document.RootElement);
            return new SandboxOutput(document.RootElement.GetRawText(), errors.Count == 0, errors);
        }
    }

    /// <summary>Models often wrap JSON in one Markdown code fence; that fence is not part of the answer.</summary>
    private static string StripFence(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal) || !text.EndsWith("```", StringComparison.Ordinal) || text.Length < 6)
        {
            return text;
        }
        var firstLine = text.IndexOf('\n');
        return firstLine < 0 ? text : text[(firstLine + 1)..^3].Trim();
    }
}
