namespace AiPrompts.Core.Gateway;

/// <summary>The OpenAI-compatible gateway's settings (section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>
    /// When a call that began and never ended is taken as lost (its Api died during the call) and counted by the Worker's
    /// sweep at its estimate: longer than any call may take (<c>Vendors:Timeout</c>), so a call under way is never counted twice.
    /// </summary>
    public TimeSpan AbandonedAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the Worker looks for such calls (one statement).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a background response's streamed events stay in Redis after the last one (a stream resumed later is made
    /// again from the stored response: the same events, the text in one piece).
    /// </summary>
    public TimeSpan StreamKeptFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many attempts a background response's job has (a vendor's transient failure is tried again).</summary>
    public int BackgroundAttempts { get; set; } = 3;

    /// <summary>The header a caller names the purpose of a call with, when its body's <c>metadata.purpose</c> does not.</summary>
    public const string PurposeHeader = "X-AiPrompts-Purpose";
}
