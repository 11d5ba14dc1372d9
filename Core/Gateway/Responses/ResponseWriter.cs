using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Gateway;

/// <summary>The response object of the Responses API (OpenAI's wire format), built from what the model answered.</summary>
public static class ResponseWriter
{
    /// <summary>An item's id in OpenAI's form: its kind (<c>msg</c>, <c>fc</c>, <c>fco</c>) and 32 hex digits, ordered by time.</summary>
    public static string NewId(string prefix) => $"{prefix}_{Guid.CreateVersion7():N}";

    /// <summary>The output items: a message with its text, and a <c>function_call</c> for each tool call.</summary>
    public static JsonArray Output(string text, IReadOnlyList<FunctionCallContent> calls, Func<string, string> newId)
    {
        var output = new JsonArray();
        if (text.Length > 0 || calls.Count == 0)
        {
            output.Add(Message(newId("msg"), text, "completed"));
        }
        foreach (var call in calls)
        {
            output.Add(FunctionCall(call, newId("fc")));
        }
        return output;
    }

    public static JsonObject FunctionCall(FunctionCallContent call, string id) => new()
    {
        ["type"] = "function_call",
        ["id"] = id,
        ["call_id"] = call.CallId,
        ["name"] = call.Name,
        ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()),
        ["status"] = "completed",
    };

    public static JsonObject Message(string id, string text, string status) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = new JsonArray(TextPart(text)),
    };

    public static JsonObject TextPart(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    /// <summary>The response object; <paramref name="output"/> null while it is in progress.</summary>
    public static JsonObject Response(string id, long created, string status, string model, ResponseInput input, string? instructions,
        JsonArray? output, UsageDetails? usage, ChatFinishReason? finish, PromptReference? prompt, int? promptVersion)
    {
        var response = new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = created,
            ["status"] = status,
            ["background"] = input.Background,
            ["error"] = null,
            ["incomplete_details"] = finish == ChatFinishReason.Length ? new JsonObject { ["reason"] = "max_output_tokens" } : null,
            ["instructions"] = instructions,
            ["max_output_tokens"] = input.Options.MaxOutputTokens,
            ["model"] = model,
            ["output"] = output ?? [],
            ["parallel_tool_calls"] = true,
            ["previous_response_id"] = input.PreviousResponseId,
            ["conversation"] = input.ConversationId is { } conversation ? new JsonObject { ["id"] = conversation } : null,
            ["store"] = input.Store,
            ["temperature"] = input.Options.Temperature ?? 1,
            ["top_p"] = input.Options.TopP ?? 1,
            ["text"] = input.Text is { } text ? JsonNode.Parse(text.GetRawText()) : new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = input.ToolChoice is { } choice ? JsonNode.Parse(choice.GetRawText()) : "auto",
            ["tools"] = input.Tools is { } tools ? JsonNode.Parse(tools.GetRawText()) : new JsonArray(),
            ["truncation"] = "disabled",
            ["usage"] = usage is null ? null : new JsonObject
            {
                ["input_tokens"] = usage.InputTokenCount ?? 0,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokenCount ?? 0 },
                ["output_tokens"] = usage.OutputTokenCount ?? 0,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokenCount ?? 0 },
                ["total_tokens"] = usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0),
            },
            ["user"] = null,
            ["metadata"] = new JsonObject([.. input.Metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
        };
        if (prompt is not null)
        {
            response["prompt"] = new JsonObject
            {
                ["id"] = prompt.Id,
                ["version"] = promptVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["variables"] = new JsonObject([.. (prompt.Variables ?? []).Select(p => KeyValuePair.Create(p.Key, JsonNode.Parse(p.Value.GetRawText())))]),
            };
        }
        return response;
    }
}
