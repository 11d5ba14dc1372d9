using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Core.Input;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Gateway;

/// <summary>The <c>prompt</c> of a response request: one of our versioned templates, by prompt type and (optionally) version.</summary>
public sealed record PromptReference(string Id, int? Version, Dictionary<string, JsonElement>? Variables);

/// <summary>
/// A Responses API request (<c>POST /openai/v1/responses</c>) checked and turned into messages and options. Input items
/// are kept in OpenAI's form (each given an id) for storage and <c>input_items</c>; <c>tools</c> and <c>text</c> are
/// echoed in the response as they were sent.
/// </summary>
public sealed record ResponseInput(
    string? Model, JsonArray Items, string? Instructions, ChatOptions Options, bool Stream, bool Store, string? PreviousResponseId,
    PromptReference? Prompt, IReadOnlyDictionary<string, string> Metadata, JsonElement? Tools, JsonElement? Text, JsonElement? ToolChoice, string? ConversationId,
    bool Background)
{
    public const int MaxItems = 2048;

    public static ResponseInput? From(JsonElement body, Func<string, string> newId, Dictionary<string, string[]> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["A JSON body is required."];
            return null;
        }
        string? Str(string name) => body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        JsonElement? Prop(string name) => body.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v : null;

        var background = Prop("background") switch
        {
            null or { ValueKind: JsonValueKind.False } => false,
            { ValueKind: JsonValueKind.True } => true,
            _ => (bool?)null,
        };
        if (background is null || (background == true && Prop("store") is { ValueKind: JsonValueKind.False }))
        {
            errors["background"] = [background is null ? "The background option is true or false." : "A background response is stored: store cannot be false."];
        }
        // A conversation by id, as a string or {"id": …}; it and previous_response_id are two ways to say the same, one at a time.
        var conversation = Prop("conversation") switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } id => id.GetString(),
            { ValueKind: JsonValueKind.Object } named when named.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String => id.GetString(),
            _ => "",
        };
        if (conversation is "" || (conversation is not null && Str("previous_response_id") is not null))
        {
            errors["conversation"] = [conversation is "" ? "The conversation is a conversation id." : "A response continues a conversation or a previous response, not both."];
        }
        var items = new JsonArray();
        switch (Prop("input"))
        {
            case null:
                break;
            case { ValueKind: JsonValueKind.String } single:
                items.Add(UserMessage(single.GetString()!, newId("msg")));
                break;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() <= MaxItems:
                var i = 0;
                foreach (var item in array.EnumerateArray())
                {
                    if (Item(item, $"input[{i}]", newId, errors) is { } node)
                    {
                        items.Add(node);
                    }
                    i++;
                }
                break;
            default:
                errors["input"] = [$"The input is a text or an array of at most {MaxItems} items."];
                break;
        }
        var options = new ChatOptions();
        ReadTools(Prop("tools"), Prop("tool_choice"), options, errors);
        switch (Prop("text"))
        {
            case null:
                break;
            case { ValueKind: JsonValueKind.Object } text:
                if (text.TryGetProperty("format", out var format))
                {
                    Format(format, options, errors);
                }
                break;
            default:
                errors["text"] = ["The text options are an object with a format."];
                break;
        }
        if (Prop("max_output_tokens") is { } max)
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var tokens) || tokens < 1)
            {
                errors["max_output_tokens"] = ["The token limit is at least 1."];
            }
            else
            {
                options.MaxOutputTokens = tokens;
            }
        }
        options.Temperature = Number(Prop("temperature"), "temperature", 0, 2, "The temperature is between 0 and 2.", errors);
        options.TopP = Number(Prop("top_p"), "top_p", 0, 1, "The top_p is between 0 and 1.", errors);
        var metadata = ReadMetadata(Prop("metadata"), errors);
        PromptReference? prompt = null;
        if (Prop("prompt") is { } reference)
        {
            prompt = ReadPrompt(reference, errors);
        }
        if (items.Count == 0 && prompt is null)
        {
            errors["input"] = ["The input is required, unless a prompt template gives the messages."];
        }
        var instructions = Str("instructions");
        if (instructions is not null && TextLength.Of(instructions) > 256_000)
        {
            errors["instructions"] = ["The instructions are too long."];
        }
        return errors.Count > 0 ? null : new ResponseInput(Str("model"), items, instructions, options,
            Prop("stream") is { ValueKind: JsonValueKind.True }, Prop("store") is not { ValueKind: JsonValueKind.False }, Str("previous_response_id"),
            prompt, metadata, Prop("tools"), Prop("text"), Prop("tool_choice"), conversation, background == true);
    }

    /// <summary>OpenAI's metadata: at most 16 pairs of strings (the same for responses and conversations).</summary>
    public static Dictionary<string, string> ReadMetadata(JsonElement? given, Dictionary<string, string[]> errors)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (given is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } meta)
        {
            return metadata;
        }
        if (meta.ValueKind != JsonValueKind.Object || meta.EnumerateObject().Count() > 16 || meta.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
        {
            errors["metadata"] = ["At most 16 metadata pairs are allowed."];
            return metadata;
        }
        foreach (var pair in meta.EnumerateObject())
        {
            metadata[pair.Name] = pair.Value.GetString()!;
        }
        return metadata;
    }

    public static JsonObject UserMessage(string text, string id) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["role"] = "user",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

    /// <summary>One input item in OpenAI's form, with an id: a message, a function call, or a function call's output.</summary>
    public static JsonObject? Item(JsonElement item, string field, Func<string, string> newId, Dictionary<string, string[]> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors[field] = ["An input item is an object."];
            return null;
        }
        var node = JsonNode.Parse(item.GetRawText())!.AsObject();
        var type = item.TryGetProperty("type", out var t) ? t.GetString() : "message";
        switch (type)
        {
            case "message":
                var role = item.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is not ("user" or "system" or "developer" or "assistant"))
                {
                    errors[$"{field}.role"] = ["The role is one of system, developer, user and assistant."];
                    return null;
                }
                if (!item.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                {
                    errors[$"{field}.content"] = ["The content is a string or an array of content parts."];
                    return null;
                }
                if (content.ValueKind == JsonValueKind.String)
                {
                    node["content"] = new JsonArray(new JsonObject { ["type"] = role == "assistant" ? "output_text" : "input_text", ["text"] = content.GetString() });
                }
                node["type"] = "message";
                node["id"] ??= newId("msg");
                return node;
            case "function_call" when item.TryGetProperty("call_id", out var callId) && callId.ValueKind == JsonValueKind.String
                && item.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String:
                node["id"] ??= newId("fc");
                return node;
            case "function_call_output" when item.TryGetProperty("call_id", out var answered) && answered.ValueKind == JsonValueKind.String
                && item.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.String:
                node["id"] ??= newId("fco");
                return node;
            default:
                errors[field] = ["An input item is a message, a function_call or a function_call_output."];
                return null;
        }
    }

    /// <summary>Stored items (input and output alike) as the messages of a conversation.</summary>
    public static IEnumerable<ChatMessage> Messages(IEnumerable<JsonNode?> items)
    {
        foreach (var node in items)
        {
            if (node is not JsonObject item)
            {
                continue;
            }
            switch ((string?)item["type"] ?? "message")
            {
                case "message":
                    var role = (string?)item["role"] switch { "assistant" => ChatRole.Assistant, "system" or "developer" => ChatRole.System, _ => ChatRole.User };
                    var contents = new List<AIContent>();
                    foreach (var part in item["content"] as JsonArray ?? [])
                    {
                        if ((string?)part?["text"] is { } text)
                        {
                            contents.Add(new TextContent(text));
                        }
                        else if ((string?)part?["image_url"] is { } link && Uri.TryCreate(link, UriKind.Absolute, out var uri))
                        {
                            contents.Add(link.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? new DataContent(link) : new UriContent(uri, "image/*"));
                        }
                    }
                    yield return new ChatMessage(role, contents);
                    break;
                case "function_call":
                    var arguments = (string?)item["arguments"] is { Length: > 0 } json ? JsonSerializer.Deserialize<Dictionary<string, object?>>(json) : [];
                    yield return new ChatMessage(ChatRole.Assistant, [new FunctionCallContent((string)item["call_id"]!, (string)item["name"]!, arguments)]);
                    break;
                case "function_call_output":
                    yield return new ChatMessage(ChatRole.Tool, [new FunctionResultContent((string)item["call_id"]!, (string?)item["output"])]);
                    break;
            }
        }
    }

    private static void ReadTools(JsonElement? tools, JsonElement? choice, ChatOptions options, Dictionary<string, string[]> errors)
    {
        if (tools is { ValueKind: JsonValueKind.Array } tooMany && tooMany.GetArrayLength() > ToolRules.MaxTools)
        {
            errors["tools"] = [$"At most {ToolRules.MaxTools} tools are allowed."];
        }
        else if (tools is { ValueKind: JsonValueKind.Array } list)
        {
            var i = 0;
            foreach (var tool in list.EnumerateArray())
            {
                string? Str(string name) => tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                JsonElement? parameters = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("parameters", out var p) ? p : null;
                ToolRules.AddFunction(Str("type"), Str("name"), Str("description"), parameters, $"tools[{i}]", $"tools[{i}].parameters", options, errors);
                i++;
            }
        }
        else if (tools is not null)
        {
            errors["tools"] = ["The tools are an array."];
        }
        // Responses name a function as {"type": "function", "name": …}.
        ToolRules.Choose(choice, c => c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null, options, errors);
    }

    private static void Format(JsonElement format, ChatOptions options, Dictionary<string, string[]> errors)
    {
        string? Str(string name) => format.ValueKind == JsonValueKind.Object && format.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        JsonElement? schema = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("schema", out var s) ? s : null;
        ToolRules.Format(Str("type") ?? "", Str("name"), Str("description"), schema, "text.format", options, errors);
    }

    private static PromptReference? ReadPrompt(JsonElement reference, Dictionary<string, string[]> errors)
    {
        if (reference.ValueKind != JsonValueKind.Object || !reference.TryGetProperty("id", out var id) || id.GetString() is not { Length: > 0 } promptType)
        {
            errors["prompt.id"] = ["The prompt names a prompt type by its id."];
            return null;
        }
        int? version = null;
        if (reference.TryGetProperty("version", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind == JsonValueKind.String && int.TryParse(v.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number >= 1)
            {
                version = number;
            }
            else if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 1)
            {
                version = n;
            }
            else
            {
                errors["prompt.version"] = ["The version is a version number, as a string."];
            }
        }
        Dictionary<string, JsonElement>? variables = null;
        if (reference.TryGetProperty("variables", out var vars) && vars.ValueKind != JsonValueKind.Null)
        {
            if (vars.ValueKind != JsonValueKind.Object)
            {
                errors["prompt.variables"] = ["The variables are an object."];
            }
            else
            {
                variables = vars.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
            }
        }
        return new PromptReference(promptType, version, variables);
    }

    private static float? Number(JsonElement? value, string field, float min, float max, string message, Dictionary<string, string[]> errors)
    {
        if (value is not { } given)
        {
            return null;
        }
        if (given.ValueKind != JsonValueKind.Number || !given.TryGetSingle(out var number) || number < min || number > max || !float.IsFinite(number))
        {
            errors[field] = [message];
            return null;
        }
        return number;
    }
}
