namespace AiPrompts.Api.Assistants;

public sealed class AssistantOptions
{
    public const string Section = "Assistants";

    /// <summary>The assistant for /chat and for runs that name none (the Korean document's ASSISTANT_ID); unset: the built-in one.</summary>
    public string? DefaultAssistantId { get; set; }

    /// <summary>The built-in assistant's instructions: the document's digital-signage data analyst.</summary>
    public string DefaultInstructions { get; set; } =
        "You are a data analyst for digital signage. Answer questions about displays, content, schedules and audience data " +
        "clearly and briefly; when the message carries JSON data, analyse it and say what it shows.";

    /// <summary>How long POST /api/v1/chat waits for the answer before it says how to poll.</summary>
    public TimeSpan ChatWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest message accepted, in characters.</summary>
    public int MaxMessageLength { get; set; } = 100_000;

    public int MaxAttempts { get; set; } = 5;
}
