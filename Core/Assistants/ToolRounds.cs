using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Assistants;

/// <summary>
/// Function tools on runs, in OpenAI's wire shapes: the tools as declarations for the model, the model's
/// calls as a <c>required_action</c>, and every round of calls with the outputs the caller submitted, which
/// become the run's context when it goes on.
/// </summary>
public static class ToolRounds
{
    /// <summary>How long a run waits for tool outputs (OpenAI: 10 minutes).</summary>
    public static readonly TimeSpan OutputsWindow = TimeSpan.FromMinutes(10);

    public static IList<AITool>? Declarations(string tools)
    {
        var declared = new List<AITool>();
        foreach (var tool in JsonNode.Parse(tools)?.AsArray() ?? [])
        {
            if (tool?["type"]?.GetValue<string>() == "function" && tool["function"] is JsonObject function && function["name"]?.GetValue<string>() is { } name)
            {
                var parameters = function["parameters"]?.ToJsonString() ?? """{"type":"object","properties":{}}""";
                declared.Add(AIFunctionFactory.CreateDeclaration(name, function["description"]?.GetValue<string>(), JsonDocument.Parse(parameters).RootElement.Clone()));
            }
        }
        return declared.Count == 0 ? null : declared;
    }

    public static string RequiredAction(IEnumerable<FunctionCallContent> calls) => new JsonObject
    {
        ["type"] = "submit_tool_outputs",
        ["submit_tool_outputs"] = new JsonObject
        {
            ["tool_calls"] = new JsonArray([.. calls.Select(call => (JsonNode)new JsonObject
            {
                ["id"] = call.CallId,
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = call.Name,
                    ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()),
                },
            })]),
        },
    }.ToJsonString();

    /// <summary>
    /// The rounds so far with this one added: its calls (from the required_action), the outputs, when the
    /// model asked for them and when they came (Unix seconds, the run step's created_at and completed_at).
    /// </summary>
    public static string Append(string? rounds, string requiredAction, IEnumerable<(string CallId, string Output)> outputs, DateTimeOffset askedAt, DateTimeOffset answeredAt)
    {
        var all = rounds is null ? new JsonArray() : JsonNode.Parse(rounds)!.AsArray();
        all.Add(new JsonObject
        {
            ["calls"] = JsonNode.Parse(requiredAction)!["submit_tool_outputs"]!["tool_calls"]!.DeepClone(),
            ["outputs"] = new JsonArray([.. outputs.Select(o => (JsonNode)new JsonObject { ["tool_call_id"] = o.CallId, ["output"] = o.Output })]),
            ["created_at"] = askedAt.ToUnixTimeSeconds(),
            ["completed_at"] = answeredAt.ToUnixTimeSeconds(),
        });
        return all.ToJsonString();
    }

    /// <summary>One function call of a round, with its output once submitted.</summary>
    public sealed record ToolCall(string Id, string Name, string Arguments, string? Output);

    /// <summary>A round of calls; its times are null for rounds written before they were kept.</summary>
    public sealed record Round(IReadOnlyList<ToolCall> Calls, long? CreatedAt, long? CompletedAt);

    /// <summary>Every answered round, oldest first.</summary>
    public static IReadOnlyList<Round> Read(string? rounds) =>
        [.. (JsonNode.Parse(rounds ?? "[]")?.AsArray() ?? []).Select(round =>
        {
            var outputs = round!["outputs"]!.AsArray().ToDictionary(o => o!["tool_call_id"]!.GetValue<string>(), o => o!["output"]!.GetValue<string>());
            return new Round(CallsOf(round["calls"]!.AsArray(), outputs), round["created_at"]?.GetValue<long>(), round["completed_at"]?.GetValue<long>());
        })];

    /// <summary>The calls a required_action waits for (no outputs yet).</summary>
    public static IReadOnlyList<ToolCall> Pending(string? requiredAction) =>
        requiredAction is null ? [] : CallsOf(JsonNode.Parse(requiredAction)!["submit_tool_outputs"]!["tool_calls"]!.AsArray(), null);

    private static List<ToolCall> CallsOf(JsonArray calls, Dictionary<string, string>? outputs) =>
        [.. calls.Select(c =>
        {
            var id = c!["id"]!.GetValue<string>();
            return new ToolCall(id, c["function"]!["name"]!.GetValue<string>(), c["function"]!["arguments"]!.GetValue<string>(), outputs?.GetValueOrDefault(id));
        })];

    /// <summary>Each round as the model saw it: the assistant's calls, then the tool results.</summary>
    public static IEnumerable<ChatMessage> Messages(string? rounds)
    {
        foreach (var round in Read(rounds))
        {
            yield return new ChatMessage(ChatRole.Assistant, [.. round.Calls.Select(c => (AIContent)new FunctionCallContent(c.Id, c.Name,
                JsonSerializer.Deserialize<Dictionary<string, object?>>(c.Arguments)))]);
            yield return new ChatMessage(ChatRole.Tool, [.. round.Calls.Select(c => (AIContent)new FunctionResultContent(c.Id, c.Output))]);
        }
    }
}
