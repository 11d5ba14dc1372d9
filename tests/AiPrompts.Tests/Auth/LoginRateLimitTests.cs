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
        ["Auth:LoginRateLimit:AccountSoftLimit"] = "6",
        ["Auth:LoginRateLimit:AccountBackoff"] = "00:00:02",
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

    private HttpClient ClientAt(string address)
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add(ClientAddressFilter.TestClientAddressHeader, address);
        return client;
    }

    [Fact]
    public async Task A_stranger_guessing_from_one_address_does_not_lock_the_owner_out_from_another()
    {
        await api.WaitForRedisAsync();
        var owner = await api.CreateUserAsync("user");
        using var attacker = ClientAt("203.0.113.7");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = $"guess {i}" }, Ct)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = owner.Password }, Ct)).StatusCode);

        using var home = ClientAt("198.51.100.20");
        Assert.Equal(HttpStatusCode.OK, (await home.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = owner.Password }, Ct)).StatusCode);
    }

    [Fact]
    public async Task Guesses_from_many_addresses_slow_the_account_down_without_walling_it_off()
    {
        await api.WaitForRedisAsync();
        var owner = await api.CreateUserAsync("user");
        // Six addresses, two wrong guesses each: the account's soft limit of six failures is passed.
        for (var a = 0; a < 6; a++)
        {
            using var guesser = ClientAt($"203.0.113.{100 + a}");
            for (var i = 0; i < 2; i++)
            {
                var attempt = await guesser.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = $"guess {a}-{i}" }, Ct);
                Assert.True(attempt.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests);
            }
        }

        // The owner, from an address of their own: at most one back-off away, never the whole window.
        using var home = ClientAt("198.51.100.77");
        var started = DateTimeOffset.UtcNow;
        HttpResponseMessage answer;
        var tries = 0;
        while ((answer = await home.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = owner.Password }, Ct)).StatusCode == HttpStatusCode.TooManyRequests)
        {
            var problem = await Problem.ReadAsync(answer, HttpStatusCode.TooManyRequests);
            Assert.Equal("rate_limited", problem.Code);
            var retryAfter = int.Parse(answer.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 2);
            Assert.True(++tries < 5, "the owner was kept out");
            await Task.Delay(TimeSpan.FromSeconds(retryAfter), Ct);
        }
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        // A guesser hitting the account again right away is slowed: the back-off was just used.
        using var late = ClientAt("203.0.113.200");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await late.PostAsJsonAsync("/api/v1/auth/token", new { email = owner.Email, password = "again" }, Ct)).StatusCode);
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
