using System.Collections.Concurrent;
using System.Text.Json;
using AiPrompts.Core.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiPrompts.Core.Templates;

/// <summary>
/// What using a type's active version needs: the type's rules and, when one is active, the version.
/// <see cref="Revision"/> orders copies: a higher one is always newer.
/// </summary>
public sealed record ActiveTemplate(
    string PromptType,
    long Revision,
    string Section,
    IReadOnlyList<string> RequiredPlaceholders,
    IReadOnlyList<string> AllowedVariables,
    string? OutputSchema,
    int? VersionNumber,
    string? Template,
    DateTimeOffset? ActivatedAt);

/// <summary>
/// The active version of each prompt type, read through two caches: one in this process and one in
/// Redis, with Postgres as the truth.
/// <list type="bullet">
/// <item>An in-process copy is trusted only while this process's subscription to the invalidation
/// channel is live and unchanged since the copy was taken (a reconnect may have lost messages), and for
/// at most <see cref="TemplateOptions.LocalCacheMaxAge"/>.</item>
/// <item>Redis copies are written by a script that refuses a lower revision, so a reader that loaded
/// the old version just before an activation cannot put it back over the new one.</item>
/// <item><see cref="PublishChangeAsync"/>, called after an activation commits, writes the new copy to
/// Redis, publishes the change, and waits until every subscribed process confirmed it dropped its copy
/// (PUBLISH says how many received it; each one counts itself on an acknowledgement key). So once an
/// activation has answered, no instance serves the old version.</item>
/// </list>
/// Redis down means reads go to Postgres; it never means a stale answer.
/// </summary>
public sealed partial class ActiveTemplateCache(
    NpgsqlDataSource dataSource,
    IRedisCache cache,
    IRedisPubSub pubSub,
    IRedisScripts scripts,
    IOptions<TemplateOptions> options,
    TimeProvider time,
    ILogger<ActiveTemplateCache> logger) : IHostedService, IAsyncDisposable
{
    public const string Channel = "templates:changed";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // KEYS[1] the copy, KEYS[2] the highest revision written; ARGV: revision, copy, ttl (ms).
    private static readonly RedisScript WriteIfNewer = new("""
        local current = redis.call('GET', KEYS[2])
        if current and tonumber(current) > tonumber(ARGV[1]) then
            return 0
        end
        redis.call('SET', KEYS[2], ARGV[1])
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        return 1
        """);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _epoch;
    private IAsyncDisposable? _subscription;

    private sealed record Entry(ActiveTemplate Value, long Subscription, long StoredAt);

    private sealed record ChangeMessage(string PromptType, long Revision, string Ack);

    public static string CopyKey(string promptType) => $"templates:active:{promptType}";

    private static string RevisionKey(string promptType) => $"templates:revision:{promptType}";

    private static string AckKey(string nonce) => $"templates:ack:{nonce}";

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _subscription = await pubSub.SubscribeAsync(Channel, OnMessage, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }

    /// <summary>The type's rules and active version; null when the type does not exist.</summary>
    public async ValueTask<ActiveTemplate?> GetAsync(string promptType, CancellationToken cancellationToken)
    {
        var subscription = pubSub.LiveSubscription(Channel);
        if (subscription is { } live && _entries.TryGetValue(promptType, out var entry) && entry.Subscription == live
            && time.GetElapsedTime(entry.StoredAt) < options.Value.LocalCacheMaxAge)
        {
            return entry.Value;
        }
        var epoch = Interlocked.Read(ref _epoch);
        var value = await ReadRedisAsync(promptType, cancellationToken);
        if (value is null)
        {
            value = await LoadAsync(promptType, cancellationToken);
            if (value is null)
            {
                return null;
            }
            await WriteRedisAsync(value, cancellationToken);
        }
        // Keep it only if no change arrived while it was read, and the subscription is still the same one.
        if (subscription is { } s && Interlocked.Read(ref _epoch) == epoch && pubSub.LiveSubscription(Channel) == s)
        {
            _entries[promptType] = new Entry(value, s, time.GetTimestamp());
        }
        return value;
    }

    /// <summary>
    /// After a change to a type committed: drops this process's copy, writes the new one to Redis, tells
    /// every process, and waits (bounded) until each confirmed. False when Redis could not be reached or
    /// not every process confirmed in time; their copies then expire within <see cref="TemplateOptions.LocalCacheMaxAge"/>.
    /// </summary>
    public async Task<bool> PublishChangeAsync(string promptType, CancellationToken cancellationToken)
    {
        Evict(promptType);
        var settings = options.Value;
        try
        {
            var current = await LoadAsync(promptType, cancellationToken);
            if (current is not null)
            {
                await WriteRedisAsync(current, cancellationToken, quiet: false);
            }
            else
            {
                await cache.DeleteAsync([CopyKey(promptType)], cancellationToken);
            }
            var nonce = Guid.NewGuid().ToString("N");
            var message = JsonSerializer.Serialize(new ChangeMessage(promptType, current?.Revision ?? 0, nonce), Json);
            var receivers = await pubSub.PublishAsync(Channel, message, cancellationToken);
            var started = time.GetTimestamp();
            while (true)
            {
                var acknowledged = long.TryParse(await cache.GetStringAsync(AckKey(nonce), cancellationToken), out var count) ? count : 0;
                if (acknowledged >= receivers)
                {
                    return true;
                }
                if (time.GetElapsedTime(started) > settings.InvalidationAckTimeout)
                {
                    LogUnconfirmed(logger, promptType, acknowledged, receivers);
                    return false;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancellationToken);
            }
        }
        catch (RedisException ex)
        {
            // Every process whose subscription broke has stopped trusting its copy; the Redis copy still
            // expires. Log, so an operator knows the change reached other instances only through that.
            LogNotPublished(logger, promptType, ex.Message);
            return false;
        }
    }

    private ValueTask OnMessage(RedisMessage message)
    {
        ChangeMessage? change;
        try
        {
            change = JsonSerializer.Deserialize<ChangeMessage>(message.Payload, Json);
        }
        catch (JsonException)
        {
            return ValueTask.CompletedTask;
        }
        if (change is null)
        {
            return ValueTask.CompletedTask;
        }
        Evict(change.PromptType);
        // Acknowledge off the subscriber's read loop, which must not wait on another command.
        _ = AcknowledgeAsync(change.Ack);
        return ValueTask.CompletedTask;
    }

    private void Evict(string promptType)
    {
        Interlocked.Increment(ref _epoch);
        _entries.TryRemove(promptType, out _);
    }

    private async Task AcknowledgeAsync(string nonce)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await cache.IncrementAsync(AckKey(nonce), 1, TimeSpan.FromMinutes(1), timeout.Token);
        }
        catch (Exception ex) when (ex is RedisException or OperationCanceledException)
        {
            LogAckFailed(logger, ex.Message);
        }
    }

    private async Task<ActiveTemplate?> ReadRedisAsync(string promptType, CancellationToken cancellationToken)
    {
        try
        {
            return await cache.GetAsync(CopyKey(promptType), cancellationToken) is { } bytes
                ? JsonSerializer.Deserialize<ActiveTemplate>(bytes, Json)
                : null;
        }
        catch (Exception ex) when (ex is RedisException or JsonException)
        {
            return null;
        }
    }

    private async Task WriteRedisAsync(ActiveTemplate value, CancellationToken cancellationToken, bool quiet = true)
    {
        try
        {
            await scripts.EvaluateAsync(WriteIfNewer, [CopyKey(value.PromptType), RevisionKey(value.PromptType)],
                [value.Revision, JsonSerializer.Serialize(value, Json), (long)options.Value.RedisTtl.TotalMilliseconds], cancellationToken);
        }
        catch (RedisException) when (quiet)
        {
            // A read works without Redis.
        }
    }

    /// <summary>The type and its active version from Postgres, in one query.</summary>
    public async Task<ActiveTemplate?> LoadAsync(string promptType, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT t.revision, t.section, t.required_placeholders, t.allowed_variables, t.output_schema::text,
                   v.version_number, v.template, v.activated_at
            FROM prompt_templates t
            LEFT JOIN prompt_template_versions v ON v.prompt_type = t.prompt_type AND v.is_active
            WHERE t.prompt_type = $1
            """);
        command.Parameters.Add(new() { Value = promptType });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new ActiveTemplate(
            promptType, reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetInt32(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "The change of prompt type {PromptType} was confirmed by {Acknowledged} of {Receivers} instances in time; the others drop their copy when it expires")]
    private static partial void LogUnconfirmed(ILogger logger, string promptType, long acknowledged, long receivers);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "The change of prompt type {PromptType} could not be published through Redis: {Reason}")]
    private static partial void LogNotPublished(ILogger logger, string promptType, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "A template change could not be acknowledged: {Reason}")]
    private static partial void LogAckFailed(ILogger logger, string reason);
}
