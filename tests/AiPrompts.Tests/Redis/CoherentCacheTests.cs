using AiPrompts.Core.Caching;
using AiPrompts.Core.Redis;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiPrompts.Tests.Redis;

/// <summary>The rules that keep an in-process cache exact, against the test Redis.</summary>
public sealed class CoherentCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RedisClient Client(string? prefix = null) =>
        new(RedisOptions.Parse(TestEnvironment.Redis) with { KeyPrefix = prefix ?? $"coherent-{Guid.NewGuid():N}:" }, NullLogger<RedisClient>.Instance);

    [Fact]
    public async Task Nothing_is_cached_without_a_live_subscription_and_a_load_that_raced_an_eviction_is_not_kept()
    {
        await using var redis = Client();
        await using var bus = new CacheInvalidation(redis, redis, TimeProvider.System, NullLogger<CacheInvalidation>.Instance);
        var cache = new CoherentCache<string>(bus, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);

        // Not subscribed yet: a load may not be kept, since no change could reach it.
        cache.Store("a", "old", cache.BeginLoad());
        Assert.False(cache.TryGet("a", out _));

        await bus.StartAsync(Ct);
        await redis.WaitForSubscriptionsAsync(Ct);
        cache.Store("a", "v1", cache.BeginLoad());
        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal("v1", value);

        // A change arrives while a load is in flight: the loaded value may be the old one, so it is dropped.
        var token = cache.BeginLoad();
        await bus.PublishAsync("thing", "a", Ct);
        cache.Store("a", "loaded before the change", token);
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public async Task A_change_published_by_one_instance_is_acknowledged_by_every_instance_before_it_returns()
    {
        var prefix = $"coherent-{Guid.NewGuid():N}:";
        await using var one = Client(prefix);
        await using var two = Client(prefix);
        await using var busOne = new CacheInvalidation(one, one, TimeProvider.System, NullLogger<CacheInvalidation>.Instance);
        await using var busTwo = new CacheInvalidation(two, two, TimeProvider.System, NullLogger<CacheInvalidation>.Instance);
        var cacheOne = new CoherentCache<string>(busOne, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);
        var cacheTwo = new CoherentCache<string>(busTwo, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);
        await busOne.StartAsync(Ct);
        await busTwo.StartAsync(Ct);
        await one.WaitForSubscriptionsAsync(Ct);
        await two.WaitForSubscriptionsAsync(Ct);

        cacheTwo.Store("k", "old", cacheTwo.BeginLoad());
        cacheTwo.Store("other", "kept", cacheTwo.BeginLoad());
        Assert.True(await busOne.PublishAsync("thing", "k", Ct));
        Assert.False(cacheTwo.TryGet("k", out _));
        Assert.True(cacheTwo.TryGet("other", out _));
        Assert.False(cacheOne.TryGet("k", out _));
    }
}
