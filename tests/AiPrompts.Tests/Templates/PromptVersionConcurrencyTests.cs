using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Templates;

/// <summary>Version numbers, the one active version and the caches under concurrency, with two Api instances.</summary>
public sealed class PromptVersionConcurrencyTests(ApiFactory fixture) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_creates_get_distinct_consecutive_numbers()
    {
        var admin = await fixture.AdminTokenAsync();
        using var setup = fixture.CreateClient(admin);
        var type = await PromptVersionContractTests.DefineTypeAsync(setup, "concurrent_creates", ["ocr_text"], ["ocr_text"]);

        var creates = Enumerable.Range(0, 24).Select(async i =>
        {
            using var client = fixture.CreateClient(admin);
            var response = await client.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = $"#{i} {{{{ocr_text}}}}" }, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();
        });
        var numbers = await Task.WhenAll(creates);

        Assert.Equal(Enumerable.Range(1, 24), numbers.Order());
        Assert.Equal(24L, await fixture.Database.ScalarAsync<long>("SELECT count(DISTINCT version_number) FROM prompt_template_versions WHERE prompt_type = $1", type));
        Assert.Equal(24L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'prompt_version.create' AND entity_id LIKE $1", type + "/%"));
    }

    [Fact]
    public async Task Concurrent_activations_leave_exactly_one_active_version_and_the_cache_agrees()
    {
        var admin = await fixture.AdminTokenAsync();
        using var client = fixture.CreateClient(admin);
        var type = await PromptVersionContractTests.DefineTypeAsync(client, "concurrent_activations", ["ocr_text"], ["ocr_text"]);
        for (var i = 1; i <= 8; i++)
        {
            (await client.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = $"v{i} {{{{ocr_text}}}}" }, Ct)).EnsureSuccessStatusCode();
        }

        for (var round = 0; round < 3; round++)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(1, 8).Select(async v =>
            {
                using var c = fixture.CreateClient(admin);
                return (await c.PostAsync($"/api/ai/prompts/{type}/{v}/activate", null, Ct)).StatusCode;
            }));
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_template_versions WHERE prompt_type = $1 AND is_active", type));
            var active = await fixture.Database.ScalarAsync<int>("SELECT version_number FROM prompt_template_versions WHERE prompt_type = $1 AND is_active", type);
            var cached = await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/{type}/active", Ct);
            Assert.Equal(active, cached.GetProperty("data").GetProperty("versionNumber").GetInt32());
        }

        // The database itself refuses a second active version, whatever the application does.
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            fixture.Database.ExecuteAsync($"UPDATE prompt_template_versions SET is_active = true WHERE prompt_type = '{type}'"));
        Assert.Equal("23505", refused.SqlState);
    }

    [Fact]
    public async Task A_read_right_after_activation_returns_the_new_version_from_every_Api_instance()
    {
        await using var peer = new PeerApi(fixture);
        var admin = await fixture.AdminTokenAsync();
        var user = await fixture.CreateUserAsync("user");
        using var first = fixture.CreateClient(admin);
        using var second = peer.CreateClient(admin);
        using var firstReader = fixture.CreateClient(user.Token);
        using var secondReader = peer.CreateClient(user.Token);
        var type = await PromptVersionContractTests.DefineTypeAsync(first, "two_hosts", ["ocr_text"], ["ocr_text"]);
        for (var i = 1; i <= 4; i++)
        {
            (await first.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = $"v{i} {{{{ocr_text}}}}" }, Ct)).EnsureSuccessStatusCode();
        }
        Assert.Equal("no_active_version", (await Problem.ReadAsync(await secondReader.GetAsync($"/api/ai/prompts/{type}/active", Ct), HttpStatusCode.NotFound)).Code);
        await peer.WaitForSubscriptionsAsync();

        for (var round = 0; round < 12; round++)
        {
            var version = round % 4 + 1;
            // Warm both instances' caches with the current version, then activate through one of them.
            await ActiveAsync(firstReader);
            await ActiveAsync(secondReader);
            var through = round % 2 == 0 ? first : second;
            (await through.PostAsync($"/api/ai/prompts/{type}/{version}/activate", null, Ct)).EnsureSuccessStatusCode();

            Assert.Equal(version, await ActiveAsync(firstReader));
            Assert.Equal(version, await ActiveAsync(secondReader));
        }

        async Task<int> ActiveAsync(HttpClient client)
        {
            var response = await client.GetAsync($"/api/ai/prompts/{type}/active", Ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return 0;
            }
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            return body.GetProperty("data").GetProperty("versionNumber").GetInt32();
        }
    }

    [Fact]
    public async Task With_Redis_down_reads_come_from_Postgres_and_an_activation_is_refused_rather_than_left_stale_in_Redis()
    {
        var admin = await fixture.AdminTokenAsync();
        using var client = fixture.CreateClient(admin);
        var type = await PromptVersionContractTests.DefineTypeAsync(client, "redis_down", ["ocr_text"], ["ocr_text"]);
        for (var i = 1; i <= 2; i++)
        {
            (await client.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = $"v{i} {{{{ocr_text}}}}" }, Ct)).EnsureSuccessStatusCode();
        }
        (await client.PostAsync($"/api/ai/prompts/{type}/1/activate", null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(1, await ActiveAsync());

        var audits = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs");
        fixture.RedisProxy.Cut();
        try
        {
            Assert.Equal(1, await ActiveAsync());
            // A change made now could leave the old copy in Redis for readers after it comes back: refused, nothing changes.
            var refused = await client.PostAsync($"/api/ai/prompts/{type}/2/activate", null, Ct);
            Assert.Equal("service_unavailable", (await Problem.ReadAsync(refused, HttpStatusCode.ServiceUnavailable)).Code);
            Assert.Equal(1, await fixture.Database.ScalarAsync<int>("SELECT version_number FROM prompt_template_versions WHERE prompt_type = $1 AND is_active", type));
            Assert.Equal(audits, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
            // Postgres is still the source of every read, and rows changed behind the caches' back are seen.
            await fixture.Database.ExecuteAsync($"UPDATE prompt_template_versions SET is_active = false WHERE prompt_type = '{type}'");
            await fixture.Database.ExecuteAsync($"UPDATE prompt_template_versions SET is_active = true WHERE prompt_type = '{type}' AND version_number = 2");
            Assert.Equal(2, await ActiveAsync());
            await fixture.Database.ExecuteAsync($"UPDATE prompt_template_versions SET is_active = false WHERE prompt_type = '{type}'");
            await fixture.Database.ExecuteAsync($"UPDATE prompt_template_versions SET is_active = true WHERE prompt_type = '{type}' AND version_number = 1");
        }
        finally
        {
            fixture.RedisProxy.Restore();
        }
        await fixture.WaitForRedisAsync();
        Assert.Equal(1, await ActiveAsync());
        (await client.PostAsync($"/api/ai/prompts/{type}/2/activate", null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(2, await ActiveAsync());

        async Task<int> ActiveAsync() =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/{type}/active", Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();
    }
}
