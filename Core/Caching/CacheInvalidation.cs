using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiPrompts.Core.Caching;

/// <summary>
/// Keeps in-process caches of every Api instance coherent over one Redis channel.
/// <list type="bullet">
/// <item><see cref="PublishAsync"/> runs after a change committed: it drops the entry here, publishes, and
/// waits (bounded) until every subscribed instance confirmed it dropped its copy. PUBLISH answers how many
/// instances received the message; each one counts itself on an acknowledgement key. So once the change
/// has answered its caller, no instance serves the old value.</item>
/// <item>An instance trusts its entries only while its subscription is live and the same one as when the
/// entry was stored (<see cref="Live"/>): each time a Redis connection fails or comes back, messages may have
/// been missed, so the generation changes and everything is read again; it counts as live again only once
/// this instance's own probe came back on the channel. Redis down means reads go to Postgres, never a stale answer.</item>
/// </list>
/// </summary>
public sealed partial class CacheInvalidation(IConnectionMultiplexer redis, ISubscriber subscriber, IDatabase database, TimeProvider time, ILogger<CacheInvalidation> logger)
    : IHostedService, IAsyncDisposable
{
    public const string ChannelName = "cache:invalidate";

    private static readonly RedisChannel Channel = RedisChannel.Literal(ChannelName);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, Action<string>> _scopes = new(StringComparer.Ordinal);
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _connectionChanged = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private long _generation;
    private long _confirmed = -1;
    private Task? _prober;
    private int _disposed;

    private sealed record Message(string Scope, string Key, string Ack);

    /// <summary>The current live subscription's generation, or null while entries must not be trusted.</summary>
    public long? Live
    {
        get
        {
            var generation = Interlocked.Read(ref _generation);
            return Interlocked.Read(ref _confirmed) == generation ? generation : null;
        }
    }

    /// <summary>The instance-wide acknowledgement wait of <see cref="PublishAsync"/>.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public void Register(string scope, Action<string> evict)
    {
        if (!_scopes.TryAdd(scope, evict))
        {
            throw new InvalidOperationException($"The cache scope '{scope}' is registered twice.");
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed += OnConnectionChanged;
        redis.ConnectionRestored += OnConnectionChanged;
        try
        {
            // Subscribed once: StackExchange.Redis keeps the subscription and renews it after every reconnect,
            // including when Redis is down now.
            await subscriber.SubscribeAsync(Channel, OnMessage);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogNotSubscribed(logger, ex.Message);
        }
        _prober = ProbeAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            // Disposed already (its provider was torn down before the host stopped): the prober ended with it.
            return;
        }
        await _stopping.CancelAsync();
        if (_prober is not null)
        {
            await _prober;
        }
        try
        {
            await subscriber.UnsubscribeAsync(Channel, OnMessage);
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is ObjectDisposedException)
        {
            // Redis is gone, or the host already disposed the connection while shutting down: nothing to undo.
        }
    }

    /// <summary>Idempotent: the host may dispose it both as a singleton and as a hosted service.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        redis.ConnectionFailed -= OnConnectionChanged;
        redis.ConnectionRestored -= OnConnectionChanged;
        await _stopping.CancelAsync();
        _stopping.Dispose();
        _connectionChanged.Dispose();
    }

    /// <summary>Waits until this instance's subscription is live (its probe came back).</summary>
    public async Task WaitUntilLiveAsync(CancellationToken cancellationToken)
    {
        while (Live is null)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), time, cancellationToken);
        }
    }

    /// <summary>
    /// Drops <paramref name="key"/> of <paramref name="scope"/> everywhere (pass CancellationToken.None after
    /// a commit: a caller that went away must not stop the others from hearing of it). True when every instance
    /// confirmed in time; false (logged) when Redis failed or an instance did not answer: its entries then
    /// expire with their maximum age.
    /// </summary>
    public async Task<bool> PublishAsync(string scope, string key, CancellationToken cancellationToken)
    {
        Evict(scope, key);
        try
        {
            var nonce = Guid.NewGuid().ToString("N");
            var receivers = await subscriber.PublishAsync(Channel, JsonSerializer.Serialize(new Message(scope, key, nonce), Json)).WaitAsync(cancellationToken);
            var started = time.GetTimestamp();
            while (true)
            {
                var acknowledged = (long?)await database.StringGetAsync(AckKey(nonce)).WaitAsync(cancellationToken) ?? 0;
                if (acknowledged >= receivers)
                {
                    return true;
                }
                if (time.GetElapsedTime(started) > AckTimeout)
                {
                    LogUnconfirmed(logger, scope, acknowledged, receivers);
                    return false;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancellationToken);
            }
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogNotPublished(logger, scope, ex.Message);
            return false;
        }
    }

    private static string AckKey(string nonce) => $"cache:ack:{nonce}";

    private static string ProbeScope(string instance, long generation) => $"probe:{instance}:{generation}";

    private void Evict(string scope, string key)
    {
        if (_scopes.TryGetValue(scope, out var evict))
        {
            evict(key);
        }
    }

    /// <summary>Any connection lost or restored: messages may have been missed, so nothing cached so far is trusted.</summary>
    private void OnConnectionChanged(object? sender, ConnectionFailedEventArgs e)
    {
        Interlocked.Increment(ref _generation);
        _connectionChanged.Release();
    }

    /// <summary>
    /// While not live, publishes this instance's probe for the current generation until it comes back:
    /// then the subscription is known to be in place on the connection that carries invalidations.
    /// </summary>
    private async Task ProbeAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (Live is null && redis.IsConnected)
                {
                    try
                    {
                        var probe = new Message(ProbeScope(_instance, Interlocked.Read(ref _generation)), "", "");
                        await subscriber.PublishAsync(Channel, JsonSerializer.Serialize(probe, Json)).WaitAsync(stopping);
                    }
                    catch (Exception ex) when (ex.IsRedisFailure())
                    {
                    }
                }
                // Asleep while live: only a connection change (or the retry pause while not live) wakes it.
                await _connectionChanged.WaitAsync(Live is null ? TimeSpan.FromMilliseconds(100) : Timeout.InfiniteTimeSpan, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue payload)
    {
        Message? change;
        try
        {
            change = JsonSerializer.Deserialize<Message>((string)payload!, Json);
        }
        catch (JsonException)
        {
            return;
        }
        if (change is null)
        {
            return;
        }
        if (change.Scope.StartsWith("probe:", StringComparison.Ordinal))
        {
            var generation = Interlocked.Read(ref _generation);
            if (change.Scope == ProbeScope(_instance, generation))
            {
                Interlocked.Exchange(ref _confirmed, generation);
            }
            return;
        }
        Evict(change.Scope, change.Key);
        // Acknowledge off the subscriber's delivery, which must not wait on another command.
        _ = AcknowledgeAsync(change.Ack);
    }

    private async Task AcknowledgeAsync(string nonce)
    {
        try
        {
            var key = AckKey(nonce);
            var increment = database.StringIncrementAsync(key);
            var expire = database.KeyExpireAsync(key, TimeSpan.FromMinutes(1));
            await Task.WhenAll(increment, expire).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
        {
            LogAckFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "A change of {Scope} was confirmed by {Acknowledged} of {Receivers} instances in time; the others drop their copy when it expires")]
    private static partial void LogUnconfirmed(ILogger logger, string scope, long acknowledged, long receivers);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "A change of {Scope} could not be published through Redis: {Reason}")]
    private static partial void LogNotPublished(ILogger logger, string scope, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "A cache change could not be acknowledged: {Reason}")]
    private static partial void LogAckFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Cache invalidations are not subscribed yet ({Reason}); they will be once Redis is reachable, and caches stay off until then")]
    private static partial void LogNotSubscribed(ILogger logger, string reason);
}

/// <summary>
/// An in-process cache kept coherent by <see cref="CacheInvalidation"/>: an entry is served only while
/// the subscription it was stored under is still live, for at most <c>maxAge</c>, and an entry loaded
/// while an invalidation arrived is not stored.
/// </summary>
public sealed class CoherentCache<TValue>
{
    private readonly CacheInvalidation _bus;
    private readonly TimeSpan _maxAge;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _epoch;

    private sealed record Entry(TValue Value, long Subscription, long StoredAt);

    /// <summary>What a load must present to store its result: the state before it read.</summary>
    public readonly record struct LoadToken(long Epoch, long? Subscription);

    /// <summary>With a scope, messages of that scope evict; without, the owner registers its own eviction.</summary>
    public CoherentCache(CacheInvalidation bus, string? scope, TimeSpan maxAge, int capacity, TimeProvider time)
    {
        _bus = bus;
        _maxAge = maxAge;
        _capacity = capacity;
        _time = time;
        if (scope is not null)
        {
            bus.Register(scope, Evict);
        }
    }

    public bool TryGet(string key, out TValue value)
    {
        if (_bus.Live is { } live && _entries.TryGetValue(key, out var entry) && entry.Subscription == live
            && _time.GetElapsedTime(entry.StoredAt) < _maxAge)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public LoadToken BeginLoad() => new(Interlocked.Read(ref _epoch), _bus.Live);

    public void Store(string key, TValue value, LoadToken token)
    {
        if (token.Subscription is not { } subscription || Interlocked.Read(ref _epoch) != token.Epoch || _bus.Live != subscription)
        {
            return;
        }
        if (_entries.Count >= _capacity)
        {
            _entries.Clear();
        }
        var entry = new Entry(value, subscription, _time.GetTimestamp());
        _entries[key] = entry;
        // An eviction that raced with this write: it raised the epoch first, so either it removes the entry
        // after this write, or this check sees the new epoch and takes the entry back out.
        if (Interlocked.Read(ref _epoch) != token.Epoch)
        {
            _entries.TryRemove(KeyValuePair.Create(key, entry));
        }
    }

    /// <summary>Drops the entry (and, for <c>*</c>, every entry); loads in flight will not store.</summary>
    public void Evict(string key)
    {
        Interlocked.Increment(ref _epoch);
        if (key == "*")
        {
            _entries.Clear();
        }
        else
        {
            _entries.TryRemove(key, out _);
        }
    }

    /// <summary>Drops every entry that matches (a rare, whole-cache scan).</summary>
    public void EvictWhere(Func<TValue, bool> match)
    {
        Interlocked.Increment(ref _epoch);
        foreach (var (key, entry) in _entries)
        {
            if (match(entry.Value))
            {
                _entries.TryRemove(key, out _);
            }
        }
    }
}
