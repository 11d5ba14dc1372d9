using System.Collections.Concurrent;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Api.Auth;

internal sealed class LoginThrottleOptions
{
    public const string Section = "Auth:LoginRateLimit";

    /// <summary>Attempts allowed per email in one window.</summary>
    public int PermitLimit { get; set; } = 10;

    /// <summary>Attempts allowed per client address in one window (many accounts from one place).</summary>
    public int PermitLimitPerAddress { get; set; } = 50;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Fixed-window limits on sign-in attempts, per email and per client address, counted in Redis so every
/// Api instance shares them. If Redis is unreachable the counts fall back to this process's memory:
/// limits still hold per instance, rather than failing open.
/// </summary>
internal sealed partial class LoginThrottle(IDatabase redis, IOptionsMonitor<LoginThrottleOptions> options, TimeProvider time, ILogger<LoginThrottle> logger)
{
    private const string CountBoth = """
        local result = {}
        for i = 1, 2 do
          local count = redis.call('INCR', KEYS[i])
          if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
          result[#result + 1] = count
          result[#result + 1] = redis.call('PTTL', KEYS[i])
        end
        return result
        """;

    private const int MaxLocalEntries = 10_000;
    private readonly ConcurrentDictionary<string, (long WindowStart, int Count)> _local = new(StringComparer.Ordinal);

    /// <summary>Counts one attempt; returns how long to wait when over a limit, or null when allowed.</summary>
    public async Task<TimeSpan?> TryAcquireAsync(string email, string? address, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var emailKey = $"login:email:{email}";
        var addressKey = $"login:addr:{address ?? "unknown"}";
        var windowMs = (long)settings.Window.TotalMilliseconds;
        try
        {
            var counts = (long[])(await redis.ScriptEvaluateAsync(CountBoth, [emailKey, addressKey], [windowMs]).WaitAsync(cancellationToken))!;
            return Verdict(counts[0], counts[1], settings.PermitLimit) ?? Verdict(counts[2], counts[3], settings.PermitLimitPerAddress);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogRedisUnavailable(logger, ex.Message);
            return CountLocally(emailKey, settings.PermitLimit, windowMs) ?? CountLocally(addressKey, settings.PermitLimitPerAddress, windowMs);
        }
    }

    private static TimeSpan? Verdict(long count, long ttlMs, int limit) =>
        count > limit ? TimeSpan.FromMilliseconds(Math.Max(ttlMs, 1000)) : null;

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
