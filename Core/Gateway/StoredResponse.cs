namespace AiPrompts.Core.Gateway;

/// <summary>
/// A response made through the OpenAI-compatible <c>/openai/v1/responses</c> and stored (<c>store</c> is true by default):
/// its input items and the response as answered, so it can be read again, listed, chained from
/// (<c>previous_response_id</c>) and deleted. It is its owner's alone.
/// </summary>
public sealed class StoredResponse
{
    /// <summary>OpenAI's form: <c>resp_</c> and 32 hex digits (the gateway call's id).</summary>
    public required string Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public string? PreviousResponseId { get; set; }
    public required string Model { get; set; }
    public required string Status { get; set; }

    /// <summary>This request's input items (JSON array, each with its id), after any template's message.</summary>
    public required string InputItems { get; set; }

    /// <summary>The response object as it was answered (JSON).</summary>
    public required string Body { get; set; }

    /// <summary>The prompt template and version that ran, when the request named one (<c>prompt.id</c>, <c>prompt.version</c>).</summary>
    public string? TemplateType { get; set; }
    public int? TemplateVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A background response's job (<c>background: true</c>): its status is the response's while it runs, and how it ended.</summary>
    public Guid? JobId { get; set; }

    /// <summary>A background response's request as it was sent (JSON): the Worker reads its options from it.</summary>
    public string? Request { get; set; }

    /// <summary>
    /// What a background response answers (JSON items): the chain or conversation as it was when it was asked, then its
    /// input. Cleared when it ends.
    /// </summary>
    public string? RunContext { get; set; }

    /// <summary>The purpose its usage rows carry (<c>metadata.purpose</c> or the header).</summary>
    public string? Purpose { get; set; }
}
