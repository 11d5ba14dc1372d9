using AiPrompts.Core.Providers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

    /// <summary>
    /// Whether GenAI spans carry the messages and answers (the conventions' opt-in content attributes). Off by
    /// default: prompts are user data, and telemetry is kept and shown elsewhere.
    /// </summary>
    public bool RecordMessageContent { get; set; }

    /// <summary>
    /// How long each call of the built-in local models takes (zero by default): set it to rehearse waits,
    /// timeouts and a Worker lost mid-call with no vendor configured.
    /// </summary>
    public TimeSpan LocalLatency { get; set; } = TimeSpan.Zero;

    /// <summary>OpenRouter's optional app attribution headers (HTTP-Referer and X-Title).</summary>
    public OpenRouterOptions OpenRouter { get; set; } = new();

    public sealed class OpenRouterOptions
    {
        public string? Referer { get; set; }
        public string? Title { get; set; }
    }
}

/// <summary>
/// Builds the clients for one (provider, model, credential), each a Microsoft.Extensions.AI pipeline over the
/// vendor's adapter: OpenTelemetry (the library's GenAI spans and metrics; message content only when
/// <see cref="VendorOptions.RecordMessageContent"/> is on), logging, then our timeout, metering and error
/// mapping. Every HTTP adapter uses the pooled "vendors" HttpClient, so connections are reused across calls
/// and credentials, and every connection passes the SSRF check.
/// </summary>
public sealed class VendorClientFactory(IHttpClientFactory httpClients, IOptions<VendorOptions> options, TimeProvider time, ILoggerFactory? loggerFactory = null)
{
    public const string HttpClientName = "vendors";

    private readonly ILoggerFactory _logging = loggerFactory ?? NullLoggerFactory.Instance;

    /// <summary>The library's logging layers write messages and answers at Trace: that level stays off unless content may be recorded.</summary>
    private ILoggerFactory CallLogging => options.Value.RecordMessageContent ? _logging : _contentFree ??= new ContentFreeLogging(_logging);

    private ContentFreeLogging? _contentFree;

    private long _open;

    /// <summary>
    /// The chat clients and image generators this factory made that have not been disposed yet: each holds its pipeline
    /// (telemetry, logging), so one left after its call has ended is a leak. Every caller disposes what it asks for.
    /// </summary>
    public long OpenClients => Interlocked.Read(ref _open);

    public IChatClient CreateChatClient(VendorTarget target)
    {
        IChatClient adapter = target.ProviderKind switch
        {
            ProviderKinds.Local => options.Value.LocalLatency > TimeSpan.Zero
                ? new DelayedChatClient(new LocalChatClient(target.ModelId), options.Value.LocalLatency, time)
                : new LocalChatClient(target.ModelId),
            ProviderKinds.OpenAICompatible => OpenAIVendor.Chat(target, Http(), HeadersFor(target)),
            ProviderKinds.Anthropic => AnthropicVendor.Chat(target, Http()),
            _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no chat adapter."),
        };
        var settings = options.Value;
        Interlocked.Increment(ref _open);
        return new ChatClientBuilder(adapter)
            .Use(inner => new CountedChatClient(inner, Released))
            .UseOpenTelemetry(_logging, VendorTelemetry.SourceName, telemetry => telemetry.EnableSensitiveData = settings.RecordMessageContent)
            .UseLogging(CallLogging)
            .Use(inner => new TimeoutChatClient(inner, target, settings.Timeout, settings.StreamIdleTimeout))
            .Use(inner => new MeteringChatClient(inner, target.Prices, time))
            .Use(inner => new VendorChatClient(inner, target))
            .Build();
    }

    public IImageGenerator CreateImageGenerator(VendorTarget target)
    {
        IImageGenerator adapter = target.ProviderKind switch
        {
            ProviderKinds.Local => options.Value.LocalLatency > TimeSpan.Zero
                ? new DelayedImageGenerator(new LocalImageGenerator(target.ModelId), options.Value.LocalLatency, time)
                : new LocalImageGenerator(target.ModelId),
            ProviderKinds.OpenAICompatible => OpenAIVendor.Images(target, Http()),
            ProviderKinds.HuggingFace => new HuggingFaceImageGenerator(target, Http()),
            _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no image adapter."),
        };
        var settings = options.Value;
        Interlocked.Increment(ref _open);
        return new ImageGeneratorBuilder(adapter)
            .Use(inner => new CountedImageGenerator(inner, Released))
            .UseOpenTelemetry(_logging, VendorTelemetry.SourceName, telemetry => telemetry.EnableSensitiveData = settings.RecordMessageContent)
            .UseLogging(CallLogging)
            .Use(inner => new VendorImageGenerator(inner, target, settings.Timeout, time))
            .Build();
    }

    public IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator(VendorTarget target)
    {
        IEmbeddingGenerator<string, Embedding<float>> adapter = target.ProviderKind switch
        {
            ProviderKinds.Local => new LocalEmbeddingGenerator(target.ModelId),
            ProviderKinds.OpenAICompatible => OpenAIVendor.Embeddings(target, Http()),
            _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no embedding adapter."),
        };
        var settings = options.Value;
        return new EmbeddingGeneratorBuilder<string, Embedding<float>>(adapter)
            .UseOpenTelemetry(_logging, VendorTelemetry.SourceName, telemetry => telemetry.EnableSensitiveData = settings.RecordMessageContent)
            .UseLogging(CallLogging)
            .Use(inner => new VendorEmbeddingGenerator(inner, target, settings.Timeout, time))
            .Build();
    }

    public ITextToSpeechClient CreateSpeechClient(VendorTarget target)
    {
        ITextToSpeechClient adapter = target.ProviderKind switch
        {
            ProviderKinds.Local => new LocalSpeechClient(target.ModelId),
            ProviderKinds.OpenAICompatible => OpenAIVendor.Speech(target, Http()),
            _ => throw new NotSupportedException($"Provider kind '{target.ProviderKind}' has no speech adapter."),
        };
        var settings = options.Value;
        return new TextToSpeechClientBuilder(adapter)
            .UseOpenTelemetry(_logging, VendorTelemetry.SourceName, telemetry => telemetry.EnableSensitiveData = settings.RecordMessageContent)
            .UseLogging(CallLogging)
            .Use(inner => new VendorSpeechClient(inner, target, settings.Timeout, time))
            .Build();
    }

    private HttpClient Http() => httpClients.CreateClient(HttpClientName);

    private void Released() => Interlocked.Decrement(ref _open);

    /// <summary>The pipeline's outermost layer: tells the factory once when the client is disposed.</summary>
    private sealed class CountedChatClient(IChatClient inner, Action released) : DelegatingChatClient(inner)
    {
        private int _disposed;

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                released();
            }
            base.Dispose(disposing);
        }
    }

    /// <inheritdoc cref="CountedChatClient"/>
    private sealed class CountedImageGenerator(IImageGenerator inner, Action released) : DelegatingImageGenerator(inner)
    {
        private int _disposed;

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                released();
            }
            base.Dispose(disposing);
        }
    }

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

/// <summary>Loggers that never report Trace as enabled, the level at which Microsoft.Extensions.AI logs content.</summary>
internal sealed class ContentFreeLogging(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory belongs to the host.
    }

    private sealed class Logger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel > LogLevel.Trace && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
