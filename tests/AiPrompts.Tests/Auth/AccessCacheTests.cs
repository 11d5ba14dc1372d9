using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Auth;

/// <summary>
/// Authentication reads users and keys from an in-process cache; a change of access must still take
/// effect at once on every Api instance, not when a cache entry expires.
/// </summary>
public sealed class AccessCacheTests(ApiFactory fixture) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disabling_a_user_or_changing_their_role_ends_their_access_at_once_on_every_instance()
    {
        await using var peer = new PeerApi(fixture);
        using var admin = fixture.CreateClient(await fixture.AdminTokenAsync());
        var user = await fixture.CreateUserAsync("admin");
        using var here = fixture.CreateClient(user.Token);
        using var there = peer.CreateClient(user.Token);
        await peer.WaitForSubscriptionsAsync();
        var key = (await (await here.PostAsJsonAsync("/api/v1/api-keys", new { name = "app" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("data").GetProperty("key").GetString()!;
        using var keyThere = peer.CreateClient();
        keyThere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        // Warm both instances' caches.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/api/v1/me", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await there.GetAsync("/api/v1/me", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await keyThere.GetAsync("/api/v1/me", Ct)).StatusCode);
        }

        (await admin.PostAsync($"/api/v1/users/{user.Id}/disable", null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await there.GetAsync("/api/v1/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await here.GetAsync("/api/v1/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await keyThere.GetAsync("/api/v1/me", Ct)).StatusCode);

        // Role change: the old token's stamp no longer matches anywhere.
        var other = await fixture.CreateUserAsync("admin");
        using var otherThere = peer.CreateClient(other.Token);
        Assert.Equal(HttpStatusCode.OK, (await otherThere.GetAsync("/api/v1/me", Ct)).StatusCode);
        (await admin.PutAsJsonAsync($"/api/v1/users/{other.Id}/role", new { role = "user" }, Ct)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherThere.GetAsync("/api/v1/me", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_API_key_is_refused_at_once_on_every_instance()
    {
        await using var peer = new PeerApi(fixture);
        var user = await fixture.CreateUserAsync("user");
        using var here = fixture.CreateClient(user.Token);
        await peer.WaitForSubscriptionsAsync();
        var made = (await (await here.PostAsJsonAsync("/api/v1/api-keys", new { name = "app" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data");
        using var keyThere = peer.CreateClient();
        keyThere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", made.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await keyThere.GetAsync("/api/v1/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await keyThere.GetAsync("/api/v1/me", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await here.DeleteAsync($"/api/v1/api-keys/{made.GetProperty("id").GetGuid()}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await keyThere.GetAsync("/api/v1/me", Ct)).StatusCode);
    }
}
