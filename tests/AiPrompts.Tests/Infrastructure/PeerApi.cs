using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>A second Api instance: its own process-level singletons (caches, Redis connections), the same database and Redis.</summary>
public sealed class PeerApi(ApiFactory primary) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:promptsdb", primary.Database.Via(primary.PostgresProxy.Port));
        builder.UseSetting("ConnectionStrings:redis", primary.RedisViaProxy);
        builder.UseSetting("Redis:KeyPrefix", primary.RedisKeyPrefix);
        builder.UseSetting("Auth:Jwt:SigningKey", ApiFactory.SigningKey);
        builder.UseSetting("Bootstrap:SuperAdmin:Email", ApiFactory.AdminEmail);
        builder.UseSetting("Bootstrap:SuperAdmin:Password", ApiFactory.AdminPassword);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Keys:MasterKey", ApiFactory.MasterKey);
    }

    public HttpClient CreateClient(string bearer)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    public async Task WaitForTemplateSubscriptionAsync()
    {
        var redis = (AiPrompts.Core.Redis.RedisClient)Services.GetService(typeof(AiPrompts.Core.Redis.RedisClient))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await redis.WaitForSubscriptionsAsync(timeout.Token);
    }
}
