namespace AiPrompts.Core.Redis;

/// <summary>Keys with optional expiry: the cache surface the product needs.</summary>
public interface IRedisCache
{
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);
    Task<string?> GetStringAsync(string key, CancellationToken cancellationToken);
    Task SetAsync(string key, RedisArg value, TimeSpan? expiry, CancellationToken cancellationToken);

    /// <summary>Sets the key only if it does not exist; true when it was set.</summary>
    Task<bool> SetIfAbsentAsync(string key, RedisArg value, TimeSpan? expiry, CancellationToken cancellationToken);

    Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="by"/> to the counter; with an expiry, the key's time to live is set when it is created.</summary>
    Task<long> IncrementAsync(string key, long by, TimeSpan? expiry, CancellationToken cancellationToken);
}

/// <summary>A message delivered to a subscriber.</summary>
public sealed record RedisMessage(string Channel, byte[] Payload)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Payload);
}

public interface IRedisPubSub
{
    /// <summary>Publishes; answers how many subscribers received it.</summary>
    Task<long> PublishAsync(string channel, RedisArg message, CancellationToken cancellationToken);

    /// <summary>
    /// Registers a handler for a channel. The subscription survives reconnects: after Redis comes back,
    /// the channel is subscribed again. Handlers run on the subscriber's read loop and must be quick.
    /// Dispose the result to unsubscribe.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(string channel, Func<RedisMessage, ValueTask> handler, CancellationToken cancellationToken);

    /// <summary>
    /// While the channel is subscribed and confirmed on the open subscriber connection: a number that
    /// changes whenever that connection is lost or replaced (messages may have been missed in between).
    /// Null otherwise. Caches that rely on invalidation messages trust an entry only while this is unchanged.
    /// </summary>
    long? LiveSubscription(string channel);
}

public interface IRedisScripts
{
    /// <summary>Runs a Lua script by its SHA1 (EVALSHA), loading it with EVAL when the server does not have it.</summary>
    Task<RedisReply> EvaluateAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken);
}

/// <summary>A Lua script with its SHA1 computed once.</summary>
public sealed class RedisScript(string source)
{
    public string Source { get; } = source;
#pragma warning disable CA5350 // Redis names scripts by their SHA1; this is an identifier, not a security use.
    public string Sha1 { get; } = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(source)));
#pragma warning restore CA5350
}
