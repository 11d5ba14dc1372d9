namespace AiPrompts.Core.Studio;

/// <summary>
/// A request to one of the studio's services (the Vietnamese document): today image generation. It runs as a
/// job; its image goes to the media store in the job's fenced completion, so a crash never leaves half of it.
/// </summary>
public sealed class StudioRequest
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }

    /// <summary>The job kind that serves it (image_generate).</summary>
    public required string Kind { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string Prompt { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>Whether its output is kept for good (the request's store choice) or for Media:UnstoredRetention.</summary>
    public bool Store { get; set; }
    public Guid JobId { get; set; }
    public Guid? MediaFileId { get; set; }
    public int? ProcessingMs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}
