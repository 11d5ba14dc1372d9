using AiPrompts.Core.Redis;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiPrompts.Tests.Redis;

/// <summary>The Redis client against real redis-server processes.</summary>
public sealed class RedisClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RedisClient Connect(string connectionString, string name = "redis-client-tests") =>
        new(RedisOptions.Parse(connectionString) with { ClientName = name }, NullLogger<RedisClient>.Instance);

    private static string Key() => "test:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Get_set_with_expiry_delete_and_increment_behave_as_Redis_defines_them()
    {
        await using var redis = Connect(TestEnvironment.Redis);
        var key = Key();

        Assert.Null(await redis.GetStringAsync(key, Ct));
        await redis.SetAsync(key, "hello ✓", TimeSpan.FromSeconds(30), Ct);
        Assert.Equal("hello ✓", await redis.GetStringAsync(key, Ct));
        var ttl = (await redis.ExecuteAsync("PTTL", [key], Ct)).AsInt64();
        Assert.InRange(ttl, 1, 30_000);

        Assert.False(await redis.SetIfAbsentAsync(key, "other", null, Ct));
        Assert.Equal(1, await redis.DeleteAsync([key, Key()], Ct));
        Assert.Null(await redis.GetAsync(key, Ct));

        var counter = Key();
        Assert.Equal(5, await redis.IncrementAsync(counter, 5, TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(7, await redis.IncrementAsync(counter, 2, TimeSpan.FromSeconds(10), Ct));
        Assert.InRange((await redis.ExecuteAsync("PTTL", [counter], Ct)).AsInt64(), 1, 10_000);
    }

    [Fact]
    public async Task The_key_prefix_separates_installations_sharing_one_Redis()
    {
        await using var first = new RedisClient(RedisOptions.Parse(TestEnvironment.Redis) with { KeyPrefix = "one:" }, NullLogger<RedisClient>.Instance);
        await using var second = new RedisClient(RedisOptions.Parse(TestEnvironment.Redis) with { KeyPrefix = "two:" }, NullLogger<RedisClient>.Instance);
        var key = Key();
        var channel = Key();
        var heard = new TaskCompletionSource<RedisMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await first.SubscribeAsync(channel, m => { heard.TrySetResult(m); return ValueTask.CompletedTask; }, Ct);

        await first.SetAsync(key, "mine", TimeSpan.FromMinutes(1), Ct);
        Assert.Equal(0, await second.PublishAsync(channel, "not for you", Ct));
        Assert.Equal(1, await first.PublishAsync(channel, "for you", Ct));

        Assert.Null(await second.GetStringAsync(key, Ct));
        Assert.Equal("mine", await first.GetStringAsync(key, Ct));
        Assert.Equal("mine", (await first.ExecuteAsync("GET", ["one:" + key], Ct)).AsString());
        var message = await heard.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal((channel, "for you"), (message.Channel, message.Text));
    }

    [Fact]
    public async Task Short_expiries_really_expire()
    {
        await using var redis = Connect(TestEnvironment.Redis);
        var key = Key();
        await redis.SetAsync(key, "soon gone", TimeSpan.FromMilliseconds(50), Ct);
        await Task.Delay(200, Ct);
        Assert.Null(await redis.GetStringAsync(key, Ct));
    }

    [Fact]
    public async Task Many_concurrent_commands_are_pipelined_on_one_connection_and_each_gets_its_own_reply()
    {
        var name = "pipeline-" + Guid.NewGuid().ToString("N")[..8];
        await using var redis = Connect(TestEnvironment.Redis, name);
        var prefix = Key();

        // 5,000 SETs then 5,000 GETs, all in flight together: every GET must see its own value.
        await Task.WhenAll(Enumerable.Range(0, 5000).Select(i => redis.SetAsync($"{prefix}:{i}", $"value-{i}", TimeSpan.FromMinutes(1), Ct)));
        var values = await Task.WhenAll(Enumerable.Range(0, 5000).Select(i => redis.GetStringAsync($"{prefix}:{i}", Ct)));
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal($"value-{i}", values[i]);
        }

        var counter = Key();
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => redis.IncrementAsync(counter, 1, null, Ct)));
        Assert.Equal("2000", await redis.GetStringAsync(counter, Ct));

        var clients = (await redis.ExecuteAsync("CLIENT", ["LIST"], Ct)).AsString()!;
        Assert.Single(clients.Split('\n'), line => line.Contains($" name={name} ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_client_speaks_RESP3_with_a_server_that_does()
    {
        // Under RESP2 a hash comes back as a flat array; only RESP3 has a map type.
        await using var redis = Connect(TestEnvironment.Redis);
        var hash = Key();
        await redis.ExecuteAsync("HSET", [hash, "a", "1", "b", "2"], Ct);
        var map = await redis.ExecuteAsync("HGETALL", [hash], Ct);
        Assert.Equal(RedisReplyKind.Map, map.Kind);
        Assert.Equal(4, map.Items.Count);
    }

    [Fact]
    public async Task The_database_number_in_the_connection_string_is_selected()
    {
        await using var db3 = Connect(TestEnvironment.Redis + ",defaultDatabase=3");
        await using var db0 = Connect(TestEnvironment.Redis);
        var key = Key();

        await db3.SetAsync(key, "in three", TimeSpan.FromMinutes(1), Ct);

        Assert.Equal("in three", await db3.GetStringAsync(key, Ct));
        Assert.Null(await db0.GetStringAsync(key, Ct));
    }

    [Fact]
    public async Task A_wrong_password_is_reported_without_the_password()
    {
        var options = RedisOptions.Parse(TestEnvironment.Redis);
        const string wrong = "definitely-not-the-password";
        await using var redis = Connect($"{options.Host}:{options.Port},password={wrong}");

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(Ct));

        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_reply_throws_a_server_exception_and_the_connection_keeps_working()
    {
        await using var redis = Connect(TestEnvironment.Redis);
        var key = Key();
        await redis.SetAsync(key, "text", null, Ct);

        await Assert.ThrowsAsync<RedisServerException>(() => redis.IncrementAsync(key, 1, null, Ct));

        Assert.Equal("text", await redis.GetStringAsync(key, Ct));
    }

    [Fact]
    public async Task Scripts_run_by_sha_and_are_loaded_when_the_server_does_not_have_them()
    {
        await using var redis = Connect(TestEnvironment.Redis);
        var script = new RedisScript("return {KEYS[1], ARGV[1] + 1}");
        await redis.ExecuteAsync("SCRIPT", ["FLUSH"], Ct);
        Assert.Equal(0, (await redis.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Ct)).Items[0].AsInt64());

        var first = await redis.EvaluateAsync(script, ["k"], [41], Ct);   // NOSCRIPT, then EVAL
        var second = await redis.EvaluateAsync(script, ["k"], [1], Ct);  // EVALSHA hits

        Assert.Equal("k", first.Items[0].AsString());
        Assert.Equal(42, first.Items[1].AsInt64());
        Assert.Equal(2, second.Items[1].AsInt64());
        Assert.Equal(1, (await redis.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Ct)).Items[0].AsInt64());
    }

    [Fact]
    public async Task Published_messages_reach_subscribers_until_they_unsubscribe()
    {
        await using var subscriber = Connect(TestEnvironment.Redis);
        await using var publisher = Connect(TestEnvironment.Redis);
        var channel = Key();
        var received = new List<string>();
        var got = new SemaphoreSlim(0);

        var subscription = await subscriber.SubscribeAsync(channel, m =>
        {
            lock (received)
            {
                received.Add(m.Text);
            }
            got.Release();
            return ValueTask.CompletedTask;
        }, Ct);

        Assert.Equal(1, await publisher.PublishAsync(channel, "one", Ct));
        Assert.Equal(1, await publisher.PublishAsync(channel, "two", Ct));
        Assert.True(await got.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.True(await got.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(["one", "two"], received);

        await subscription.DisposeAsync();
        for (var i = 0; i < 50 && (await publisher.ExecuteAsync("PUBSUB", ["NUMSUB", channel], Ct)).Items[1].AsInt64() > 0; i++)
        {
            await Task.Delay(20, Ct);
        }
        Assert.Equal(0, await publisher.PublishAsync(channel, "three", Ct));
    }

    [Fact]
    public async Task After_the_server_is_killed_and_restarted_commands_and_subscriptions_work_again()
    {
        await using var server = new RedisServerProcess(password: "restart-secret");
        await server.StartAsync();
        await using var redis = Connect(server.ConnectionString());
        var channel = Key();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await redis.SubscribeAsync(channel, m => { received.TrySetResult(m.Text); return ValueTask.CompletedTask; }, Ct);
        await redis.SetAsync("before", "1", null, Ct);
        Assert.True(redis.IsConnected);

        await server.KillAsync();

        // While it is down, a command fails quickly with a connection error rather than hanging.
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetStringAsync("before", Ct));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));

        await server.StartAsync();

        // The command connection comes back on demand...
        string? value = null;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                await redis.SetAsync("after", "2", null, Ct);
                value = await redis.GetStringAsync("after", Ct);
                break;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(100, Ct);
            }
        }
        Assert.Equal("2", value);

        // ...and the subscriber reconnects by itself and subscribes the channel again.
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(TimeSpan.FromSeconds(10));
        await redis.WaitForSubscriptionsAsync(wait.Token);
        Assert.Equal(1, await redis.PublishAsync(channel, "back again", Ct));
        Assert.Equal("back again", await received.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task In_flight_commands_fail_with_a_connection_error_when_the_server_dies()
    {
        await using var server = new RedisServerProcess();
        await server.StartAsync();
        await using var redis = Connect(server.ConnectionString());
        await redis.PingAsync(Ct);

        // BLPOP holds its reply until the server dies under it.
        var blocked = redis.ExecuteAsync("BLPOP", [Key(), 0], Ct);
        await Task.Delay(100, Ct);
        await server.KillAsync();

        await Assert.ThrowsAsync<RedisConnectionException>(() => blocked);
    }
}
