using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>A second Api instance: its own process-level singletons (caches, Redis connections), the same database, Redis and settings.</summary>
public sealed class PeerApi(ApiFactory primary) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) => primary.UseSameSettings(builder);

    public HttpClient CreateClient(string bearer)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>Waits until this instance's Redis subscriptions (the cache invalidations) are confirmed.</summary>
    public async Task WaitForSubscriptionsAsync()
    {
        var bus = (AiPrompts.Core.Caching.CacheInvalidation)Services.GetService(typeof(AiPrompts.Core.Caching.CacheInvalidation))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await bus.WaitUntilLiveAsync(timeout.Token);
    }
}
