using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Errors;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Api.Auth;

internal sealed class RequestRateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests a signed-in user may make per window, whatever the credential (0: no limit).</summary>
    public int UserPermitLimit { get; set; } = 600;

    /// <summary>Requests one API key may make per window (0: no limit); the user's own limit applies too.</summary>
    public int ApiKeyPermitLimit { get; set; } = 300;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// With Redis unreachable each instance counts alone, allowing this fraction of each limit (the share of one
    /// of two instances by default): conservative rather than none.
    /// </summary>
    public double FallbackShare { get; set; } = 0.5;
}

/// <summary>
/// Requests per minute per user and per API key, counted in Redis so that every Api instance shares the same
/// count exactly: one atomic script per request checks both counters of the current window (Redis's clock
/// names the window, so instances agree) and counts the request only if both allow it. Every answer carries
/// the IETF <c>RateLimit-Policy</c> and <c>RateLimit</c> headers; over a limit it is 429 with
/// <c>Retry-After</c>. Without Redis, each instance counts in memory at <see cref="RequestRateLimitOptions.FallbackShare"/>.
/// </summary>
internal sealed partial class RequestRateLimiter(IDatabase redis, IOptionsMonitor<RequestRateLimitOptions> options, TimeProvider time, ILogger<RequestRateLimiter> logger)
{
    // KEYS: user counter prefix, key counter prefix (or ""). ARGV: window ms, user limit, key limit.
    // Returns {refused by (0 none, 1 user, 2 key), user count, key count, ms left in the window}.
    private const string Take = """
        local now = redis.call('TIME')
        local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local window = tonumber(ARGV[1])
        local index = math.floor(ms / window)
        local left = (index + 1) * window - ms
        local user = KEYS[1] .. index
        local used = tonumber(redis.call('GET', user) or '0')
        if tonumber(ARGV[2]) > 0 and used >= tonumber(ARGV[2]) then return {1, used, 0, left} end
        local keyUsed = 0
        if KEYS[2] ~= '' then
          keyUsed = tonumber(redis.call('GET', KEYS[2] .. index) or '0')
          if tonumber(ARGV[3]) > 0 and keyUsed >= tonumber(ARGV[3]) then return {2, used, keyUsed, left} end
          keyUsed = redis.call('INCR', KEYS[2] .. index)
          redis.call('PEXPIRE', KEYS[2] .. index, window * 2)
        end
        used = redis.call('INCR', user)
        redis.call('PEXPIRE', user, window * 2)
        return {0, used, keyUsed, left}
        """;

    private const int MaxLocalEntries = 20_000;
    private readonly ConcurrentDictionary<string, (long Window, int Count)> _local = new(StringComparer.Ordinal);

    /// <summary>Counts the request; null when it may go on, else the 429 to answer. Headers are set either way.</summary>
    public async Task<IResult?> TryTakeAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var principal = http.User;
        if (principal.Identity?.IsAuthenticated != true || principal.FindFirst(AppClaims.Subject)?.Value is not { } user)
        {
            return null; // anonymous endpoints have their own limits (sign-in) or none (health, signed files)
        }
        var settings = options.CurrentValue;
        var key = principal.FindFirst(AppClaims.ApiKeyId)?.Value;
        var windowMs = (long)settings.Window.TotalMilliseconds;
        long refusedBy, userUsed, keyUsed, leftMs;
        int userLimit = settings.UserPermitLimit, keyLimit = key is null ? 0 : settings.ApiKeyPermitLimit;
        try
        {
            var result = (long[])(await redis.ScriptEvaluateAsync(Take, [$"ratelimit:user:{user}:", key is null ? "" : $"ratelimit:key:{key}:"],
                [windowMs, userLimit, keyLimit]).WaitAsync(cancellationToken))!;
            (refusedBy, userUsed, keyUsed, leftMs) = (result[0], result[1], result[2], result[3]);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogRedisUnavailable(logger, ex.Message);
            userLimit = Share(userLimit, settings.FallbackShare);
            keyLimit = Share(keyLimit, settings.FallbackShare);
            (refusedBy, userUsed, keyUsed, leftMs) = TakeLocally($"u:{user}", key is null ? null : $"k:{key}", userLimit, keyLimit, windowMs);
        }

        var seconds = (long)Math.Ceiling(leftMs / 1000.0);
        var windowSeconds = (long)Math.Ceiling(settings.Window.TotalSeconds);
        var policies = new List<string>();
        var states = new List<string>();
        if (userLimit > 0)
        {
            policies.Add(string.Create(CultureInfo.InvariantCulture, $"\"user\";q={userLimit};w={windowSeconds}"));
            states.Add(string.Create(CultureInfo.InvariantCulture, $"\"user\";r={Math.Max(0, userLimit - userUsed)};t={seconds}"));
        }
        if (keyLimit > 0)
        {
            policies.Add(string.Create(CultureInfo.InvariantCulture, $"\"api-key\";q={keyLimit};w={windowSeconds}"));
            states.Add(string.Create(CultureInfo.InvariantCulture, $"\"api-key\";r={Math.Max(0, keyLimit - keyUsed)};t={seconds}"));
        }
        if (policies.Count > 0)
        {
            http.Response.Headers["RateLimit-Policy"] = string.Join(", ", policies);
            http.Response.Headers["RateLimit"] = string.Join(", ", states);
        }
        if (refusedBy == 0)
        {
            return null;
        }
        http.Response.Headers.RetryAfter = Math.Max(1, seconds).ToString(CultureInfo.InvariantCulture);
        var limit = refusedBy == 1 ? userLimit : keyLimit;
        return ApiProblem.Of(ErrorCode.RateLimited, detail: string.Create(CultureInfo.InvariantCulture,
            $"More than {limit} requests in {windowSeconds} s for this {(refusedBy == 1 ? "user" : "API key")}; retry after {Math.Max(1, seconds)} s."));
    }

    private static int Share(int limit, double share) => limit <= 0 ? 0 : Math.Max(1, (int)Math.Floor(limit * share));

    private (long RefusedBy, long UserUsed, long KeyUsed, long LeftMs) TakeLocally(string user, string? key, int userLimit, int keyLimit, long windowMs)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var index = now / windowMs;
        var left = (index + 1) * windowMs - now;
        if (_local.Count > MaxLocalEntries)
        {
            foreach (var (stale, entry) in _local)
            {
                if (entry.Window < index)
                {
                    _local.TryRemove(stale, out _);
                }
            }
        }
        lock (_local)
        {
            int Used(string k) => _local.TryGetValue(k, out var e) && e.Window == index ? e.Count : 0;
            var userUsed = Used(user);
            if (userLimit > 0 && userUsed >= userLimit)
            {
                return (1, userUsed, 0, left);
            }
            var keyUsed = key is null ? 0 : Used(key);
            if (key is not null && keyLimit > 0 && keyUsed >= keyLimit)
            {
                return (2, userUsed, keyUsed, left);
            }
            _local[user] = (index, userUsed + 1);
            if (key is not null)
            {
                _local[key] = (index, keyUsed + 1);
            }
            return (0, userUsed + 1, keyUsed + (key is null ? 0 : 1), left);
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Redis is unreachable; request rate limits are counted per instance for now: {Reason}")]
    private static partial void LogRedisUnavailable(ILogger logger, string reason);
}

/// <summary>The limiter on every endpoint of the API group, after authentication and authorization.</summary>
internal sealed class RequestRateLimitFilter(RequestRateLimiter limiter) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await limiter.TryTakeAsync(context.HttpContext, context.HttpContext.RequestAborted) is { } refused ? refused : await next(context);
}
