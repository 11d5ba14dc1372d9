namespace AiPrompts.Core.PromptRequests;

/// <summary>Prompt requests' limits and retention ("PromptRequests" section).</summary>
public sealed class PromptRequestOptions
{
    public const string Section = "PromptRequests";

    /// <summary>How long the prompt and answer of a request with <c>store: false</c> stay readable (from Redis only).</summary>
    public TimeSpan ResultTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest <c>Prefer: wait=N</c> a client may ask for.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(60);

    public int MaxPromptLength { get; set; } = 100_000;

    public int MaxMetadataBytes { get; set; } = 8_192;

    /// <summary>Streamed text is published at most this often (and at the end).</summary>
    public TimeSpan DeltaInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The attempts a prompt request gets before it fails with its last error.</summary>
    public int MaxAttempts { get; set; } = 5;
}
