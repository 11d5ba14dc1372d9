using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Auth;

/// <summary>Requests per window per user and per API key: one count in Redis for every Api instance, a per-instance one without Redis.</summary>
public sealed class RequestRateLimitTests(RequestRateLimitTests.Fixture fixture) : IClassFixture<RequestRateLimitTests.Fixture>
{
    public const int UserLimit = 50;
    public const int KeyLimit = 20;

    public sealed class Fixture : ApiFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RateLimits:UserPermitLimit"] = UserLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:ApiKeyPermitLimit"] = KeyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:Window"] = "01:00:00", // one window for the whole test: no roll-over in the middle of a burst
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_Api_instances_and_200_concurrent_submits_let_exactly_the_limit_through_with_the_IETF_headers()
    {
        await fixture.WaitForRedisAsync();
        var user = await fixture.CreateUserAsync("user");
        await using var peer = new PeerApi(fixture);
        using var first = fixture.CreateClient(user.Token);
        using var second = peer.CreateClient(user.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? first : second).PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = $"burst {i}" }, Ct)));
        try
        {
            var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Accepted);
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Equal(UserLimit, accepted);
            Assert.Equal(200 - UserLimit, refused.Count);
            Assert.Equal(UserLimit, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));

            // The refusal: a problem with the stable code, Retry-After, and the IETF headers (quota, window; remaining, reset).
            var one = refused[0];
            var body = JsonDocument.Parse(await one.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("rate_limited", body.GetProperty("code").GetString());
            var retryAfter = int.Parse(one.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 3600);
            Assert.Equal($"\"user\";q={UserLimit};w=3600", one.Headers.GetValues("RateLimit-Policy").Single());
            Assert.Matches($"^\"user\";r=0;t={retryAfter}$", one.Headers.GetValues("RateLimit").Single());
            var allowed = responses.First(r => r.StatusCode == HttpStatusCode.Accepted);
            // A submit queues model work: its expected tokens are counted too, under their own policy.
            Assert.Matches("^\"user\";r=[0-9]+;t=[0-9]+, \"user-tokens\";r=[0-9]+;t=[0-9]+$", allowed.Headers.GetValues("RateLimit").Single());
            Assert.Matches("^\"user\";q=50;w=3600, \"user-tokens\";q=[0-9]+;w=3600$", allowed.Headers.GetValues("RateLimit-Policy").Single());
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task An_API_key_has_its_own_limit_within_its_users()
    {
        await fixture.WaitForRedisAsync();
        var user = await fixture.CreateUserAsync("user");
        using var signedIn = fixture.CreateClient(user.Token);
        var key = JsonDocument.Parse(await (await signedIn.PostAsJsonAsync("/api/v1/api-keys", new { name = "kiosk" }, Ct)).Content.ReadAsStringAsync(Ct))
            .RootElement.GetProperty("data").GetProperty("key").GetString()!;
        using var withKey = fixture.CreateClient(key);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < KeyLimit + 2; i++)
        {
            using var response = await withKey.GetAsync("/api/v1/me", Ct);
            statuses.Add(response.StatusCode);
            if (i == 0)
            {
                Assert.Equal($"\"user\";q={UserLimit};w=3600, \"api-key\";q={KeyLimit};w=3600", response.Headers.GetValues("RateLimit-Policy").Single());
            }
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, KeyLimit).Concat([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]), statuses);
        // The key is spent; its user, signed in, still has the rest of theirs (the key's requests counted in it).
        using var still = await signedIn.GetAsync("/api/v1/me", Ct);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        Assert.Matches($"^\"user\";r={UserLimit - KeyLimit - 2};", still.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task With_Redis_cut_each_instance_still_limits_at_its_share()
    {
        await fixture.WaitForRedisAsync();
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        fixture.RedisProxy.Cut();
        try
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < UserLimit / 2 + 3; i++)
            {
                using var response = await client.GetAsync("/api/v1/me", Ct);
                statuses.Add(response.StatusCode);
            }
            // Half the limit (RateLimits:FallbackShare) on this instance alone, then refused.
            Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, UserLimit / 2).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)), statuses);
        }
        finally
        {
            fixture.RedisProxy.Restore();
            await fixture.WaitForRedisAsync();
        }
    }
}
