using System.Collections.Concurrent;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Api.Auth;

internal sealed class LoginThrottleOptions
{
    public const string Section = "Auth:LoginRateLimit";

    /// <summary>Attempts allowed for one account from one client address in a window.</summary>
    public int PermitLimit { get; set; } = 10;

    /// <summary>Attempts allowed from one client address in a window, whatever the accounts (many accounts from one place).</summary>
    public int PermitLimitPerAddress { get; set; } = 50;

    /// <summary>
    /// Failed attempts on one account, from all addresses together, after which the account is slowed down
    /// rather than locked: one attempt per <see cref="AccountBackoff"/>, from anywhere, until the window ends.
    /// </summary>
    public int AccountSoftLimit { get; set; } = 20;

    public TimeSpan AccountBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Limits password guessing without handing a lockout to strangers. Three counts, in Redis so that every
/// Api instance shares them, in fixed windows:
/// <list type="bullet">
/// <item>per account and client address together: a guesser is stopped, the owner signing in from elsewhere is not;</item>
/// <item>per client address alone: one place trying many accounts is stopped;</item>
/// <item>per account, failures only: past a soft limit (guesses from many addresses) the account is slowed
/// to one attempt per back-off interval, never walled off, so its owner still gets in within seconds.</item>
/// </list>
/// A successful sign-in clears its own pair's count. If Redis is unreachable the counts fall back to this
/// process's memory: limits still hold per instance, rather than failing open.
/// </summary>
internal sealed partial class LoginThrottle(IDatabase redis, IOptionsMonitor<LoginThrottleOptions> options, TimeProvider time, ILogger<LoginThrottle> logger)
{
    // KEYS: pair, address, account failures, account back-off. ARGV: window ms, pair limit, address limit, soft limit, back-off ms.
    // Returns {0, 0} when allowed, else {which limit, ms to wait}.
    private const string Check = """
        local pair = redis.call('INCR', KEYS[1])
        if pair == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        if pair > tonumber(ARGV[2]) then return {1, redis.call('PTTL', KEYS[1])} end
        local address = redis.call('INCR', KEYS[2])
        if address == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
        if address > tonumber(ARGV[3]) then return {2, redis.call('PTTL', KEYS[2])} end
        local failures = tonumber(redis.call('GET', KEYS[3]) or '0')
        if failures >= tonumber(ARGV[4]) and not redis.call('SET', KEYS[4], '1', 'PX', ARGV[5], 'NX') then
          return {3, redis.call('PTTL', KEYS[4])}
        end
        return {0, 0}
        """;

    private const string Fail = """
        local failures = redis.call('INCR', KEYS[1])
        if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return failures
        """;

    private const int MaxLocalEntries = 10_000;
    private readonly ConcurrentDictionary<string, (long WindowStart, int Count)> _local = new(StringComparer.Ordinal);

    /// <summary>Counts one attempt; returns how long to wait when over a limit, or null when allowed.</summary>
    public async Task<TimeSpan?> TryAcquireAsync(string email, string? address, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var keys = Keys.Of(email, address);
        var windowMs = (long)settings.Window.TotalMilliseconds;
        try
        {
            var result = (long[])(await redis.ScriptEvaluateAsync(Check, [keys.Pair, keys.Address, keys.Failures, keys.Backoff],
                [windowMs, settings.PermitLimit, settings.PermitLimitPerAddress, settings.AccountSoftLimit, (long)settings.AccountBackoff.TotalMilliseconds])
                .WaitAsync(cancellationToken))!;
            return result[0] == 0 ? null : TimeSpan.FromMilliseconds(Math.Max(result[1], 1000));
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogRedisUnavailable(logger, ex.Message);
            return CountLocally(keys.Pair, settings.PermitLimit, windowMs)
                ?? CountLocally(keys.Address, settings.PermitLimitPerAddress, windowMs)
                ?? (Peek(keys.Failures, windowMs) >= settings.AccountSoftLimit
                    ? CountLocally(keys.Backoff, 1, (long)settings.AccountBackoff.TotalMilliseconds)
                    : null);
        }
    }

    /// <summary>A wrong password: counts towards the account's soft limit.</summary>
    public async Task FailedAsync(string email, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var key = Keys.Of(email, null).Failures;
        try
        {
            await redis.ScriptEvaluateAsync(Fail, [key], [(long)settings.Window.TotalMilliseconds]).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            CountLocally(key, int.MaxValue, (long)settings.Window.TotalMilliseconds);
        }
    }

    /// <summary>The right password: this account's attempts from this address start again.</summary>
    public async Task SucceededAsync(string email, string? address, CancellationToken cancellationToken)
    {
        var key = Keys.Of(email, address).Pair;
        _local.TryRemove(key, out _);
        try
        {
            await redis.KeyDeleteAsync(key).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            // The pair's count expires with its window.
        }
    }

    private readonly record struct Keys(string Pair, string Address, string Failures, string Backoff)
    {
        public static Keys Of(string email, string? address)
        {
            var from = address ?? "unknown";
            return new($"login:pair:{from}:{email}", $"login:addr:{from}", $"login:fail:{email}", $"login:slow:{email}");
        }
    }

    private int Peek(string key, long windowMs) =>
        _local.TryGetValue(key, out var entry) && time.GetUtcNow().ToUnixTimeMilliseconds() - entry.WindowStart < windowMs ? entry.Count : 0;

    private TimeSpan? CountLocally(string key, int limit, long windowMs)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_local.Count > MaxLocalEntries)
        {
            // A long outage under many distinct attempts: forget the windows that have ended.
            foreach (var (staleKey, window) in _local)
            {
                if (now - window.WindowStart >= windowMs)
                {
                    _local.TryRemove(staleKey, out _);
                }
            }
        }
        var entry = _local.AddOrUpdate(key, _ => (now, 1), (_, e) => now - e.WindowStart >= windowMs ? (now, 1) : (e.WindowStart, e.Count + 1));
        return entry.Count > limit ? TimeSpan.FromMilliseconds(Math.Max(entry.WindowStart + windowMs - now, 1000)) : null;
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Login throttle is counting in memory: Redis is unavailable ({Reason})")]
    private static partial void LogRedisUnavailable(ILogger logger, string reason);
}
