using System.Net.ServerSentEvents;
using System.Text.Json;

namespace AiPrompts.Web.Playground;

/// <summary>What one event of a streamed assistant run means for the page.</summary>
/// <param name="ThreadId">The run's thread (from the run's own events), to continue the conversation on.</param>
/// <param name="RunId">The run, to stop it.</param>
/// <param name="Text">The answer's text this event adds (empty when none).</param>
/// <param name="Status">The run's status when the event is the run's (<c>queued</c>, <c>in_progress</c>, <c>completed</c>…).</param>
/// <param name="Usage">The run's tokens, once it has ended.</param>
/// <param name="Error">Why the run or the stream failed, as the Api says it.</param>
public sealed record RunEvent(string? ThreadId, string? RunId, string Text, string? Status, ChatUsage? Usage, string? Error)
{
    /// <summary>The statuses after which the run does nothing more.</summary>
    public static readonly IReadOnlySet<string> Ended =
        new HashSet<string>(["completed", "incomplete", "failed", "cancelled", "expired", "requires_action"], StringComparer.Ordinal);

    public bool HasEnded => Status is not null && Ended.Contains(Status);
}

/// <summary>
/// Reads the events of a streamed run (OpenAI's Assistants v2: <c>thread.run.*</c> carry the run,
/// <c>thread.message.delta</c> the answer's pieces, <c>error</c> the SDKs' error object).
/// </summary>
public static class RunEvents
{
    public static RunEvent Read(SseItem<string> item)
    {
        using var document = JsonDocument.Parse(item.Data);
        var data = document.RootElement;
        if (item.EventType == "thread.message.delta")
        {
            var text = "";
            if (data.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.TryGetProperty("text", out var piece) && piece.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        text += value.GetString();
                    }
                }
            }
            return new RunEvent(null, null, text, null, null, null);
        }
        if (item.EventType == "error")
        {
            var error = data.TryGetProperty("error", out var e) ? e : data;
            var said = String(error, "user_message") ?? String(error, "message");
            var recovery = String(error, "recovery_action");
            return new RunEvent(null, null, "", null, null, recovery is null ? said : $"{said} {recovery}");
        }
        if (item.EventType.StartsWith("thread.run.", StringComparison.Ordinal) && !item.EventType.StartsWith("thread.run.step.", StringComparison.Ordinal))
        {
            var usage = data.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
                ? new ChatUsage(u.GetProperty("prompt_tokens").GetInt64(), u.GetProperty("completion_tokens").GetInt64())
                : null;
            var failure = data.TryGetProperty("last_error", out var last) && last.ValueKind == JsonValueKind.Object ? String(last, "message") : null;
            return new RunEvent(String(data, "thread_id"), String(data, "id"), "", String(data, "status"), usage, failure);
        }
        return new RunEvent(null, null, "", null, null, null);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
