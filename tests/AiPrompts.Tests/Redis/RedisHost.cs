using AiPrompts.Core.Caching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AiPrompts.Tests.Redis;

/// <summary>
/// The product's Redis set-up (<see cref="RedisRegistration.AddProductRedis"/>) in a small host of its own,
/// with a <see cref="CacheInvalidation"/> bus over it: one "instance" as far as Redis can tell.
/// </summary>
internal sealed class RedisHost : IAsyncDisposable
{
    private readonly IHost _host;

    private RedisHost(IHost host)
    {
        _host = host;
        Bus = new CacheInvalidation(Multiplexer, Subscriber, Database, TimeProvider.System, NullLogger<CacheInvalidation>.Instance);
    }

    public IConnectionMultiplexer Multiplexer => _host.Services.GetRequiredService<IConnectionMultiplexer>();
    public IDatabase Database => _host.Services.GetRequiredService<IDatabase>();
    public ISubscriber Subscriber => _host.Services.GetRequiredService<ISubscriber>();
    public CacheInvalidation Bus { get; }

    public static RedisHost Create(string connectionString, string prefix, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing", ApplicationName = "redis-tests" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = connectionString,
            [RedisRegistration.KeyPrefixSetting] = prefix,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.AddProductRedis("redis");
        return new RedisHost(builder.Build());
    }

    public async ValueTask DisposeAsync()
    {
        await Bus.StopAsync(CancellationToken.None);
        await Bus.DisposeAsync();
        _host.Dispose();
    }
}
