using System.Text.Json;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Input;

namespace AiPrompts.Api.Assistants;

/// <summary>The checks of what a caller sends to the Assistants surface, as OpenAI bounds it, each naming its field.</summary>
internal static class ThreadInput
{
    private const int MaxMetadataPairs = 16;
    private const int MaxMetadataKey = 64;
    private const int MaxMetadataValue = 512;

    public static string CheckText(string? text, AssistantOptions options, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors[field] = ["A message is required."];
            return "";
        }
        if (TextLength.Of(text) > options.MaxMessageLength)
        {
            errors[field] = [$"The message is longer than {options.MaxMessageLength} characters."];
        }
        return text;
    }

    /// <summary>A string, or a list of <c>{"type": "text", "text": "…"}</c> parts (joined with new lines).</summary>
    public static string CheckContent(JsonElement? content, AssistantOptions options, string field, Dictionary<string, string[]> errors)
    {
        switch (content)
        {
            case { ValueKind: JsonValueKind.String } text:
                return CheckText(text.GetString(), options, field, errors);
            case { ValueKind: JsonValueKind.Array } parts:
                var texts = new List<string>();
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text")
                        || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
                    {
                        errors[field] = ["Each content part must be {\"type\": \"text\", \"text\": \"…\"}: images and files are not supported."];
                        return "";
                    }
                    texts.Add(value.GetString()!);
                }
                return CheckText(string.Join("\n", texts), options, field, errors);
            default:
                errors[field] = ["The content is required: a string, or a list of text parts."];
                return "";
        }
    }

    public static string CheckRole(string? role, string field, Dictionary<string, string[]> errors, bool allowAssistant)
    {
        if (role is "user" || (allowAssistant && role is "assistant"))
        {
            return role;
        }
        errors[field] = [allowAssistant ? "The role must be 'user' or 'assistant'." : "The role must be 'user'."];
        return "user";
    }

    /// <summary>As OpenAI has them: at most 16 pairs, keys up to 64 characters, values up to 512.</summary>
    public static void CheckMetadata(Dictionary<string, string>? metadata, string field, Dictionary<string, string[]> errors)
    {
        if (metadata is null)
        {
            return;
        }
        if (metadata.Count > MaxMetadataPairs)
        {
            errors[field] = [$"At most {MaxMetadataPairs} pairs."];
        }
        else if (metadata.Keys.FirstOrDefault(k => k.Length == 0 || TextLength.Of(k) > MaxMetadataKey) is { } key)
        {
            errors[field] = [$"A key must have 1 to {MaxMetadataKey} characters: '{key}'."];
        }
        else if (metadata.FirstOrDefault(p => p.Value is null || TextLength.Of(p.Value) > MaxMetadataValue) is { Key: { } bad })
        {
            errors[field] = [$"The value of '{bad}' must be a string of at most {MaxMetadataValue} characters."];
        }
    }

    /// <summary>Messages given with a thread or a run: each a role, content and metadata, checked in place.</summary>
    public static List<(string Role, string Text, Dictionary<string, string>? Metadata)> CheckMessages(
        IEnumerable<MessageCreate>? messages, string field, AssistantOptions options, Dictionary<string, string[]> errors)
    {
        var checkedMessages = new List<(string, string, Dictionary<string, string>?)>();
        foreach (var (message, index) in (messages ?? []).Select((m, i) => (m, i)))
        {
            var at = $"{field}[{index}]";
            var role = CheckRole(message.Role, $"{at}.role", errors, allowAssistant: true);
            var text = CheckContent(message.Content, options, $"{at}.content", errors);
            CheckMetadata(message.Metadata, $"{at}.metadata", errors);
            checkedMessages.Add((role, text, message.Metadata));
        }
        return checkedMessages;
    }

    public static void CheckRun(RunCreate run, Dictionary<string, string[]> errors)
    {
        if (run.AssistantId is { } id && !OpenAIIds.TryParse(OpenAIIds.Assistant, id, out _))
        {
            errors["assistant_id"] = ["Not an assistant id (asst_…)."];
        }
        if (run.Temperature is { } temperature && !(temperature >= 0 && temperature <= 2)) // NaN too
        {
            errors["temperature"] = ["The temperature must be between 0 and 2."];
        }
        if (run.TopP is { } topP && !(topP >= 0 && topP <= 1))
        {
            errors["top_p"] = ["top_p must be between 0 and 1."];
        }
        if (run.MaxCompletionTokens is < 16)
        {
            errors["max_completion_tokens"] = ["max_completion_tokens must be at least 16."];
        }
        if (run.MaxPromptTokens is < 256)
        {
            errors["max_prompt_tokens"] = ["max_prompt_tokens must be at least 256."];
        }
        switch (run.TruncationStrategy)
        {
            case null or { Type: "auto", LastMessages: null }:
                break;
            case { Type: "last_messages", LastMessages: >= 1 }:
                break;
            default:
                errors["truncation_strategy"] = ["The type is 'auto', or 'last_messages' with last_messages of at least 1."];
                break;
        }
        if (run.Instructions is { Length: > 256_000 } || run.AdditionalInstructions is { Length: > 256_000 })
        {
            errors[run.Instructions is { Length: > 256_000 } ? "instructions" : "additional_instructions"] = ["At most 256000 characters."];
        }
        CheckMetadata(run.Metadata, "metadata", errors);
    }
}
