using System.Text.Json;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Input;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// A chat completion request checked and turned into Microsoft.Extensions.AI's messages and options: every field is
/// checked before anything is admitted or called, and each refusal names its field as OpenAI's <c>param</c> does.
/// </summary>
internal sealed record ChatCompletionInput(List<ChatMessage> Messages, ChatOptions Options, long InputCharacters, bool Stream, bool IncludeUsage)
{
    public const int MaxMessages = 2048;
    public const int MaxStops = 4;

    public static ChatCompletionInput? From(ChatCompletionRequest body, Dictionary<string, string[]> errors)
    {
        if (body.Messages is not { Count: > 0 } messages)
        {
            errors["messages"] = ["At least one message is required."];
            return null;
        }
        if (messages.Count > MaxMessages)
        {
            errors["messages"] = [$"At most {MaxMessages} messages are allowed."];
            return null;
        }
        var list = new List<ChatMessage>(messages.Count);
        long characters = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            if (Message(messages[i], $"messages[{i}]", errors) is { } message)
            {
                list.Add(message);
                characters += message.Text.Length;
            }
        }
        var options = new ChatOptions();
        Tools(body, options, errors);
        Format(body.ResponseFormat, options, errors);
        Sampling(body, options, errors);
        if (body.N is { } n && n != 1)
        {
            errors["n"] = ["Only one choice per request is supported (n = 1)."];
        }
        return errors.Count > 0 ? null : new ChatCompletionInput(list, options, characters, body.Stream == true, body.StreamOptions?.IncludeUsage == true);
    }

    private static ChatMessage? Message(ChatCompletionMessage? message, string field, Dictionary<string, string[]> errors)
    {
        if (message is null)
        {
            errors[field] = ["A message is an object with a role."];
            return null;
        }
        var role = message.Role switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            _ => (ChatRole?)null,
        };
        if (role is not { } known)
        {
            errors[$"{field}.role"] = ["The role is one of system, developer, user, assistant and tool."];
            return null;
        }
        var contents = new List<AIContent>();
        if (known == ChatRole.Tool)
        {
            if (string.IsNullOrEmpty(message.ToolCallId))
            {
                errors[$"{field}.tool_call_id"] = ["A tool message names the tool call it answers."];
                return null;
            }
            contents.Add(new FunctionResultContent(message.ToolCallId, Text(message.Content, $"{field}.content", errors, allowImages: false)));
            return new ChatMessage(known, contents);
        }
        Parts(message.Content, $"{field}.content", known == ChatRole.User, contents, errors);
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            if (known != ChatRole.Assistant)
            {
                errors[$"{field}.tool_calls"] = ["Only an assistant message has tool calls."];
                return null;
            }
            for (var i = 0; i < calls.Count; i++)
            {
                if (calls[i] is not { Id: { Length: > 0 } id, Function: { Name: { Length: > 0 } name } function })
                {
                    errors[$"{field}.tool_calls[{i}]"] = ["A tool call has an id and a function with a name."];
                    continue;
                }
                contents.Add(new FunctionCallContent(id, name, Arguments(function.Arguments, $"{field}.tool_calls[{i}].function.arguments", errors)));
            }
        }
        else if (contents.Count == 0 && known != ChatRole.Assistant)
        {
            errors[$"{field}.content"] = ["The content is required."];
        }
        return new ChatMessage(known, contents) { AuthorName = message.Name };
    }

    /// <summary>A string, or an array of <c>text</c> (and for a user, <c>image_url</c>) parts.</summary>
    private static void Parts(JsonElement? content, string field, bool allowImages, List<AIContent> contents, Dictionary<string, string[]> errors)
    {
        switch (content)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return;
            case { ValueKind: JsonValueKind.String } text:
                contents.Add(new TextContent(text.GetString()));
                return;
            case { ValueKind: JsonValueKind.Array } parts:
                var i = 0;
                foreach (var part in parts.EnumerateArray())
                {
                    var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
                    if (type == "text" && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        contents.Add(new TextContent(value.GetString()));
                    }
                    else if (type == "image_url" && allowImages && part.TryGetProperty("image_url", out var image)
                        && image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.GetString() is { } link
                        && Image(link) is { } picture)
                    {
                        contents.Add(picture);
                    }
                    else
                    {
                        errors[$"{field}[{i}]"] = [allowImages ? "A content part is a text part or an image_url part with a URL." : "A content part is a text part."];
                    }
                    i++;
                }
                return;
            default:
                errors[field] = ["The content is a string or an array of content parts."];
                return;
        }
    }

    private static AIContent? Image(string link)
    {
        if (link.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new DataContent(link);
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return Uri.TryCreate(link, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? new UriContent(uri, "image/*") : null;
    }

    private static string Text(JsonElement? content, string field, Dictionary<string, string[]> errors, bool allowImages)
    {
        var parts = new List<AIContent>();
        Parts(content, field, allowImages, parts, errors);
        return string.Concat(parts.OfType<TextContent>().Select(p => p.Text));
    }

    private static Dictionary<string, object?>? Arguments(string? arguments, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments);
        }
        catch (JsonException)
        {
            errors[field] = ["The arguments are a JSON object, as a string."];
            return null;
        }
    }

    private static void Tools(ChatCompletionRequest body, ChatOptions options, Dictionary<string, string[]> errors)
    {
        if (body.Tools is { Count: > ToolRules.MaxTools })
        {
            errors["tools"] = [$"At most {ToolRules.MaxTools} tools are allowed."];
            return;
        }
        for (var i = 0; i < (body.Tools?.Count ?? 0); i++)
        {
            var tool = body.Tools![i];
            ToolRules.AddFunction(tool?.Type, tool?.Function?.Name, tool?.Function?.Description, tool?.Function?.Parameters, $"tools[{i}]", $"tools[{i}].function.parameters", options, errors);
        }
        options.AllowMultipleToolCalls = body.ParallelToolCalls;
        // Chat completions name a function as {"type": "function", "function": {"name": …}}.
        ToolRules.Choose(body.ToolChoice, c => c.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) ? n.GetString() : null,
            options, errors);
    }

    private static void Format(ChatResponseFormatSpec? format, ChatOptions options, Dictionary<string, string[]> errors) =>
        ToolRules.Format(format is null ? null : format.Type ?? "", format?.JsonSchema?.Name, format?.JsonSchema?.Description, format?.JsonSchema?.Schema,
            format?.Type == "json_schema" ? "response_format.json_schema" : "response_format", options, errors);

    private static void Sampling(ChatCompletionRequest body, ChatOptions options, Dictionary<string, string[]> errors)
    {
        var max = body.MaxCompletionTokens ?? body.MaxTokens;
        if (max is < 1)
        {
            errors[body.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens"] = ["The token limit is at least 1."];
        }
        options.MaxOutputTokens = max;
        if (body.Temperature is { } temperature && (temperature < 0 || temperature > 2 || !float.IsFinite(temperature)))
        {
            errors["temperature"] = ["The temperature is between 0 and 2."];
        }
        options.Temperature = body.Temperature;
        if (body.TopP is { } topP && (topP < 0 || topP > 1 || !float.IsFinite(topP)))
        {
            errors["top_p"] = ["The top_p is between 0 and 1."];
        }
        options.TopP = body.TopP;
        foreach (var (field, value) in (ReadOnlySpan<(string, float?)>)[("presence_penalty", body.PresencePenalty), ("frequency_penalty", body.FrequencyPenalty)])
        {
            if (value is { } penalty && (penalty < -2 || penalty > 2 || !float.IsFinite(penalty)))
            {
                errors[field] = ["The penalty is between -2 and 2."];
            }
        }
        options.PresencePenalty = body.PresencePenalty;
        options.FrequencyPenalty = body.FrequencyPenalty;
        options.Seed = body.Seed;
        switch (body.Stop)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                break;
            case { ValueKind: JsonValueKind.String } one:
                options.StopSequences = [one.GetString()!];
                break;
            case { ValueKind: JsonValueKind.Array } many when many.GetArrayLength() <= MaxStops && many.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String):
                options.StopSequences = [.. many.EnumerateArray().Select(s => s.GetString()!)];
                break;
            default:
                errors["stop"] = [$"The stop is a string or an array of at most {MaxStops} strings."];
                break;
        }
        if (body.User is { } user && TextLength.Of(user) > 256)
        {
            errors["user"] = ["The user is at most 256 characters."];
        }
        if (body.Metadata is { Count: > 16 })
        {
            errors["metadata"] = ["At most 16 metadata pairs are allowed."];
        }
    }
}
