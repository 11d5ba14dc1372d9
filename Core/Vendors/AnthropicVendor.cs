using Anthropic;
using Anthropic.Core;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// Claude through the Anthropic SDK's own <c>AsIChatClient</c>, over our pooled HttpClient, with the SDK's
/// retries off (the job engine owns them) and the key and base URL given explicitly, so that the SDK never
/// reads <c>ANTHROPIC_*</c> environment variables.
/// </summary>
internal static class AnthropicVendor
{
    /// <summary>Anthropic requires a limit on every answer; this is ours when the caller sets none.</summary>
    private const int DefaultMaxOutputTokens = 1024;

    public static IChatClient Chat(VendorTarget target, HttpClient http) =>
        new AnthropicClient(new ClientOptions
        {
            ApiKey = target.Credential?.Secret ?? "no-key",
            BaseUrl = (target.BaseUrl ?? "https://api.anthropic.com").TrimEnd('/'),
            HttpClient = http,
            MaxRetries = 0,
            Timeout = Timeout.InfiniteTimeSpan,
        }).AsIChatClient(target.ModelId, DefaultMaxOutputTokens);
}
