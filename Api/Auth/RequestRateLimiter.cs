using System.Collections.Concurrent;
using System.Globalization;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
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

    /// <summary>Tokens a user's new model work may be expected to use per window (0: no limit): each job's estimate, counted as it is queued.</summary>
    public int UserTokenLimit { get; set; } = 1_000_000;

    /// <summary>Tokens per window for one API key (0: no limit); the user's own limit applies too.</summary>
    public int ApiKeyTokenLimit { get; set; } = 500_000;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// With Redis unreachable each instance counts alone, allowing this fraction of each limit (the share of one
    /// of two instances by default): conservative rather than none.
    /// </summary>
    public double FallbackShare { get; set; } = 0.5;
}

/// <summary>
/// Requests and tokens per window (a minute by default) per user and per API key, counted in Redis so that every
/// Api instance shares the same count exactly: one atomic script checks both counters of the current window
/// (Redis's clock names the window, so instances agree) and counts the amount only if both allow it. Requests are
/// counted as they arrive, tokens as a job's expected use when it is queued. Every answer carries the IETF
/// <c>RateLimit-Policy</c> and <c>RateLimit</c> headers; over a limit it is 429 with <c>Retry-After</c>. Without
/// Redis, each instance counts in memory at <see cref="RequestRateLimitOptions.FallbackShare"/>.
/// </summary>
internal sealed partial class RequestRateLimiter(IDatabase redis, IOptionsMonitor<RequestRateLimitOptions> options, TimeProvider time, ILogger<RequestRateLimiter> logger)
{
    // KEYS: user counter prefix, key counter prefix (or ""). ARGV: window ms, user limit, key limit, amount.
    // Returns {refused by (0 none, 1 user, 2 key), user count, key count, ms left in the window}.
    private const string Take = """
        local now = redis.call('TIME')
        local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local window = tonumber(ARGV[1])
        local amount = tonumber(ARGV[4])
        local index = math.floor(ms / window)
        local left = (index + 1) * window - ms
        local user = KEYS[1] .. index
        local used = tonumber(redis.call('GET', user) or '0')
        if tonumber(ARGV[2]) > 0 and used + amount > tonumber(ARGV[2]) then return {1, used, 0, left} end
        local keyUsed = 0
        if KEYS[2] ~= '' then
          keyUsed = tonumber(redis.call('GET', KEYS[2] .. index) or '0')
          if tonumber(ARGV[3]) > 0 and keyUsed + amount > tonumber(ARGV[3]) then return {2, used, keyUsed, left} end
          keyUsed = redis.call('INCRBY', KEYS[2] .. index, amount)
          redis.call('PEXPIRE', KEYS[2] .. index, window * 2)
        end
        used = redis.call('INCRBY', user, amount)
        redis.call('PEXPIRE', user, window * 2)
        return {0, used, keyUsed, left}
        """;

    private const int MaxLocalEntries = 20_000;
    private readonly ConcurrentDictionary<string, (long Window, long Count)> _local = new(StringComparer.Ordinal);

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
        var taken = await TakeAsync(Requests, user, key, settings.UserPermitLimit, key is null ? 0 : settings.ApiKeyPermitLimit, 1, cancellationToken);
        SetHeaders(http, taken, replace: true);
        if (taken.Refusal is not { } refusal)
        {
            return null;
        }
        http.Response.Headers.RetryAfter = refusal.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ApiProblem.Of(ErrorCode.RateLimited, detail: refusal.Message);
    }

    /// <summary>
    /// Counts the tokens new model work is expected to use, for its user and API key; null when the limits allow it,
    /// else the 429 to answer (with Retry-After). Adds the token policies to the answer's headers.
    /// </summary>
    public async Task<ProblemHttpResult?> TakeTokensAsync(HttpContext? http, Guid user, Guid? key, long tokens, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var taken = await TakeAsync(Tokens, user.ToString(), key?.ToString(), settings.UserTokenLimit, key is null ? 0 : settings.ApiKeyTokenLimit, tokens, cancellationToken);
        if (http is not null)
        {
            SetHeaders(http, taken, replace: false);
        }
        if (taken.Refusal is not { } refusal)
        {
            return null;
        }
        http?.Response.Headers.RetryAfter = refusal.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ApiProblem.Of(ErrorCode.RateLimited, detail: refusal.Message);
    }

    private static readonly Counter Requests = new("ratelimit", "requests", "user", "api-key");
    private static readonly Counter Tokens = new("tokenlimit", "tokens", "user-tokens", "api-key-tokens");

    /// <summary>What is counted: its Redis key prefix, the unit it names, and its policy names in the headers.</summary>
    private sealed record Counter(string Prefix, string Unit, string UserPolicy, string KeyPolicy);

    private sealed record Refusal(string Message, long RetryAfterSeconds);

    private sealed record Taken(Counter Counter, int UserLimit, int KeyLimit, long UserUsed, long KeyUsed, long Seconds, long WindowSeconds, Refusal? Refusal);

    private async Task<Taken> TakeAsync(Counter counter, string user, string? key, int userLimit, int keyLimit, long amount, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var windowMs = (long)settings.Window.TotalMilliseconds;
        long refusedBy, userUsed, keyUsed, leftMs;
        try
        {
            var result = (long[])(await redis.ScriptEvaluateAsync(Take, [$"{counter.Prefix}:user:{user}:", key is null ? "" : $"{counter.Prefix}:key:{key}:"],
                [windowMs, userLimit, keyLimit, amount]).WaitAsync(cancellationToken))!;
            (refusedBy, userUsed, keyUsed, leftMs) = (result[0], result[1], result[2], result[3]);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogRedisUnavailable(logger, ex.Message);
            userLimit = Share(userLimit, settings.FallbackShare);
            keyLimit = Share(keyLimit, settings.FallbackShare);
            (refusedBy, userUsed, keyUsed, leftMs) = TakeLocally($"{counter.Prefix}:u:{user}", key is null ? null : $"{counter.Prefix}:k:{key}", userLimit, keyLimit, windowMs, amount);
        }
        var seconds = (long)Math.Ceiling(leftMs / 1000.0);
        var windowSeconds = (long)Math.Ceiling(settings.Window.TotalSeconds);
        Refusal? refusal = null;
        if (refusedBy != 0)
        {
            var retry = Math.Max(1, seconds);
            refusal = new Refusal(string.Create(CultureInfo.InvariantCulture,
                $"More than {(refusedBy == 1 ? userLimit : keyLimit)} {counter.Unit} in {windowSeconds} s for this {(refusedBy == 1 ? "user" : "API key")}; retry after {retry} s."), retry);
        }
        return new Taken(counter, userLimit, keyLimit, userUsed, keyUsed, seconds, windowSeconds, refusal);
    }

    /// <summary>The IETF RateLimit-Policy and RateLimit headers of what was counted (replacing or adding to those already set).</summary>
    private static void SetHeaders(HttpContext http, Taken taken, bool replace)
    {
        var policies = new List<string>();
        var states = new List<string>();
        foreach (var (name, limit, used) in (ReadOnlySpan<(string, int, long)>)[(taken.Counter.UserPolicy, taken.UserLimit, taken.UserUsed), (taken.Counter.KeyPolicy, taken.KeyLimit, taken.KeyUsed)])
        {
            if (limit > 0)
            {
                policies.Add(string.Create(CultureInfo.InvariantCulture, $"\"{name}\";q={limit};w={taken.WindowSeconds}"));
                states.Add(string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={Math.Max(0, limit - used)};t={taken.Seconds}"));
            }
        }
        if (policies.Count == 0 || http.Response.HasStarted)
        {
            return;
        }
        var headers = http.Response.Headers;
        if (http.Request.Path.StartsWithSegments("/openai"))
        {
            // OpenAI's own headers beside the IETF ones, which OpenAI clients read: the tighter of the user's and the key's.
            var (limit, used) = taken.KeyLimit > 0 && (taken.UserLimit <= 0 || taken.KeyLimit - taken.KeyUsed < taken.UserLimit - taken.UserUsed)
                ? (taken.KeyLimit, taken.KeyUsed) : (taken.UserLimit, taken.UserUsed);
            var unit = taken.Counter.Unit;
            headers[$"x-ratelimit-limit-{unit}"] = limit.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-remaining-{unit}"] = Math.Max(0, limit - used).ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-reset-{unit}"] = string.Create(CultureInfo.InvariantCulture, $"{taken.Seconds}s");
        }
        headers["RateLimit-Policy"] = replace || headers["RateLimit-Policy"].Count == 0 ? string.Join(", ", policies) : $"{headers["RateLimit-Policy"]}, {string.Join(", ", policies)}";
        headers["RateLimit"] = replace || headers["RateLimit"].Count == 0 ? string.Join(", ", states) : $"{headers["RateLimit"]}, {string.Join(", ", states)}";
    }

    private static int Share(int limit, double share) => limit <= 0 ? 0 : Math.Max(1, (int)Math.Floor(limit * share));

    private (long RefusedBy, long UserUsed, long KeyUsed, long LeftMs) TakeLocally(string user, string? key, int userLimit, int keyLimit, long windowMs, long amount)
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
            long Used(string k) => _local.TryGetValue(k, out var e) && e.Window == index ? e.Count : 0;
            var userUsed = Used(user);
            if (userLimit > 0 && userUsed + amount > userLimit)
            {
                return (1, userUsed, 0, left);
            }
            var keyUsed = key is null ? 0 : Used(key);
            if (key is not null && keyLimit > 0 && keyUsed + amount > keyLimit)
            {
                return (2, userUsed, keyUsed, left);
            }
            _local[user] = (index, userUsed + amount);
            if (key is not null)
            {
                _local[key] = (index, keyUsed + amount);
            }
            return (0, userUsed + amount, keyUsed + (key is null ? 0 : amount), left);
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Redis is unreachable; rate limits are counted per instance for now: {Reason}")]
    private static partial void LogRedisUnavailable(ILogger logger, string reason);
}

/// <summary>The limiter on every endpoint of the API group, after authentication and authorization.</summary>
internal sealed class RequestRateLimitFilter(RequestRateLimiter limiter) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await limiter.TryTakeAsync(context.HttpContext, context.HttpContext.RequestAborted) is { } refused ? refused : await next(context);
}
