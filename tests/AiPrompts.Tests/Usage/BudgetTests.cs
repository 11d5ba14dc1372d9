using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Core.Budgets;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Usage;

/// <summary>
/// Budgets on the real database: admission as each job is inserted, exact across two Api instances; soft and hard
/// limits; release however a job ends (a cancel, retries, a Worker SIGKILL); what <c>/api/v1/budgets/me</c> shows.
/// </summary>
public sealed class BudgetTests(BudgetTests.Fixture fixture) : IClassFixture<BudgetTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        protected override IReadOnlyDictionary<string, string?> JobSettings => new Dictionary<string, string?>
        {
            ["Jobs:Concurrency"] = "8",
            ["Jobs:LeaseDuration"] = "00:00:02",
            ["Jobs:HeartbeatInterval"] = "00:00:00.300",
            ["Jobs:PollInterval"] = "00:00:00.500",
            ["Jobs:IdlePollInterval"] = "00:00:00.500",
            ["Jobs:RetryBaseDelay"] = "00:00:00.020",
            ["Jobs:RetryMaxDelay"] = "00:00:00.050",
            ["Jobs:ShutdownGrace"] = "00:00:02",
            ["PromptRequests:MaxAttempts"] = "4",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What a prompt of this many characters reserves in tokens: a token per four characters, and the default answer of 1,024.</summary>
    private static long Estimate(string text) => (text.Length + 3) / 4 + 1024;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task SetBudgetAsync(string path, object limits)
    {
        using var admin = fixture.CreateClient(await fixture.AdminTokenAsync());
        await JsonAsync(await admin.PutAsJsonAsync($"/api/v1/budgets/{path}", limits, Ct), HttpStatusCode.OK);
    }

    private Task<decimal> HeldCostAsync(string kind, Guid subject) =>
        fixture.Database.ScalarAsync<decimal>("SELECT coalesce(sum(cost), 0) FROM budget_holds WHERE subject_kind = $1 AND subject_id = $2", kind, subject);

    private Task<long> HeldTokensAsync(string kind, Guid subject) =>
        fixture.Database.ScalarAsync<long>("SELECT coalesce(sum(tokens), 0)::bigint FROM budget_holds WHERE subject_kind = $1 AND subject_id = $2", kind, subject);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Two_Api_instances_and_200_concurrent_submits_never_exceed_a_budget_and_the_refusals_say_when_it_resets()
    {
        var user = await fixture.CreateUserAsync("user");
        var estimate = Estimate("burst 000");
        const int fits = 37;
        await SetBudgetAsync($"users/{user.Id}", new { tokensPerDay = estimate * fits + estimate / 2 });
        await using var peer = new PeerApi(fixture);
        using var first = fixture.CreateClient(user.Token);
        using var second = peer.CreateClient(user.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? first : second).PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = $"burst {i:000}" }, Ct)));
        try
        {
            // Exactly what fits: the budget is never exceeded, not even by one request.
            Assert.Equal(fits, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
            var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Accepted).ToList();
            Assert.All(refused, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
            Assert.Equal(fits, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));
            Assert.Equal(fits, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE user_id = $1", user.Id));
            Assert.Equal(estimate * fits, await HeldTokensAsync("user", user.Id));
            // Each admitted job was admitted ahead of its insert, which took the reservation over; the refused left none.
            Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM budget_reservations WHERE user_id = $1", user.Id));

            var body = await JsonAsync(refused[0], HttpStatusCode.TooManyRequests);
            Assert.Equal("budget_exceeded", body.GetProperty("code").GetString());
            var tomorrow = DateTime.UtcNow.Date.AddDays(1);
            Assert.Contains(tomorrow.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture), body.GetProperty("userMessage").GetString(), StringComparison.Ordinal);
            var retryAfter = long.Parse(refused[0].Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 86_400);
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
    public async Task A_soft_threshold_warns_and_audits_once_a_hard_limit_refuses_in_Thai_and_a_cancel_gives_the_reservation_back()
    {
        var user = await fixture.CreateUserAsync("user");
        const string text = "a prompt of forty characters, give or ta";
        var estimate = Estimate(text);
        var ceiling = estimate * 3 + estimate / 2;
        await SetBudgetAsync($"users/{user.Id}", new { tokensPerDay = ceiling, softPercent = 50 });
        using var client = fixture.CreateClient(user.Token);
        using var thai = fixture.CreateClient(user.Token, "th");

        var ids = new List<Guid>();
        var warnings = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = text }, Ct);
            ids.Add((await JsonAsync(response, HttpStatusCode.Accepted)).GetProperty("data").GetProperty("id").GetGuid());
            warnings.Add(response.Headers.TryGetValues("Budget-Warning", out var values) ? values.Single() : null);
        }
        // Under half after the first; at 57% and 85% after the next two (reserved counts), with one audit row for the crossing.
        Assert.Null(warnings[0]);
        Assert.Matches("^scope=\"user\", limit=\"tokensPerDay\", percent=57, soft=50, resets=\"[0-9T:-]+Z\"$", warnings[1]);
        Assert.Contains("percent=85", warnings[2], StringComparison.Ordinal);
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_logs WHERE action = 'budget.soft_limit_reached' AND actor_user_id = $1", user.Id));

        using (var refused = await thai.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = text }, Ct))
        {
            var problem = await JsonAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.Equal("budget_exceeded", problem.GetProperty("code").GetString());
            Assert.StartsWith("งบประมาณ AI ของคุณ", problem.GetProperty("userMessage").GetString(), StringComparison.Ordinal);
            Assert.Contains("tokensPerDay", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(3L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));

        var mine = (await JsonAsync(await client.GetAsync("/api/v1/budgets/me", Ct), HttpStatusCode.OK)).GetProperty("data");
        var limit = mine.EnumerateArray().Single().GetProperty("limits").EnumerateArray().Single();
        Assert.Equal(("tokensPerDay", (decimal)ceiling, 0m, (decimal)(estimate * 3), (decimal)(ceiling - estimate * 3), true, false),
            (limit.GetProperty("limit").GetString(), limit.GetProperty("ceiling").GetDecimal(), limit.GetProperty("used").GetDecimal(), limit.GetProperty("reserved").GetDecimal(),
             limit.GetProperty("remaining").GetDecimal(), limit.GetProperty("softReached").GetBoolean(), limit.GetProperty("reached").GetBoolean()));

        // A cancelled request (it never ran) gives its reservation back at once: the next one fits again.
        await JsonAsync(await client.PostAsync($"/api/v1/prompt-requests/{ids[0]}/cancel", null, Ct), HttpStatusCode.OK);
        Assert.Equal(estimate * 2, await HeldTokensAsync("user", user.Id));
        await JsonAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = text }, Ct), HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task A_role_budget_applies_to_users_without_their_own_and_an_API_key_has_its_own_budget()
    {
        var admin = await fixture.CreateUserAsync("admin");
        var estimate = Estimate("role budget");
        await SetBudgetAsync("roles/admin", new { tokensPerDay = estimate * 2 });
        using var signedIn = fixture.CreateClient(admin.Token);
        var key = (await JsonAsync(await signedIn.PostAsJsonAsync("/api/v1/api-keys", new { name = "kiosk" }, Ct), HttpStatusCode.Created)).GetProperty("data");
        var keyId = key.GetProperty("id").GetGuid();
        using var withKey = fixture.CreateClient(key.GetProperty("key").GetString()!);
        await SetBudgetAsync($"api-keys/{keyId}", new { tokensPerDay = estimate });
        try
        {
            // The key's budget fits one; the user's (the role's) two, the key's request counted in both.
            await JsonAsync(await withKey.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "role budget" }, Ct), HttpStatusCode.Accepted);
            var keyRefused = await JsonAsync(await withKey.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "role budget" }, Ct), HttpStatusCode.TooManyRequests);
            Assert.Contains("api_key", keyRefused.GetProperty("message").GetString(), StringComparison.Ordinal);
            var mine = (await JsonAsync(await withKey.GetAsync("/api/v1/budgets/me", Ct), HttpStatusCode.OK)).GetProperty("data");
            Assert.Equal(["user", "api_key"], mine.EnumerateArray().Select(b => b.GetProperty("appliesTo").GetString()));
            Assert.Equal("role", mine[0].GetProperty("budget").GetProperty("scope").GetString());

            await JsonAsync(await signedIn.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "role budget" }, Ct), HttpStatusCode.Accepted);
            var userRefused = await JsonAsync(await signedIn.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "role budget" }, Ct), HttpStatusCode.TooManyRequests);
            Assert.Contains("The role budget", userRefused.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(estimate * 2, await HeldTokensAsync("user", admin.Id));
            Assert.Equal(estimate, await HeldTokensAsync("api_key", keyId));
        }
        finally
        {
            using var root = fixture.CreateClient(await fixture.AdminTokenAsync());
            await JsonAsync(await root.DeleteAsync("/api/v1/budgets/roles/admin", Ct), HttpStatusCode.NoContent);
        }
    }

    [Fact]
    public async Task Only_a_super_admin_sets_budgets_every_change_is_audited_and_bad_limits_change_nothing()
    {
        var user = await fixture.CreateUserAsync("user");
        var admin = await fixture.CreateUserAsync("admin");
        using var notAllowed = fixture.CreateClient(admin.Token);
        await JsonAsync(await notAllowed.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { costPerDay = 1 }, Ct), HttpStatusCode.Forbidden);
        await JsonAsync(await notAllowed.GetAsync("/api/v1/budgets", Ct), HttpStatusCode.Forbidden);

        using var root = fixture.CreateClient(await fixture.AdminTokenAsync());
        var bad = await JsonAsync(await root.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { costPerDay = -1, tokensPerDay = -5, softPercent = 0 }, Ct), HttpStatusCode.BadRequest);
        Assert.All(["costPerDay", "tokensPerDay", "softPercent"], field => Assert.True(bad.GetProperty("errors").TryGetProperty(field, out _), field));
        await JsonAsync(await root.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { softPercent = 50 }, Ct), HttpStatusCode.BadRequest);
        await JsonAsync(await root.PutAsJsonAsync("/api/v1/budgets/roles/wizard", new { costPerDay = 1 }, Ct), HttpStatusCode.BadRequest);
        await JsonAsync(await root.PutAsJsonAsync($"/api/v1/budgets/users/{Guid.NewGuid()}", new { costPerDay = 1 }, Ct), HttpStatusCode.NotFound);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM budgets WHERE user_id = $1", user.Id));

        var set = (await JsonAsync(await root.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { costPerDay = 1.5, costPerMonth = 20 }, Ct), HttpStatusCode.OK)).GetProperty("data");
        Assert.Equal((1.5m, 20m, 80), (set.GetProperty("costPerDay").GetDecimal(), set.GetProperty("costPerMonth").GetDecimal(), set.GetProperty("softPercent").GetInt32()));
        await JsonAsync(await root.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { costPerDay = 2 }, Ct), HttpStatusCode.OK);
        await JsonAsync(await root.DeleteAsync($"/api/v1/budgets/users/{user.Id}", Ct), HttpStatusCode.NoContent);
        await JsonAsync(await root.DeleteAsync($"/api/v1/budgets/users/{user.Id}", Ct), HttpStatusCode.NotFound);
        var budgetId = set.GetProperty("id").GetGuid().ToString();
        Assert.Equal("budget.created,budget.updated,budget.deleted", await fixture.Database.ScalarAsync<string>(
            "SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_logs WHERE entity_type = 'budget' AND entity_id = $1", budgetId));
    }

    [Fact]
    public async Task A_job_retried_four_times_settles_once_with_each_attempt_counted_as_spent()
    {
        var user = await fixture.CreateUserAsync("user");
        await fixture.SetOpenAiKeyAsync(user);
        await SetBudgetAsync($"users/{user.Id}", new { costPerDay = 1, tokensPerDay = 1_000_000 });
        var marker = $"retry-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = (context, request) => request.Body.Contains(marker, StringComparison.Ordinal) && Interlocked.Increment(ref calls) < 4
            ? FakeVendor.JsonAsync(context, 500, """{"error":{"message":"try again","type":"server_error"}}""")
            : FakeVendor.ChatStreamAsync(context, "after three failures");
        using var client = fixture.CreateClient(user.Token);
        await using var worker = await fixture.StartWorkerAsync();

        var submitted = await JsonAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests",
            new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini", purpose = new { code = "budget.test", text = "why" } }, Ct), HttpStatusCode.Accepted);
        var id = submitted.GetProperty("data").GetProperty("id").GetGuid();
        var done = await JobsFactory.WaitForFinalAsync(client, id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(4, Volatile.Read(ref calls));

        // Four attempts, four usage rows; the reservation released once, to nothing held; spent = the rows' cost.
        Assert.Equal(4L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE subject_id = $1", id));
        Assert.Equal(0m, await HeldCostAsync("user", user.Id));
        Assert.Equal(0L, await HeldTokensAsync("user", user.Id));
        var spent = await fixture.Database.ScalarAsync<decimal>("SELECT sum(coalesce(cost, 0)) FROM usage_events WHERE user_id = $1", user.Id);
        Assert.True(spent > 0);
        var limits = (await JsonAsync(await client.GetAsync("/api/v1/budgets/me", Ct), HttpStatusCode.OK)).GetProperty("data")[0].GetProperty("limits");
        var cost = limits.EnumerateArray().Single(l => l.GetProperty("limit").GetString() == "costPerDay");
        Assert.Equal((spent, 0m, 1m - spent), (cost.GetProperty("used").GetDecimal(), cost.GetProperty("reserved").GetDecimal(), cost.GetProperty("remaining").GetDecimal()));
        var tokens = limits.EnumerateArray().Single(l => l.GetProperty("limit").GetString() == "tokensPerDay");
        Assert.Equal(4m, tokens.GetProperty("used").GetDecimal()); // the one answer's 3 + 1 tokens; the failures used none

        // The usage rows and reports carry the purpose.
        var byPurpose = await JsonAsync(await client.GetAsync("/api/v1/usage?groupBy=purpose,status", Ct), HttpStatusCode.OK);
        Assert.Equal(["budget.test/failed", "budget.test/succeeded"], byPurpose.GetProperty("groups").EnumerateArray()
            .Select(g => $"{g.GetProperty("group").GetProperty("purpose").GetString()}/{g.GetProperty("group").GetProperty("status").GetString()}"));
    }

    [Fact]
    public async Task A_Worker_SIGKILLed_mid_job_leaves_no_reservation_behind_once_the_job_ends_elsewhere()
    {
        var user = await fixture.CreateUserAsync("user");
        await fixture.SetOpenAiKeyAsync(user);
        await SetBudgetAsync($"users/{user.Id}", new { costPerDay = 1 });
        var marker = $"kill-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = async (context, request) =>
        {
            if (request.Body.Contains(marker, StringComparison.Ordinal) && Interlocked.Increment(ref calls) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            await FakeVendor.ChatStreamAsync(context, "the rescued answer");
        };
        using var client = fixture.CreateClient(user.Token);
        Guid id;
        await using (var doomed = await fixture.StartWorkerAsync())
        {
            var submitted = await JsonAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests",
                new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini" }, Ct), HttpStatusCode.Accepted);
            id = submitted.GetProperty("data").GetProperty("id").GetGuid();
            await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 1), TimeSpan.FromSeconds(10), "the first worker to call the vendor");
            Assert.True(await HeldCostAsync("user", user.Id) > 0);
            doomed.Signal("KILL");
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        Assert.True(await HeldCostAsync("user", user.Id) > 0, "the killed worker's job still holds its reservation while it is unfinished");
        await using (await fixture.StartWorkerAsync())
        {
            Assert.Equal("completed", (await JobsFactory.WaitForFinalAsync(client, id)).GetProperty("status").GetString());
        }
        Assert.Equal(0m, await HeldCostAsync("user", user.Id));
        Assert.Equal(0L, await HeldTokensAsync("user", user.Id));
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT attempt FROM jobs WHERE subject_id = $1", id));
    }

    [Fact]
    public async Task An_admission_whose_job_is_never_saved_is_given_back_at_once_when_the_save_fails_and_by_the_Worker_after_an_Api_crash()
    {
        var user = await fixture.CreateUserAsync("user");
        const string text = "one key, ten submits";
        var estimate = Estimate(text);
        await SetBudgetAsync($"users/{user.Id}", new { tokensPerDay = estimate * 100 });
        using var client = fixture.CreateClient(user.Token);
        var key = $"key-{Guid.NewGuid():N}";

        // Ten submits with one Idempotency-Key at once: each is admitted before its save, one job is saved, and a save that
        // loses the race to the key gives its admission back before it replays the winner.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests") { Content = JsonContent.Create(new { promptType = "text", promptText = text }) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request, Ct);
            return response.StatusCode;
        }));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE user_id = $1", user.Id));
        Assert.Equal(estimate, await HeldTokensAsync("user", user.Id));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM budget_reservations WHERE user_id = $1", user.Id));

        // An Api that died between admitting a job and saving it: the admission holds until the Worker's sweep gives it back.
        var reservations = fixture.Services.GetRequiredService<BudgetReservations>();
        await reservations.ReserveAsync(Guid.CreateVersion7(), new JobCharge(user.Id, null, estimate, 0m), DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5), Ct);
        Assert.Equal(estimate * 2, await HeldTokensAsync("user", user.Id));
        await using (await fixture.StartWorkerAsync(new Dictionary<string, string> { ["Budgets__SweepInterval"] = "00:00:01" }))
        {
            await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<long>(
                "SELECT count(*) FROM budget_reservations WHERE user_id = $1", user.Id) == 0, TimeSpan.FromSeconds(20), "the Worker's sweep");
            await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<string>(
                "SELECT status FROM jobs WHERE user_id = $1", user.Id) == "succeeded", TimeSpan.FromSeconds(20), "the saved job to run");
        }
        // The job's end gave its own reservation back, the sweep the orphan's: nothing is held.
        Assert.Equal(0L, await HeldTokensAsync("user", user.Id));
        Assert.Equal(0m, await HeldCostAsync("user", user.Id));
    }
}

/// <summary>Tokens per minute per user, counted as each job is queued: exact across instances, a per-instance share with Redis cut.</summary>
public sealed class TokenRateLimitTests(TokenRateLimitTests.Fixture fixture) : IClassFixture<TokenRateLimitTests.Fixture>
{
    private const string Text = "tokens per minute";
    private static readonly long Estimate = (Text.Length + 3) / 4 + 1024;

    public sealed class Fixture : ApiFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RateLimits:UserTokenLimit"] = (Estimate * 4).ToString(CultureInfo.InvariantCulture),
            ["RateLimits:Window"] = "01:00:00",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<HttpStatusCode>> SubmitAsync(HttpClient client, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = Text }, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                Assert.Equal("rate_limited", body.RootElement.GetProperty("code").GetString());
                Assert.Contains("tokens", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                Assert.True(response.Headers.Contains("Retry-After"));
            }
        }
        return statuses;
    }

    [Fact]
    public async Task A_users_expected_tokens_are_limited_per_window_across_instances_and_per_instance_with_Redis_cut()
    {
        await fixture.WaitForRedisAsync();
        var user = await fixture.CreateUserAsync("user");
        await using var peer = new PeerApi(fixture);
        using var first = fixture.CreateClient(user.Token);
        using var second = peer.CreateClient(user.Token);
        var statuses = (await SubmitAsync(first, 2)).Concat(await SubmitAsync(second, 3)).ToList();
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(4L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));

        var other = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(other.Token);
        fixture.RedisProxy.Cut();
        try
        {
            // Half the limit (RateLimits:FallbackShare) on this instance alone.
            Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], await SubmitAsync(client, 3));
        }
        finally
        {
            fixture.RedisProxy.Restore();
            await fixture.WaitForRedisAsync();
        }
    }
}
