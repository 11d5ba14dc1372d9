namespace AiPrompts.Core.Gateway;

/// <summary>
/// A conversation of the OpenAI-compatible surface (<c>/openai/v1/conversations</c>): an ordered list of items (messages,
/// function calls and their outputs) that responses read and append to. Its owner's alone. Kept apart from the Assistants
/// surface's threads: items are more than messages (function calls and outputs are items of their own), and a
/// conversation is never locked by a run as a thread is; the Assistants surface keeps its document's contract.
/// </summary>
public sealed class Conversation
{
    /// <summary>OpenAI's form: <c>conv_</c> and 32 hex digits.</summary>
    public required string Id { get; set; }
    public Guid UserId { get; set; }

    /// <summary>Up to 16 string pairs (JSON object).</summary>
    public required string Metadata { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One item of a conversation, in OpenAI's form (JSON), in the order it was added.</summary>
public sealed class ConversationItem
{
    public required string ConversationId { get; set; }

    /// <summary>The item's own id (<c>msg_…</c>, <c>fc_…</c>), unique within its conversation.</summary>
    public required string Id { get; set; }

    /// <summary>The order of items: increasing as they are added.</summary>
    public long Position { get; set; }
    public required string Item { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
