using System.Text;
using System.Text.Json.Nodes;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// One response's streamed events, as OpenAI documents them and in their order, each numbered (<c>sequence_number</c>):
/// <c>response.created</c>, <c>response.in_progress</c>; for the text, <c>output_item.added</c>,
/// <c>content_part.added</c>, <c>output_text.delta</c>…, <c>output_text.done</c>, <c>content_part.done</c>,
/// <c>output_item.done</c>; for each tool call, <c>output_item.added</c>, <c>function_call_arguments.delta</c> and
/// <c>.done</c>, <c>output_item.done</c>; then <c>response.completed</c> (or <c>incomplete</c>, <c>failed</c>). The one
/// place the sequence is made, whoever sends it: the Api to a client as the vendor answers, the Worker to a background
/// response's event log, or a stored response replayed (<see cref="ReplayAsync"/>).
/// </summary>
public sealed class ResponseEvents(ResponseEvents.Sink send, int first = 0)
{
    /// <summary>Where an event goes: its type and its whole body (type and sequence number included).</summary>
    public delegate ValueTask Sink(string type, JsonObject body, CancellationToken cancellationToken);

    private readonly StringBuilder _text = new();
    private string? _messageId;

    /// <summary>The output items completed so far, in order.</summary>
    public JsonArray Output { get; } = [];

    /// <summary>The sequence number of the next event.</summary>
    public int Next { get; private set; } = first;

    /// <summary>The events a final status ends a stream with; a cancelled response's stream just ends.</summary>
    public static string? EndOf(string status) => status switch
    {
        "completed" => "response.completed",
        "incomplete" => "response.incomplete",
        "failed" => "response.failed",
        _ => null,
    };

    public async ValueTask StartAsync(JsonObject inProgress, CancellationToken cancellationToken)
    {
        await SendAsync("response.created", new JsonObject { ["response"] = inProgress.DeepClone() }, cancellationToken);
        await SendAsync("response.in_progress", new JsonObject { ["response"] = inProgress.DeepClone() }, cancellationToken);
    }

    /// <summary>A piece of the answer's text; the first one opens the message (with <paramref name="messageId"/>).</summary>
    public async ValueTask TextAsync(string delta, Func<string> messageId, CancellationToken cancellationToken)
    {
        await OpenMessageAsync(messageId(), cancellationToken);
        _text.Append(delta);
        await SendAsync("response.output_text.delta", new JsonObject { ["item_id"] = _messageId, ["output_index"] = Output.Count, ["content_index"] = 0, ["delta"] = delta, ["logprobs"] = new JsonArray() }, cancellationToken);
    }

    /// <summary>A tool call, whole (after the message, if there is one, is done).</summary>
    public async ValueTask FunctionCallAsync(JsonObject item, CancellationToken cancellationToken)
    {
        await EndMessageAsync(cancellationToken);
        var index = Output.Count;
        var id = (string?)item["id"];
        var arguments = (string?)item["arguments"] ?? "";
        var started = (JsonObject)item.DeepClone();
        started["arguments"] = "";
        started["status"] = "in_progress";
        await SendAsync("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = started }, cancellationToken);
        await SendAsync("response.function_call_arguments.delta", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["delta"] = arguments }, cancellationToken);
        await SendAsync("response.function_call_arguments.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["arguments"] = arguments }, cancellationToken);
        await SendAsync("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() }, cancellationToken);
        Output.Add(item.DeepClone());
    }

    /// <summary>Closes the message, if one is open: its text done, its part done, the item done.</summary>
    public async ValueTask EndMessageAsync(CancellationToken cancellationToken)
    {
        if (_messageId is not { } id)
        {
            return;
        }
        var text = _text.ToString();
        var index = Output.Count;
        await SendAsync("response.output_text.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() }, cancellationToken);
        await SendAsync("response.content_part.done", Part(id, index, ResponseWriter.TextPart(text)), cancellationToken);
        var message = ResponseWriter.Message(id, text, "completed");
        await SendAsync("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = message.DeepClone() }, cancellationToken);
        Output.Add(message);
        _messageId = null;
        _text.Clear();
    }

    /// <summary>The last event: the response as it ended (<see cref="EndOf"/> its status), when its status has one.</summary>
    public async ValueTask EndAsync(JsonObject response, CancellationToken cancellationToken)
    {
        if (EndOf((string?)response["status"] ?? "") is { } type)
        {
            await SendAsync(type, new JsonObject { ["response"] = response.DeepClone() }, cancellationToken);
        }
    }

    /// <summary>A failure after the stream began, as OpenAI's <c>error</c> event.</summary>
    public ValueTask ErrorAsync(string code, string message, CancellationToken cancellationToken) =>
        SendAsync("error", new JsonObject { ["code"] = code, ["message"] = message, ["param"] = null }, cancellationToken);

    /// <summary>
    /// The events of a response that has ended, made again from what was stored: the same kinds in the same order, the text
    /// in one delta per message. What a stream is resumed from when the events as sent are no longer kept.
    /// </summary>
    public static async ValueTask ReplayAsync(JsonObject response, Sink send, CancellationToken cancellationToken)
    {
        var events = new ResponseEvents(send);
        var started = (JsonObject)response.DeepClone();
        started["status"] = "in_progress";
        started["output"] = new JsonArray();
        started["usage"] = null;
        started["error"] = null;
        started["incomplete_details"] = null;
        await events.StartAsync(started, cancellationToken);
        foreach (var item in response["output"] as JsonArray ?? [])
        {
            switch ((string?)item?["type"])
            {
                case "message":
                    var text = string.Concat((item["content"] as JsonArray ?? []).Select(p => (string?)p?["text"]));
                    await events.OpenMessageAsync((string?)item["id"] ?? "", cancellationToken);
                    if (text.Length > 0)
                    {
                        await events.TextAsync(text, () => "", cancellationToken);
                    }
                    await events.EndMessageAsync(cancellationToken);
                    break;
                case "function_call":
                    await events.FunctionCallAsync((JsonObject)item, cancellationToken);
                    break;
            }
        }
        await events.EndAsync(response, cancellationToken);
    }

    private async ValueTask OpenMessageAsync(string id, CancellationToken cancellationToken)
    {
        if (_messageId is not null)
        {
            return;
        }
        _messageId = id;
        await SendAsync("response.output_item.added", new JsonObject { ["output_index"] = Output.Count, ["item"] = ResponseWriter.Message(id, "", "in_progress") }, cancellationToken);
        await SendAsync("response.content_part.added", Part(id, Output.Count, ResponseWriter.TextPart("")), cancellationToken);
    }

    private static JsonObject Part(string itemId, int index, JsonObject part) => new() { ["item_id"] = itemId, ["output_index"] = index, ["content_index"] = 0, ["part"] = part };

    private ValueTask SendAsync(string type, JsonObject data, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["type"] = type, ["sequence_number"] = Next++ };
        foreach (var (name, value) in data.ToList())
        {
            data.Remove(name);
            body[name] = value;
        }
        return send(type, body, cancellationToken);
    }
}
