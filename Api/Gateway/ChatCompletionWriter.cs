using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// Chat completions in OpenAI's wire format, written straight to UTF-8: the whole answer (<c>chat.completion</c>) and the
/// chunks of a stream (<c>chat.completion.chunk</c>), with usage as OpenAI reports it (cached and reasoning token details).
/// </summary>
internal static class ChatCompletionWriter
{
    public static byte[] Completion(string id, string model, long created, ChatResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            Head(json, id, "chat.completion", model, created);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            var text = response.Text;
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (text.Length > 0 || calls.Count == 0)
            {
                json.WriteString("content", text);
            }
            else
            {
                json.WriteNull("content");
            }
            json.WriteNull("refusal");
            if (calls.Count > 0)
            {
                ToolCalls(json, calls, withIndex: false);
            }
            json.WriteEndObject();
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", FinishReason(response.FinishReason, calls.Count > 0));
            json.WriteEndObject();
            json.WriteEndArray();
            Usage(json, response.Usage);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One chunk of a stream: a delta of text or tool calls, and the finish reason on the last.</summary>
    public static byte[] Chunk(string id, string model, long created, bool first, string? text, IReadOnlyList<FunctionCallContent> calls, ChatFinishReason? finish)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            Head(json, id, "chat.completion.chunk", model, created);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("delta");
            if (first)
            {
                json.WriteString("role", "assistant");
            }
            if (text is { Length: > 0 } || (first && calls.Count == 0))
            {
                json.WriteString("content", text ?? "");
            }
            if (calls.Count > 0)
            {
                ToolCalls(json, calls, withIndex: true);
            }
            json.WriteEndObject();
            json.WriteNull("logprobs");
            if (finish is not null)
            {
                json.WriteString("finish_reason", FinishReason(finish, calls.Count > 0));
            }
            else
            {
                json.WriteNull("finish_reason");
            }
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The last chunk of a stream with <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public static byte[] UsageChunk(string id, string model, long created, UsageDetails usage)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            Head(json, id, "chat.completion.chunk", model, created);
            json.WriteStartArray("choices");
            json.WriteEndArray();
            Usage(json, usage);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Head(Utf8JsonWriter json, string id, string type, string model, long created)
    {
        json.WriteString("id", id);
        json.WriteString("object", type);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteNull("system_fingerprint");
    }

    private static void ToolCalls(Utf8JsonWriter json, IReadOnlyList<FunctionCallContent> calls, bool withIndex)
    {
        json.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            json.WriteStartObject();
            if (withIndex)
            {
                json.WriteNumber("index", i);
            }
            json.WriteString("id", calls[i].CallId);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", calls[i].Name);
            json.WriteString("arguments", JsonSerializer.Serialize(calls[i].Arguments ?? new Dictionary<string, object?>()));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void Usage(Utf8JsonWriter json, UsageDetails? usage)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", input);
        json.WriteNumber("completion_tokens", output);
        json.WriteNumber("total_tokens", usage?.TotalTokenCount ?? input + output);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", usage?.CachedInputTokenCount ?? 0);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details");
        json.WriteNumber("reasoning_tokens", usage?.ReasoningTokenCount ?? 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static string FinishReason(ChatFinishReason? reason, bool calledTools) =>
        reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : reason == ChatFinishReason.ToolCalls || (reason is null && calledTools) ? "tool_calls"
        : "stop";
}
