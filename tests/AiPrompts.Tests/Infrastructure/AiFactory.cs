using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The Api with every catalogue vendor pointed at one fake vendor (Ai:BaseUrls), logging everything at
/// Trace level into <see cref="Logs"/>, so tests can prove what never appears in a log.
/// </summary>
public class AiFactory : ApiFactory
{
    public FakeVendor Vendor { get; private set; } = null!;
    public ConcurrentQueue<string> Logs { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        Vendor = await FakeVendor.StartAsync();
        await base.InitializeAsync();
    }

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ai:BaseUrls:openai"] = Vendor.Url + "/v1",
        ["Ai:BaseUrls:openrouter"] = Vendor.Url + "/api/v1",
        ["Ai:BaseUrls:anthropic"] = Vendor.Url,
        ["Ai:BaseUrls:gemini"] = Vendor.Url + "/v1beta/openai",
        ["Ai:BaseUrls:huggingface"] = Vendor.Url + "/hf-inference",
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(new CollectingLoggerProvider(Logs)));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Vendor.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class CollectingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Collector(categoryName, sink);

    public void Dispose()
    {
    }

    private sealed class Collector(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
