using System.Text.Json;

namespace AiPrompts.Web.Playground;

/// <summary>One turn of a chat, as the page keeps it and as OpenAI's chat completions take it.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>Tokens as the last chunk of a stream reports them.</summary>
public sealed record ChatUsage(long PromptTokens, long CompletionTokens);

/// <summary>Reads the chunks of a streamed chat completion (OpenAI's <c>chat.completion.chunk</c>).</summary>
public static class ChatChunks
{
    /// <summary>The text a chunk adds (empty when none), and the usage when the chunk carries it.</summary>
    public static (string Text, ChatUsage? Usage) Read(string data)
    {
        using var chunk = JsonDocument.Parse(data);
        var root = chunk.RootElement;
        var text = "";
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text += content.GetString();
                }
            }
        }
        var usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
            ? new ChatUsage(u.GetProperty("prompt_tokens").GetInt64(), u.GetProperty("completion_tokens").GetInt64())
            : null;
        return (text, usage);
    }
}
