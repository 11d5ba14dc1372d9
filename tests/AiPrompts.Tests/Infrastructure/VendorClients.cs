using AiPrompts.Core.Vendors;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>The vendor clients as the hosts build them (the factory, the pooled HttpClient and its handler), without a host.</summary>
public static class VendorClients
{
    public static ServiceProvider Build(Action<VendorOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddHttpClient(VendorClientFactory.HttpClientName).AddHttpMessageHandler<VendorCallHandler>();
        services.AddTransient<VendorCallHandler>();
        services.Configure<VendorOptions>(o => configure?.Invoke(o));
        services.AddSingleton<VendorClientFactory>();
        return services.BuildServiceProvider();
    }
}
