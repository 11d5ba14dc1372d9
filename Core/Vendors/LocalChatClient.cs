using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// The built-in text model: no network, no key, and the same answer for the same input every time, so the
/// whole product works (and is testable) with no vendor configured. It reports token usage like a vendor
/// (about four characters a token). Given function tools, it calls one when the prompt names it (or the tool
/// mode requires a call), with arguments built from the tool's schema; given the results, it answers with
/// them. Given a JSON Schema, it answers with an instance of it that follows the prompt (<see cref="SchemaInstance"/>).
/// </summary>
public sealed partial class LocalChatClient(string modelId) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("local", null, modelId);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var list = messages.ToList();
        if (ToolCall(list, options) is { } call)
        {
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call]))
            {
                ResponseId = ResponseIdOf(list, options),
                ModelId = modelId,
                FinishReason = ChatFinishReason.ToolCalls,
                Usage = UsageOf(list, options, JsonSerializer.Serialize(call.Arguments)),
            });
        }
        var (text, finish) = Answer(list, options);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ResponseId = ResponseIdOf(list, options),
            ModelId = modelId,
            FinishReason = finish,
            Usage = UsageOf(list, options, text),
        };
        return Task.FromResult(response);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        var id = ResponseIdOf(list, options);
        if (ToolCall(list, options) is { } call)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, [call]) { ResponseId = id, MessageId = id, ModelId = modelId, FinishReason = ChatFinishReason.ToolCalls };
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageOf(list, options, JsonSerializer.Serialize(call.Arguments)))]) { ResponseId = id, MessageId = id, ModelId = modelId };
            yield break;
        }
        var (text, finish) = Answer(list, options);
        var pieces = SplitKeepingSpaces(text);
        for (var i = 0; i < pieces.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, pieces[i])
            {
                ResponseId = id,
                MessageId = id,
                ModelId = modelId,
                FinishReason = i == pieces.Count - 1 ? finish : null,
            };
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageOf(list, options, text))]) { ResponseId = id, MessageId = id, ModelId = modelId };
    }

    /// <summary>
    /// A call of the tool the last user message asks for (or of the first tool, when the mode requires one); none after tool
    /// results. A message asks for a tool when it names it, or uses a word of its name (<c>get_weather</c>: "weather"), or
    /// two words of its description; the arguments are an instance of the tool's schema that takes values from the message.
    /// </summary>
    private static FunctionCallContent? ToolCall(List<ChatMessage> messages, ChatOptions? options)
    {
        var tools = options?.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];
        if (tools.Count == 0 || options?.ToolMode is NoneChatToolMode || messages.Count == 0 || messages[^1].Role != ChatRole.User)
        {
            return null;
        }
        var prompt = messages[^1].Text;
        var tool = options?.ToolMode switch
        {
            RequiredChatToolMode { RequiredFunctionName: { } name } => tools.FirstOrDefault(t => t.Name == name),
            RequiredChatToolMode => AskedFor(tools, prompt) ?? tools[0],
            _ => AskedFor(tools, prompt),
        };
        if (tool is null)
        {
            return null;
        }
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Transcript(messages, options) + tool.Name)))[..12];
        var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(SchemaInstance.Generate(tool.JsonSchema, $"local-{digest}", prompt));
        return new FunctionCallContent($"call_local_{digest}", tool.Name, arguments);
    }

    /// <summary>The tool the prompt asks for most clearly: its name (3), a word of its name (2 each), a word of its description (1 each); at least 2.</summary>
    private static AIFunctionDeclaration? AskedFor(List<AIFunctionDeclaration> tools, string prompt)
    {
        var words = Words(prompt).ToHashSet(StringComparer.Ordinal);
        var best = tools
            .Select(t => (Tool: t, Score:
                (prompt.Contains(t.Name, StringComparison.OrdinalIgnoreCase) ? 3 : 0)
                + 2 * Words(NameWords().Replace(t.Name, " $1")).Distinct().Count(words.Contains)
                + Words(t.Description ?? "").Distinct().Count(words.Contains)))
            .Where(s => s.Score >= 2)
            .OrderByDescending(s => s.Score)
            .FirstOrDefault();
        return best.Tool;
    }

    /// <summary>The meaningful words of a text, lower-case, a plural's s dropped: what the tool matching compares.</summary>
    private static IEnumerable<string> Words(string text) =>
        WordPattern().Matches(text.ToLowerInvariant())
            .Select(m => m.Value.Length > 4 && m.Value.EndsWith('s') ? m.Value[..^1] : m.Value)
            .Where(w => w.Length >= 4 && !StopWords.Contains(w));

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "what", "when", "where", "which", "with", "from", "this", "that", "there", "their", "them", "then", "than", "have", "does",
        "will", "would", "could", "should", "about", "into", "your", "yours", "please", "tell", "give", "show", "call", "tool",
        "function", "return", "given", "current", "some", "like", "just", "also", "only", "make", "more", "most", "such", "each",
    };

    [System.Text.RegularExpressions.GeneratedRegex(@"\p{L}[\p{L}\p{N}]*")]
    private static partial System.Text.RegularExpressions.Regex WordPattern();

    /// <summary>Where a name's words meet: <c>_</c>, <c>-</c>, or a capital (<c>getWeather</c>).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"[_\-]+|(?<=[a-z0-9])([A-Z])")]
    private static partial System.Text.RegularExpressions.Regex NameWords();

    private (string Text, ChatFinishReason Finish) Answer(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        var prompt = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        var words = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Transcript(messages, options))))[..12];
        // The tool results that end the conversation, if it ends with some.
        var results = messages.Reverse().TakeWhile(m => m.Role == ChatRole.Tool).SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Reverse().ToList();
        string text;
        if (results.Count > 0 && options?.ResponseFormat is not ChatResponseFormatJson)
        {
            // After tool results: an answer built from them.
            var names = messages.SelectMany(m => m.Contents.OfType<FunctionCallContent>()).ToDictionary(c => c.CallId, c => c.Name);
            var parts = results.Select(r => $"{names.GetValueOrDefault(r.CallId, "tool")} returned {Shorten(r.Result switch { JsonElement e => e.GetRawText(), string text => text, var other => JsonSerializer.Serialize(other) }, 200)}");
            text = $"[{modelId}] Local answer {digest} from the tool results: {string.Join("; ", parts)}.";
        }
        else if (options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema })
        {
            // Structured output: an instance of the schema asked for, following the prompt, so a sandbox run or a
            // studio refinement needs no vendor key.
            text = SchemaInstance.Generate(schema, $"local-{digest}", prompt);
        }
        else if (options?.ResponseFormat is ChatResponseFormatJson)
        {
            text = JsonSerializer.Serialize(new { model = modelId, words = words.Length, characters = prompt.Length, digest, echo = Shorten(prompt, 200) });
        }
        else
        {
            var preview = string.Join(' ', words.Take(24));
            text = $"[{modelId}] Local answer {digest} to a prompt of {words.Length} words: \"{preview}{(words.Length > 24 ? " …" : "")}\". " +
                   "This built-in model runs without a vendor key; choose a vendor model for real answers.";
        }
        // Honour a token limit the way vendors do: cut the answer and say so.
        if (options?.MaxOutputTokens is { } max && max > 0 && EstimateTokens(text) > max)
        {
            return (text[..Math.Min(text.Length, max * 4)], ChatFinishReason.Length);
        }
        return (text, ChatFinishReason.Stop);
    }

    private static string Transcript(IEnumerable<ChatMessage> messages, ChatOptions? options) =>
        (options?.Instructions ?? "") + "\n" + string.Join("\n", messages.Select(m => m.Role.Value + ":" + m.Text + string.Concat(m.Contents.Select(c => c switch
        {
            FunctionCallContent call => $" call {call.Name}({JsonSerializer.Serialize(call.Arguments)})",
            FunctionResultContent result => $" result {result.CallId}={JsonSerializer.Serialize(result.Result)}",
            _ => "",
        }))));

    private string ResponseIdOf(IReadOnlyList<ChatMessage> messages, ChatOptions? options) =>
        "local-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(modelId + Transcript(messages, options))))[..24];

    private static UsageDetails UsageOf(IEnumerable<ChatMessage> messages, ChatOptions? options, string answer)
    {
        var input = EstimateTokens(Transcript(messages, options));
        var output = EstimateTokens(answer);
        return new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
    }

    /// <summary>About four characters a token, at least one for any non-empty text.</summary>
    public static long EstimateTokens(string text) => text.Length == 0 ? 0 : (text.Length + 3) / 4;

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max];

    private static List<string> SplitKeepingSpaces(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                pieces.Add(text[start..i]);
                start = i;
            }
        }
        return pieces;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
