using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Core.Redis;

/// <summary>
/// The product's Redis client: one pipelined connection for commands, one dedicated connection for
/// pub/sub. A broken command connection is reopened on the next command, with a growing pause after
/// failed attempts so that a Redis outage costs callers a fast error rather than a wait; the subscriber
/// connection is reopened in the background and resubscribes every channel.
/// </summary>
public sealed partial class RedisClient : IRedisCache, IRedisPubSub, IRedisScripts, IAsyncDisposable
{
    private static readonly RedisScript IncrementWithExpiry = new("""
        local value = redis.call('INCRBY', KEYS[1], ARGV[1])
        if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return value
        """);

    private readonly RedisOptions _options;
    private readonly ILogger<RedisClient> _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private RespConnection? _connection;
    private int _failedAttempts;
    private long _nextAttemptTimestamp;

    // Pub/sub state.
    private readonly ConcurrentDictionary<string, ImmutableArray<Subscription>> _subscriptions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _confirmations = new(StringComparer.Ordinal);
    private readonly Lock _subscriberStart = new();
    private Task? _subscriberLoop;
    private volatile RespConnection? _subscriber;
    private long _subscriberGeneration;

    public RedisClient(RedisOptions options, ILogger<RedisClient> logger, TimeProvider? timeProvider = null)
    {
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>True while the command connection is open.</summary>
    public bool IsConnected => _connection?.IsOpen == true;

    /// <summary>Sends any command and returns its reply; an error reply throws <see cref="RedisServerException"/>.</summary>
    public async Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken)
    {
        var reply = await ExecuteRawAsync(command, args, cancellationToken).ConfigureAwait(false);
        return reply.IsError ? throw new RedisServerException(reply.AsString() ?? "Redis error") : reply;
    }

    private async Task<RedisReply> ExecuteRawAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var reply = connection.SendAsync(command, args);
        try
        {
            return await reply.WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RedisTimeoutException($"Redis did not answer {command} within {_options.CommandTimeout.TotalMilliseconds:0} ms.");
        }
    }

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        await ExecuteAsync("PING", [], cancellationToken).ConfigureAwait(false);
        return _time.GetElapsedTime(started);
    }

    private async ValueTask<RespConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var current = _connection;
        if (current is { IsOpen: true })
        {
            return current;
        }
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsOpen: true })
            {
                return current;
            }
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (current is not null)
            {
                _connection = null;
                await current.DisposeAsync().ConfigureAwait(false);
            }
            if (_time.GetTimestamp() < Interlocked.Read(ref _nextAttemptTimestamp))
            {
                throw new RedisConnectionException($"Redis at {_options} is unavailable; the client is waiting before it reconnects.");
            }
            try
            {
                var opened = await RespConnection.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
                opened.StartPipelined();
                _connection = opened;
                if (_failedAttempts > 0)
                {
                    LogReconnected(_logger, _options, _failedAttempts);
                }
                _failedAttempts = 0;
                _ = opened.Closed.ContinueWith(
                    t =>
                    {
                        if (!_disposed.IsCancellationRequested)
                        {
                            LogConnectionLost(_logger, _options, t.Result.Message);
                        }
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return opened;
            }
            catch (RedisConnectionException ex)
            {
                _failedAttempts++;
                var delay = ReconnectDelay(_failedAttempts);
                Interlocked.Exchange(ref _nextAttemptTimestamp, _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency));
                LogConnectFailed(_logger, _options, _failedAttempts, delay.TotalMilliseconds, ex.Message);
                throw;
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>Capped exponential backoff with jitter: 100 ms, 200 ms, 400 ms ... up to the maximum.</summary>
    private TimeSpan ReconnectDelay(int failures)
    {
        var exponential = 100 * Math.Pow(2, Math.Min(failures - 1, 16));
        var capped = Math.Min(exponential, _options.MaxReconnectDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    // ---- IRedisCache ----

    private string Prefixed(string keyOrChannel) => _options.KeyPrefix.Length == 0 ? keyOrChannel : _options.KeyPrefix + keyOrChannel;

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        (await ExecuteAsync("GET", [Prefixed(key)], cancellationToken).ConfigureAwait(false)).Bytes;

    public async Task<string?> GetStringAsync(string key, CancellationToken cancellationToken) =>
        (await ExecuteAsync("GET", [Prefixed(key)], cancellationToken).ConfigureAwait(false)).AsString();

    public Task SetAsync(string key, RedisArg value, TimeSpan? expiry, CancellationToken cancellationToken) =>
        ExecuteAsync("SET", WithExpiry([Prefixed(key), value], expiry), cancellationToken);

    public async Task<bool> SetIfAbsentAsync(string key, RedisArg value, TimeSpan? expiry, CancellationToken cancellationToken)
    {
        var args = WithExpiry([Prefixed(key), value], expiry);
        args.Add("NX");
        var reply = await ExecuteAsync("SET", args, cancellationToken).ConfigureAwait(false);
        return !reply.IsNull;
    }

    public async Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return 0;
        }
        var reply = await ExecuteAsync("DEL", [.. keys.Select(k => (RedisArg)Prefixed(k))], cancellationToken).ConfigureAwait(false);
        return reply.AsInt64();
    }

    public async Task<long> IncrementAsync(string key, long by, TimeSpan? expiry, CancellationToken cancellationToken)
    {
        if (expiry is null)
        {
            return (await ExecuteAsync("INCRBY", [Prefixed(key), by], cancellationToken).ConfigureAwait(false)).AsInt64();
        }
        var reply = await EvaluateAsync(IncrementWithExpiry, [key], [by, (long)expiry.Value.TotalMilliseconds], cancellationToken).ConfigureAwait(false);
        return reply.AsInt64();
    }

    private static List<RedisArg> WithExpiry(List<RedisArg> args, TimeSpan? expiry)
    {
        if (expiry is { } ttl)
        {
            if (ttl <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(expiry), "An expiry must be positive.");
            }
            args.Add("PX");
            args.Add((long)Math.Ceiling(ttl.TotalMilliseconds));
        }
        return args;
    }

    // ---- IRedisScripts ----

    public async Task<RedisReply> EvaluateAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken)
    {
        var tail = new List<RedisArg>(keys.Count + args.Count + 1) { keys.Count };
        tail.AddRange(keys.Select(k => (RedisArg)Prefixed(k)));
        tail.AddRange(args);

        var reply = await ExecuteRawAsync("EVALSHA", [script.Sha1, .. tail], cancellationToken).ConfigureAwait(false);
        if (reply.IsError && (reply.AsString() ?? "").StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL runs the script and leaves it cached on the server, so the next EVALSHA finds it.
            reply = await ExecuteRawAsync("EVAL", [script.Source, .. tail], cancellationToken).ConfigureAwait(false);
        }
        return reply.IsError ? throw new RedisServerException(reply.AsString() ?? "Redis script error") : reply;
    }

    // ---- IRedisPubSub ----

    public async Task<long> PublishAsync(string channel, RedisArg message, CancellationToken cancellationToken) =>
        (await ExecuteAsync("PUBLISH", [Prefixed(channel), message], cancellationToken).ConfigureAwait(false)).AsInt64();

    public async Task<IAsyncDisposable> SubscribeAsync(string channel, Func<RedisMessage, ValueTask> handler, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var name = channel;
        channel = Prefixed(channel);
        var subscription = new Subscription(this, channel, name, handler);
        var isFirst = false;
        var confirmation = _confirmations.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        // Register before looking at the connection: either this call sees the open subscriber and sends
        // SUBSCRIBE itself, or the subscriber loop, which publishes its connection before it takes its
        // snapshot of the channels, sees this registration.
        _subscriptions.AddOrUpdate(
            channel,
            _ => { isFirst = true; return [subscription]; },
            (_, existing) => existing.Add(subscription));
        EnsureSubscriberLoop();
        if (isFirst && _subscriber is { IsOpen: true } subscriber)
        {
            subscriber.Post("SUBSCRIBE", [channel]);
        }
        try
        {
            await confirmation.Task.WaitAsync(_options.ConnectTimeout + _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Redis is unreachable now: the registration stands and is subscribed when it comes back.
        }
        return subscription;
    }

    public long? LiveSubscription(string channel)
    {
        var generation = Volatile.Read(ref _subscriberGeneration);
        var live = _subscriber is { IsOpen: true }
            && _confirmations.TryGetValue(Prefixed(channel), out var confirmed) && confirmed.Task.IsCompletedSuccessfully;
        return live && generation == Volatile.Read(ref _subscriberGeneration) ? generation : null;
    }

    /// <summary>Waits until the subscriber connection is open and every registered channel confirmed.</summary>
    public async Task WaitForSubscriptionsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_subscriber is { IsOpen: true } && _subscriptions.Keys.All(c => _confirmations.TryGetValue(c, out var t) && t.Task.IsCompletedSuccessfully))
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void EnsureSubscriberLoop()
    {
        lock (_subscriberStart)
        {
            _subscriberLoop ??= Task.Run(() => SubscriberLoopAsync(_disposed.Token));
        }
    }

    private async Task SubscriberLoopAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            RespConnection? connection = null;
            var delay = ReconnectDelay(1);
            try
            {
                connection = await RespConnection.ConnectAsync(_options, stopping).ConfigureAwait(false);
                connection.StartSubscriber(OnSubscriberFrameAsync);
                foreach (var channel in _subscriptions.Keys)
                {
                    // A confirmation from an earlier connection no longer holds; one still awaited is kept.
                    // Reset before the connection is published, so LiveSubscription never vouches for a
                    // channel this connection has not confirmed.
                    _confirmations.AddOrUpdate(
                        channel,
                        _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
                        (_, previous) => previous.Task.IsCompleted ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : previous);
                }
                _subscriber = connection;
                Interlocked.Increment(ref _subscriberGeneration);
                var channels = _subscriptions.Keys.ToArray();
                if (channels.Length > 0)
                {
                    connection.Post("SUBSCRIBE", [.. channels.Select(c => (RedisArg)c)]);
                }
                if (failures > 0)
                {
                    LogSubscriberReconnected(_logger, _options, channels.Length);
                }
                failures = 0;
                var cause = await connection.Closed.WaitAsync(stopping).ConfigureAwait(false);
                LogConnectionLost(_logger, _options, cause.Message);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (RedisConnectionException ex)
            {
                failures++;
                delay = ReconnectDelay(failures);
                LogConnectFailed(_logger, _options, failures, delay.TotalMilliseconds, ex.Message);
            }
            finally
            {
                _subscriber = null;
                Interlocked.Increment(ref _subscriberGeneration);
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            try
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async ValueTask OnSubscriberFrameAsync(RedisReply frame)
    {
        if (!frame.IsAggregate || frame.Items.Count < 3)
        {
            return;
        }
        var kind = frame.Items[0].AsString();
        switch (kind)
        {
            case "subscribe":
            {
                var channel = frame.Items[1].AsString()!;
                _confirmations.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                break;
            }
            case "message":
            {
                var channel = frame.Items[1].AsString()!;
                if (!_subscriptions.TryGetValue(channel, out var handlers))
                {
                    return;
                }
                var payload = frame.Items[2].Bytes ?? [];
                foreach (var subscription in handlers)
                {
                    try
                    {
                        await subscription.Handler(new RedisMessage(subscription.Name, payload)).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // One failing handler must not stop delivery to the others.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        LogHandlerFailed(_logger, channel, ex);
                    }
                }
                break;
            }
        }
    }

    private ValueTask UnsubscribeAsync(Subscription subscription)
    {
        var removedLast = false;
        while (_subscriptions.TryGetValue(subscription.Channel, out var existing))
        {
            var remaining = existing.Remove(subscription);
            if (remaining.IsEmpty)
            {
                if (_subscriptions.TryRemove(new KeyValuePair<string, ImmutableArray<Subscription>>(subscription.Channel, existing)))
                {
                    removedLast = true;
                    break;
                }
            }
            else if (_subscriptions.TryUpdate(subscription.Channel, remaining, existing))
            {
                break;
            }
        }
        if (removedLast)
        {
            _confirmations.TryRemove(subscription.Channel, out _);
            _subscriber?.Post("UNSUBSCRIBE", [subscription.Channel]);
        }
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_subscriberLoop is not null)
        {
            await _subscriberLoop.ConfigureAwait(false);
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        _connectGate.Dispose();
        _disposed.Dispose();
    }

    private sealed class Subscription(RedisClient owner, string channel, string name, Func<RedisMessage, ValueTask> handler) : IAsyncDisposable
    {
        private int _disposed;

        /// <summary>The channel on the server, with the key prefix.</summary>
        public string Channel { get; } = channel;

        /// <summary>The channel as the subscriber named it.</summary>
        public string Name { get; } = name;
        public Func<RedisMessage, ValueTask> Handler { get; } = handler;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.UnsubscribeAsync(this) : ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Redis connection to {Endpoint} lost: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, RedisOptions endpoint, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Redis connect to {Endpoint} failed (attempt {Attempt}); next try in {DelayMs:0} ms: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, RedisOptions endpoint, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Redis connection to {Endpoint} restored after {Attempts} failed attempts")]
    private static partial void LogReconnected(ILogger logger, RedisOptions endpoint, int attempts);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Redis subscriber to {Endpoint} reconnected; resubscribing {Channels} channels")]
    private static partial void LogSubscriberReconnected(ILogger logger, RedisOptions endpoint, int channels);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "A Redis subscription handler for {Channel} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string channel, Exception exception);
}
