using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace AiPrompts.Core.Caching;

/// <summary>
/// Redis through Aspire's StackExchange.Redis integration (one multiplexer, its health check, traces and
/// metrics), set up for a product in which Redis is never the only copy of anything.
/// </summary>
public static class RedisRegistration
{
    public const string KeyPrefixSetting = "Redis:KeyPrefix";
    public const string CaCertificateSetting = "Redis:CaCertificatePath";

    /// <summary>
    /// Registers <see cref="IConnectionMultiplexer"/>, an <see cref="IDatabase"/> whose keys carry this
    /// installation's prefix, and an <see cref="ISubscriber"/> whose channels carry the same prefix (so a
    /// Lua script that publishes to a prefixed key name reaches the subscribers). Publish through the
    /// subscriber: the prefixed database would put the prefix on a channel twice.
    /// </summary>
    public static IHostApplicationBuilder AddProductRedis(this IHostApplicationBuilder builder, string connectionName)
    {
        var prefix = builder.Configuration[KeyPrefixSetting] ?? "aiprompts:";
        var caPath = builder.Configuration[CaCertificateSetting];
        builder.AddRedisClient(connectionName, settings => settings.DisableTracing = !CoreServiceExtensions.ExportsTelemetry(builder.Configuration), options =>
        {
            options.ClientName = builder.Environment.ApplicationName.Replace(' ', '-');
            options.ChannelPrefix = RedisChannel.Literal(prefix);
            // Start and keep trying while Redis is away; a command sent meanwhile fails at once instead of
            // waiting in the backlog for up to 5 s, so callers fall back to Postgres without a pause.
            options.AbortOnConnectFail = false;
            options.BacklogPolicy = BacklogPolicy.FailFast;
            if (!string.IsNullOrEmpty(caPath))
            {
                options.TrustIssuer(caPath);
            }
        });
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase().WithKeyPrefix(prefix));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IConnectionMultiplexer>().GetSubscriber());
        return builder;
    }

    /// <summary>
    /// The integrations' readiness checks under the names this product reports (<c>postgres</c>, <c>redis</c>),
    /// tagged ready. Redis down is Degraded: without it the product is slower, not broken.
    /// </summary>
    public static IServiceCollection NameDependencyHealthChecks(this IServiceCollection services, string readyTag) =>
        services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations)
            {
                if (registration.Name.StartsWith("PostgreSql", StringComparison.Ordinal))
                {
                    registration.Name = "postgres";
                    registration.Tags.Add(readyTag);
                }
                else if (registration.Name.StartsWith("StackExchange.Redis", StringComparison.Ordinal))
                {
                    registration.Name = "redis";
                    registration.FailureStatus = HealthStatus.Degraded;
                    registration.Timeout = TimeSpan.FromSeconds(3);
                    registration.Tags.Add(readyTag);
                }
            }
        });

    /// <summary>
    /// Whether Redis failed the call: unreachable, refused, or too slow. StackExchange.Redis reports a time-out
    /// as <see cref="RedisTimeoutException"/>, which is a <see cref="TimeoutException"/>, not a <see cref="RedisException"/>.
    /// </summary>
    public static bool IsRedisFailure(this Exception exception) => exception is RedisException or RedisTimeoutException;
}
