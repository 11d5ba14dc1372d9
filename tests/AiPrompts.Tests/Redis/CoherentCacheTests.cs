using AiPrompts.Core.Caching;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace AiPrompts.Tests.Redis;

/// <summary>The rules that keep an in-process cache exact, against the test Redis.</summary>
public sealed class CoherentCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nothing_is_cached_without_a_live_subscription_and_a_load_that_raced_an_eviction_is_not_kept()
    {
        await using var redis = RedisHost.Create(TestEnvironment.Redis, $"coherent-{Guid.NewGuid():N}:");
        var cache = new CoherentCache<string>(redis.Bus, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);

        // Not subscribed yet: a load may not be kept, since no change could reach it.
        cache.Store("a", "old", cache.BeginLoad());
        Assert.False(cache.TryGet("a", out _));

        await redis.Bus.StartAsync(Ct);
        await redis.Bus.WaitUntilLiveAsync(Ct);
        cache.Store("a", "v1", cache.BeginLoad());
        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal("v1", value);

        // A change arrives while a load is in flight: the loaded value may be the old one, so it is dropped.
        var token = cache.BeginLoad();
        await redis.Bus.PublishAsync("thing", "a", Ct);
        cache.Store("a", "loaded before the change", token);
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public async Task A_change_published_by_one_instance_is_acknowledged_by_every_instance_before_it_returns()
    {
        var prefix = $"coherent-{Guid.NewGuid():N}:";
        await using var one = RedisHost.Create(TestEnvironment.Redis, prefix);
        await using var two = RedisHost.Create(TestEnvironment.Redis, prefix);
        var cacheOne = new CoherentCache<string>(one.Bus, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);
        var cacheTwo = new CoherentCache<string>(two.Bus, "thing", TimeSpan.FromMinutes(1), 100, TimeProvider.System);
        await one.Bus.StartAsync(Ct);
        await two.Bus.StartAsync(Ct);
        await one.Bus.WaitUntilLiveAsync(Ct);
        await two.Bus.WaitUntilLiveAsync(Ct);

        cacheTwo.Store("k", "old", cacheTwo.BeginLoad());
        cacheTwo.Store("other", "kept", cacheTwo.BeginLoad());
        Assert.True(await one.Bus.PublishAsync("thing", "k", Ct));
        Assert.False(cacheTwo.TryGet("k", out _));
        Assert.True(cacheTwo.TryGet("other", out _));
        Assert.False(cacheOne.TryGet("k", out _));
    }

    [Fact]
    public async Task An_entry_is_served_for_at_most_its_maximum_age_even_without_a_change()
    {
        await using var redis = RedisHost.Create(TestEnvironment.Redis, $"coherent-{Guid.NewGuid():N}:");
        var time = new FakeTimeProvider();
        var cache = new CoherentCache<string>(redis.Bus, "thing", TimeSpan.FromMinutes(1), 100, time);
        await redis.Bus.StartAsync(Ct);
        await redis.Bus.WaitUntilLiveAsync(Ct);
        cache.Store("a", "v1", cache.BeginLoad());

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGet("a", out _));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("a", out _));
    }
}
