using System.Collections.Concurrent;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>The vendor clients as the hosts build them (the factory, the pooled HttpClient and its handler), without a host.</summary>
public static class VendorClients
{
    public static ServiceProvider Build(Action<VendorOptions>? configure = null, ConcurrentQueue<string>? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new CollectingLoggerProvider(logs)));
        }
        services.AddSingleton(TimeProvider.System);
        services.AddHttpClient(VendorClientFactory.HttpClientName).AddHttpMessageHandler<VendorCallHandler>();
        services.AddTransient<VendorCallHandler>();
        services.Configure<VendorOptions>(o => configure?.Invoke(o));
        services.AddSingleton<VendorClientFactory>();
        return services.BuildServiceProvider();
    }
}
