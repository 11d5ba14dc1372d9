using AiPrompts.Core.Providers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

public sealed class VendorOptions
{
    public const string Section = "Vendors";

    /// <summary>The longest a whole vendor answer may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest a stream may go without an update.</summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>OpenRouter's optional app attribution headers (HTTP-Referer and X-Title).</summary>
    public OpenRouterOptions OpenRouter { get; set; } = new();

    public sealed class OpenRouterOptions
    {
        public string? Referer { get; set; }
        public string? Title { get; set; }
    }
}

/// <summary>
/// Builds the clients for one (provider, model, credential). Every HTTP adapter uses the pooled "vendors"
/// HttpClient, so connections are reused across calls and credentials. Chat clients come wrapped in the
/// middleware: telemetry (outermost), timeouts, metering.
/// </summary>
public sealed class VendorClientFactory(IHttpClientFactory httpClients, IOptions<VendorOptions> options, TimeProvider time)
{
    public const string HttpClientName = "vendors";

    public IChatClient CreateChatClient(VendorTarget target)
    {
        IChatClient adapter = target.ProviderKind switch
        {
            ProviderKinds.Local => new LocalChatClient(target.ModelId),
            ProviderKinds.OpenAICompatible => new OpenAICompatibleChatClient(target, Http(), HeadersFor(target)),
            ProviderKinds.Anthropic => new AnthropicChatClient(target, Http()),
            _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no chat adapter."),
        };
        var settings = options.Value;
        IChatClient client = new MeteringChatClient(adapter, target.Prices, time);
        client = new TimeoutChatClient(client, target, settings.Timeout, settings.StreamIdleTimeout);
        return new TelemetryChatClient(client, target, time);
    }

    public IImageGenerator CreateImageGenerator(VendorTarget target) => target.ProviderKind switch
    {
        ProviderKinds.Local => new LocalImageGenerator(target.ModelId),
        ProviderKinds.OpenAICompatible => new OpenAIImageGenerator(target, Http()),
        ProviderKinds.HuggingFace => new HuggingFaceImageGenerator(target, Http()),
        _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no image adapter."),
    };

    public ITextToSpeechClient CreateSpeechClient(VendorTarget target) => target.ProviderKind switch
    {
        ProviderKinds.Local => new LocalSpeechClient(target.ModelId),
        ProviderKinds.OpenAICompatible => new OpenAISpeechClient(target, Http()),
        _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no speech adapter."),
    };

    private HttpClient Http() => httpClients.CreateClient(HttpClientName);

    private List<KeyValuePair<string, string>> HeadersFor(VendorTarget target)
    {
        var headers = new List<KeyValuePair<string, string>>();
        var isOpenRouter = target.ProviderId == "openrouter"
            || (Uri.TryCreate(target.BaseUrl, UriKind.Absolute, out var uri) && uri.Host.EndsWith("openrouter.ai", StringComparison.OrdinalIgnoreCase));
        if (isOpenRouter)
        {
            if (options.Value.OpenRouter.Referer is { Length: > 0 } referer)
            {
                headers.Add(new("HTTP-Referer", referer));
            }
            if (options.Value.OpenRouter.Title is { Length: > 0 } title)
            {
                headers.Add(new("X-Title", title));
            }
        }
        return headers;
    }
}
