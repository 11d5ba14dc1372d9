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

    /// <summary>The ids of the calls a required_action waits for.</summary>
    public static IReadOnlyList<string> CallIds(string? requiredAction) =>
        requiredAction is null ? [] : [.. (JsonNode.Parse(requiredAction)?["submit_tool_outputs"]?["tool_calls"]?.AsArray() ?? []).Select(c => c!["id"]!.GetValue<string>())];

    /// <summary>The rounds so far with this one added: its calls (from the required_action) and the outputs.</summary>
    public static string Append(string? rounds, string requiredAction, IEnumerable<(string CallId, string Output)> outputs)
    {
        var all = rounds is null ? new JsonArray() : JsonNode.Parse(rounds)!.AsArray();
        all.Add(new JsonObject
        {
            ["calls"] = JsonNode.Parse(requiredAction)!["submit_tool_outputs"]!["tool_calls"]!.DeepClone(),
            ["outputs"] = new JsonArray([.. outputs.Select(o => (JsonNode)new JsonObject { ["tool_call_id"] = o.CallId, ["output"] = o.Output })]),
        });
        return all.ToJsonString();
    }

    /// <summary>Each round as the model saw it: the assistant's calls, then the tool results.</summary>
    public static IEnumerable<ChatMessage> Messages(string? rounds)
    {
        foreach (var round in JsonNode.Parse(rounds ?? "[]")?.AsArray() ?? [])
        {
            var calls = round!["calls"]!.AsArray().Select(c => (AIContent)new FunctionCallContent(
                c!["id"]!.GetValue<string>(), c["function"]!["name"]!.GetValue<string>(),
                JsonSerializer.Deserialize<Dictionary<string, object?>>(c["function"]!["arguments"]!.GetValue<string>()))).ToList();
            var results = round["outputs"]!.AsArray().Select(o => (AIContent)new FunctionResultContent(o!["tool_call_id"]!.GetValue<string>(), o["output"]!.GetValue<string>())).ToList();
            yield return new ChatMessage(ChatRole.Assistant, calls);
            yield return new ChatMessage(ChatRole.Tool, results);
        }
    }
}
