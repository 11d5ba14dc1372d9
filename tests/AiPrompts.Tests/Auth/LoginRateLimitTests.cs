using System.Net;
using System.Net.Http.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Auth;

public sealed class SmallLoginLimitFactory : ApiFactory
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:LoginRateLimit:PermitLimit"] = "3",
        ["Auth:LoginRateLimit:PermitLimitPerAddress"] = "1000",
        ["Auth:LoginRateLimit:Window"] = "00:00:30",
    };
}

public sealed class LoginRateLimitTests(SmallLoginLimitFactory api) : IClassFixture<SmallLoginLimitFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Past_the_limit_sign_in_is_refused_with_429_and_Retry_After_even_with_the_right_password()
    {
        await api.WaitForRedisAsync(); // the other test in this class takes Redis away for a while
        var email = $"target-{Guid.NewGuid():N}@aiprompts.test";
        using var client = api.CreateClient(null, "th");
        for (var i = 0; i < 3; i++)
        {
            var attempt = await client.PostAsJsonAsync("/api/v1/auth/token", new { email, password = $"guess {i}" }, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
        }

        var limited = await client.PostAsJsonAsync("/api/v1/auth/token", new { email, password = "guess 4" }, Ct);

        var problem = await Problem.ReadAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.Equal("rate_limited", problem.Code);
        Assert.Equal("มีการพยายามมากเกินไป กรุณารอสักครู่", problem.UserMessage);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 30);

        // Another email is not affected by this one's attempts.
        var other = await client.PostAsJsonAsync("/api/v1/auth/token", new { email = ApiFactory.AdminEmail, password = ApiFactory.AdminPassword }, Ct);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task With_Redis_unreachable_the_limit_still_holds_in_memory()
    {
        var email = $"offline-{Guid.NewGuid():N}@aiprompts.test";
        using var client = api.CreateClient();
        api.RedisProxy.Cut();
        try
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 5; i++)
            {
                statuses.Add((await client.PostAsJsonAsync("/api/v1/auth/token", new { email, password = "nope" }, Ct)).StatusCode);
            }
            Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        }
        finally
        {
            api.RedisProxy.Restore();
            await api.WaitForRedisAsync();
        }
    }
}
