using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Auth;

public sealed class ApiKeyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> Data(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("data").Clone();

    [Fact]
    public async Task A_key_is_shown_once_stored_only_as_a_hash_and_works_as_a_bearer_token()
    {
        var owner = await api.CreateUserAsync("admin");
        using var client = api.CreateClient(owner.Token);

        var created = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "billing service" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await Data(created)).GetProperty("key").GetString()!;
        Assert.StartsWith("aip_", key, StringComparison.Ordinal);

        var listed = await client.GetStringAsync("/api/v1/api-keys", Ct);
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.Contains("billing service", listed, StringComparison.Ordinal);

        var dump = await api.Database.ScalarAsync<string>("SELECT string_agg(t::text, ' ') FROM api_keys t");
        Assert.DoesNotContain(key, dump, StringComparison.Ordinal);
        Assert.DoesNotContain(key[12..], dump, StringComparison.Ordinal);

        using var service = api.CreateClient(key);
        var me = await Data(await service.GetAsync("/api/v1/me", Ct));
        Assert.Equal(owner.Email, me.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("api_key", me.GetProperty("authMethod").GetString());
    }

    [Fact]
    public async Task A_key_cannot_manage_keys_so_a_leaked_key_cannot_mint_more()
    {
        var owner = await api.CreateUserAsync("user");
        using var client = api.CreateClient(owner.Token);
        var key = (await Data(await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "svc" }, Ct))).GetProperty("key").GetString()!;
        using var service = api.CreateClient(key);

        var mint = await service.PostAsJsonAsync("/api/v1/api-keys", new { name = "another" }, Ct);

        Assert.Equal("forbidden", (await Problem.ReadAsync(mint, HttpStatusCode.Forbidden)).Code);
    }

    [Fact]
    public async Task Revoked_expired_unknown_keys_and_keys_of_disabled_users_are_refused()
    {
        var owner = await api.CreateUserAsync("user");
        using var client = api.CreateClient(owner.Token);
        var made = await Data(await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "to revoke" }, Ct));
        var revokedKey = made.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/api-keys/{made.GetProperty("id").GetGuid()}", Ct)).StatusCode);

        var second = await Data(await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "soon expired", expiresAt = DateTimeOffset.UtcNow.AddSeconds(2) }, Ct));
        var expiringKey = second.GetProperty("key").GetString()!;

        var third = await Data(await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "owner disabled" }, Ct));
        var ownerKey = third.GetProperty("key").GetString()!;
        using (var works = api.CreateClient(ownerKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await works.GetAsync("/api/v1/me", Ct)).StatusCode);
        }
        using var admin = api.CreateClient(await api.AdminTokenAsync());
        (await admin.PostAsync($"/api/v1/users/{owner.Id}/disable", null, Ct)).EnsureSuccessStatusCode();

        await Task.Delay(2500, Ct);
        foreach (var key in new[] { revokedKey, expiringKey, ownerKey, "aip_" + new string('A', 43) })
        {
            using var service = api.CreateClient(key);
            await Problem.ReadAsync(await service.GetAsync("/api/v1/me", Ct), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Another_users_key_cannot_be_revoked_it_is_simply_not_found()
    {
        var alice = await api.CreateUserAsync("admin");
        var bob = await api.CreateUserAsync("admin");
        using var asAlice = api.CreateClient(alice.Token);
        using var asBob = api.CreateClient(bob.Token);
        var aliceKey = await Data(await asAlice.PostAsJsonAsync("/api/v1/api-keys", new { name = "alice's" }, Ct));

        var attempt = await asBob.DeleteAsync($"/api/v1/api-keys/{aliceKey.GetProperty("id").GetGuid()}", Ct);

        Assert.Equal("not_found", (await Problem.ReadAsync(attempt, HttpStatusCode.NotFound)).Code);
        Assert.DoesNotContain("alice's", await asBob.GetStringAsync("/api/v1/api-keys", Ct), StringComparison.Ordinal);
        using var stillWorks = api.CreateClient(aliceKey.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await stillWorks.GetAsync("/api/v1/me", Ct)).StatusCode);
    }
}
