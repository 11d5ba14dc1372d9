using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>The chat completions wire format, written and read by hand so that vendor variations never throw.</summary>
internal static class OpenAIChatJson
{
    public static BinaryContent WriteRequest(string model, IEnumerable<ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", options?.ModelId ?? model);
            json.WriteStartArray("messages");
            if (options?.Instructions is { Length: > 0 } instructions)
            {
                json.WriteStartObject();
                json.WriteString("role", "system");
                json.WriteString("content", instructions);
                json.WriteEndObject();
            }
            foreach (var message in messages)
            {
                WriteMessage(json, message);
            }
            json.WriteEndArray();
            if (stream)
            {
                json.WriteBoolean("stream", true);
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }
            if (options is not null)
            {
                WriteOptions(json, options);
            }
            json.WriteEndObject();
        }
        buffer.Position = 0;
        return BinaryContent.Create(BinaryData.FromStream(buffer));
    }

    private static void WriteMessage(Utf8JsonWriter json, ChatMessage message)
    {
        json.WriteStartObject();
        json.WriteString("role", message.Role.Value);
        var parts = message.Contents.Where(c => c is TextContent or DataContent or UriContent).ToList();
        if (parts.All(p => p is TextContent))
        {
            json.WriteString("content", string.Concat(parts.Cast<TextContent>().Select(t => t.Text)));
        }
        else
        {
            json.WriteStartArray("content");
            foreach (var part in parts)
            {
                json.WriteStartObject();
                switch (part)
                {
                    case TextContent text:
                        json.WriteString("type", "text");
                        json.WriteString("text", text.Text);
                        break;
                    case DataContent data:
                        json.WriteString("type", "image_url");
                        json.WriteStartObject("image_url");
                        json.WriteString("url", data.Uri);
                        json.WriteEndObject();
                        break;
                    case UriContent uri:
                        json.WriteString("type", "image_url");
                        json.WriteStartObject("image_url");
                        json.WriteString("url", uri.Uri.ToString());
                        json.WriteEndObject();
                        break;
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteOptions(Utf8JsonWriter json, ChatOptions options)
    {
        if (options.Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }
        if (options.TopP is { } topP)
        {
            json.WriteNumber("top_p", topP);
        }
        if (options.MaxOutputTokens is { } maxTokens)
        {
            json.WriteNumber("max_tokens", maxTokens);
        }
        if (options.FrequencyPenalty is { } frequency)
        {
            json.WriteNumber("frequency_penalty", frequency);
        }
        if (options.PresencePenalty is { } presence)
        {
            json.WriteNumber("presence_penalty", presence);
        }
        if (options.Seed is { } seed)
        {
            json.WriteNumber("seed", seed);
        }
        if (options.StopSequences is { Count: > 0 } stops)
        {
            json.WriteStartArray("stop");
            foreach (var stop in stops)
            {
                json.WriteStringValue(stop);
            }
            json.WriteEndArray();
        }
        switch (options.ResponseFormat)
        {
            case ChatResponseFormatJson { Schema: { } schema } format:
                json.WriteStartObject("response_format");
                json.WriteString("type", "json_schema");
                json.WriteStartObject("json_schema");
                json.WriteString("name", format.SchemaName ?? "output");
                json.WriteBoolean("strict", true);
                json.WritePropertyName("schema");
                schema.WriteTo(json);
                json.WriteEndObject();
                json.WriteEndObject();
                break;
            case ChatResponseFormatJson:
                json.WriteStartObject("response_format");
                json.WriteString("type", "json_object");
                json.WriteEndObject();
                break;
        }
    }

    public static ChatResponse ReadResponse(JsonElement root, VendorTarget target)
    {
        if (root.TryGetProperty("error", out var topError) && topError.ValueKind != JsonValueKind.Null)
        {
            throw VendorErrors.InBody(target, topError);
        }
        string? text = null;
        ChatFinishReason? finish = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            var reason = String(choice, "finish_reason");
            if (reason == "error")
            {
                throw VendorErrors.InBody(target, choice.TryGetProperty("error", out var choiceError) ? choiceError : null);
            }
            finish = MapFinishReason(reason);
            if (choice.TryGetProperty("message", out var message))
            {
                text = String(message, "content");
                if (finish is null && String(message, "refusal") is { Length: > 0 } refusal)
                {
                    text = refusal;
                    finish = ChatFinishReason.ContentFilter;
                }
            }
        }
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text ?? ""))
        {
            ResponseId = String(root, "id"),
            ModelId = String(root, "model") ?? target.ModelId,
            CreatedAt = root.TryGetProperty("created", out var created) && created.TryGetInt64(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null,
            FinishReason = finish,
        };
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            response.Usage = ReadUsage(usage);
            if (ReadCost(usage) is { } cost)
            {
                (response.AdditionalProperties ??= [])[OpenAICompatibleChatClient.VendorCostKey] = cost;
            }
        }
        return response;
    }

    public static IEnumerable<ChatResponseUpdate> ReadChunk(JsonElement root, VendorTarget target)
    {
        if (root.TryGetProperty("error", out var topError) && topError.ValueKind != JsonValueKind.Null)
        {
            throw VendorErrors.InBody(target, topError);
        }
        var id = String(root, "id");
        var model = String(root, "model") ?? target.ModelId;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                var reason = String(choice, "finish_reason");
                if (reason == "error")
                {
                    throw VendorErrors.InBody(target, choice.TryGetProperty("error", out var choiceError) ? choiceError : null);
                }
                var text = choice.TryGetProperty("delta", out var delta) ? String(delta, "content") : null;
                if (text is { Length: > 0 } || reason is not null)
                {
                    yield return new ChatResponseUpdate(ChatRole.Assistant, text)
                    {
                        ResponseId = id,
                        MessageId = id,
                        ModelId = model,
                        FinishReason = MapFinishReason(reason),
                    };
                }
            }
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            var update = new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(ReadUsage(usage))]) { ResponseId = id, MessageId = id, ModelId = model };
            if (ReadCost(usage) is { } cost)
            {
                update.AdditionalProperties = new() { [OpenAICompatibleChatClient.VendorCostKey] = cost };
            }
            yield return update;
        }
    }

    private static UsageDetails ReadUsage(JsonElement usage)
    {
        var details = new UsageDetails
        {
            InputTokenCount = Long(usage, "prompt_tokens"),
            OutputTokenCount = Long(usage, "completion_tokens"),
            TotalTokenCount = Long(usage, "total_tokens"),
        };
        if (usage.TryGetProperty("prompt_tokens_details", out var input) && input.ValueKind == JsonValueKind.Object)
        {
            details.CachedInputTokenCount = Long(input, "cached_tokens");
        }
        if (usage.TryGetProperty("completion_tokens_details", out var output) && output.ValueKind == JsonValueKind.Object)
        {
            details.ReasoningTokenCount = Long(output, "reasoning_tokens");
        }
        details.TotalTokenCount ??= details.InputTokenCount + details.OutputTokenCount;
        return details;
    }

    private static decimal? ReadCost(JsonElement usage) =>
        usage.TryGetProperty("cost", out var cost) && cost.ValueKind == JsonValueKind.Number && cost.TryGetDecimal(out var value) ? value : null;

    private static ChatFinishReason? MapFinishReason(string? reason) => reason switch
    {
        null => null,
        "stop" or "end_turn" => ChatFinishReason.Stop,
        "length" or "max_tokens" => ChatFinishReason.Length,
        "content_filter" => ChatFinishReason.ContentFilter,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        _ => new ChatFinishReason(reason),
    };

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
