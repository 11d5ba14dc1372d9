using System.Text.Json.Serialization;

namespace AiPrompts.Api.Studio;

public sealed class StudioOptions
{
    public const string Section = "Studio";

    /// <summary>How long a studio call waits for its job before it answers 202 with where to poll.</summary>
    public TimeSpan Wait { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxAttempts { get; set; } = 3;

    public int MaxPromptLength { get; set; } = 4000;
}

/// <summary><c>POST /v1/image/generate</c>, as the Vietnamese document shows it (plus the caller's choices).</summary>
public sealed record ImageGenerate(
    [property: JsonPropertyName("refined_prompt")] string? RefinedPrompt,
    [property: JsonPropertyName("size")] string? Size = null,
    [property: JsonPropertyName("provider")] string? Provider = null,
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("store")] bool? Store = null);

public sealed record ImageMetadata(
    [property: JsonPropertyName("processing_time")] double ProcessingTime,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("size")] string Size);

/// <summary>The document's answer <c>{request_id, image_base64, metadata: {processing_time, model, size}}</c>, with the stored image's URL.</summary>
public sealed record ImageGenerated(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("image_base64")] string ImageBase64,
    [property: JsonPropertyName("image_url")] string ImageUrl,
    [property: JsonPropertyName("metadata")] ImageMetadata Metadata);

/// <summary><c>POST /v1/prompt/refine</c>, as the Vietnamese document shows it (plus the caller's choices).</summary>
public sealed record PromptRefine(
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("style")] string? Style = null,
    [property: JsonPropertyName("lang")] string? Lang = null,
    [property: JsonPropertyName("topic")] string? Topic = null,
    [property: JsonPropertyName("image_url")] string? ImageUrl = null,
    [property: JsonPropertyName("provider")] string? Provider = null,
    [property: JsonPropertyName("model")] string? Model = null);

public sealed record RefineMetadata(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("processing_time")] double ProcessingTime);

/// <summary>The document's answer <c>{refined_prompt, intent, keywords, metadata: {model, processing_time}}</c>.</summary>
public sealed record PromptRefined(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("refined_prompt")] string RefinedPrompt,
    [property: JsonPropertyName("intent")] string Intent,
    [property: JsonPropertyName("keywords")] IReadOnlyList<string> Keywords,
    [property: JsonPropertyName("metadata")] RefineMetadata Metadata);

/// <summary>Still working: where to look again.</summary>
public sealed record StudioPending(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("poll_url")] string PollUrl);
