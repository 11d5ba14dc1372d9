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
}
