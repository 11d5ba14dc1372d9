namespace AiPrompts.Core.Studio;

/// <summary>
/// A request to one of the studio's services (the Vietnamese document): a prompt refinement, an image, or a
/// conversation's text answer. It runs as a job; its result (the refinement, the image in the media store, the
/// answer) is written in the job's fenced completion, so a crash never leaves half of it. A request made for a
/// conversation's message (<see cref="MessageId"/>) moves that message on when it ends, and starts the next step.
/// </summary>
public sealed class StudioRequest
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }

    /// <summary>The job kind that serves it: prompt_refine, image_generate or chat_reply.</summary>
    public required string Kind { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string Prompt { get; set; }
    public string? Style { get; set; }
    public string? Topic { get; set; }

    /// <summary>The language the answer is written in (a BCP 47 tag such as vi or en).</summary>
    public string? Lang { get; set; }

    /// <summary>A picture the prompt is about (a refinement's optional input).</summary>
    public string? ImageUrl { get; set; }

    /// <summary>The image's size; for a conversation's refinement, the size of the image an image intent will get.</summary>
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>Whether its output is kept for good (the request's store choice) or for Media:UnstoredRetention.</summary>
    public bool Store { get; set; }
    public Guid JobId { get; set; }
    public Guid? MediaFileId { get; set; }

    /// <summary>A refinement's answer: <c>{refined_prompt, intent, keywords}</c> (jsonb).</summary>
    public string? Result { get; set; }

    /// <summary>The conversation message this request is a step of, if any.</summary>
    public Guid? MessageId { get; set; }
    public int? ProcessingMs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}
