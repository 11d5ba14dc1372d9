using System.Text.Json;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// An answer held to a JSON Schema, the best way each model can: the vendor's own structured output
/// (<c>response_format: json_schema</c>) where the catalogue says the model has it, else JSON mode with the
/// schema in the instructions, else the instructions alone. Whatever the vendor promised, the answer is then
/// checked by the one validator (<see cref="JsonSchemaValidator"/>), so a caller never gets an unchecked shape.
/// </summary>
public static class StructuredOutput
{
    public static ChatOptions Request(ChatOptions options, VendorTarget target, JsonElement schema, string name = "output")
    {
        var request = options.Clone();
        if (target.Supports(Capabilities.JsonSchema))
        {
            request.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, name);
            return request;
        }
        if (target.Supports(Capabilities.Json))
        {
            request.ResponseFormat = ChatResponseFormat.Json;
        }
        var rule = $"Answer with one JSON document, and nothing else, that satisfies this JSON Schema:\n{schema.GetRawText()}";
        request.Instructions = string.IsNullOrWhiteSpace(request.Instructions) ? rule : request.Instructions + "\n\n" + rule;
        return request;
    }

    /// <summary>The answer's JSON and what is wrong with it (empty when it satisfies the schema).</summary>
    public static SandboxOutput Check(string answer, JsonElement schema) => SandboxOutput.Judge(answer, schema.GetRawText());
}
