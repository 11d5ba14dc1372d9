using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Auth;

/// <summary>API keys carry scopes chosen when they are made; least privilege when none are chosen.</summary>
public sealed class ApiKeyScopeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(string Key, JsonElement Made)> MakeKeyAsync(string token, object body)
    {
        using var client = api.CreateClient(token);
        var response = await client.PostAsJsonAsync("/api/v1/api-keys", body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var data = JsonDocument.Parse(text).RootElement.GetProperty("data").Clone();
        return (data.GetProperty("key").GetString()!, data);
    }

    private static async Task AssertScopeRefusedAsync(HttpResponseMessage response, string scope)
    {
        var problem = await Problem.ReadAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("forbidden", problem.Code);
        Assert.Contains($"'{scope}'", problem.Root.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_super_admins_key_made_without_scopes_runs_prompts_but_cannot_touch_users_shared_keys_or_keys()
    {
        var admin = await api.AdminTokenAsync();
        var (key, made) = await MakeKeyAsync(admin, new { name = "default scopes" });
        Assert.Equal(["prompts"], made.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        using var service = api.CreateClient(key);
        var usersBefore = await api.Database.ScalarAsync<long>("SELECT count(*) FROM users");

        await AssertScopeRefusedAsync(await service.PostAsJsonAsync("/api/v1/users",
            new { email = $"evil-{Guid.NewGuid():N}@aiprompts.test", password = "a long enough password", displayName = "Evil", role = "super_admin" }, Ct), "admin");
        await AssertScopeRefusedAsync(await service.GetAsync("/api/v1/users", Ct), "admin");
        await AssertScopeRefusedAsync(await service.PutAsJsonAsync("/api/v1/ai/providers/openai/shared-key", new { key = "sk-attacker" }, Ct), "admin");
        await AssertScopeRefusedAsync(await service.PostAsJsonAsync("/api/v1/api-keys", new { name = "more" }, Ct), "admin");
        await AssertScopeRefusedAsync(await service.GetAsync("/api/v1/audit-logs", Ct), "admin");
        await AssertScopeRefusedAsync(await service.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "{{ocr_text}}" }, Ct), "templates:write");
        Assert.Equal(usersBefore, await api.Database.ScalarAsync<long>("SELECT count(*) FROM users"));
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM provider_keys WHERE owner_user_id IS NULL AND provider_id = 'openai'"));

        Assert.Equal(HttpStatusCode.Accepted, (await service.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "hi" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync("/api/v1/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync("/api/v1/ai/availability", Ct)).StatusCode);

        using var owner = api.CreateClient(admin);
        var listed = await owner.GetFromJsonAsync<JsonElement>("/api/v1/api-keys", Ct);
        var row = listed.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("id").GetGuid() == made.GetProperty("id").GetGuid());
        Assert.Equal(["prompts"], row.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Template_scopes_read_and_write_as_named_and_admin_allows_what_the_role_allows()
    {
        var admin = await api.AdminTokenAsync();
        var (reader, _) = await MakeKeyAsync(admin, new { name = "reader", scopes = new[] { "templates:read" } });
        var (writer, _) = await MakeKeyAsync(admin, new { name = "writer", scopes = new[] { "templates:write" } });
        var (full, fullMade) = await MakeKeyAsync(admin, new { name = "full", scopes = new[] { "admin", "prompts" } });
        Assert.Equal(["prompts", "admin"], fullMade.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        using var read = api.CreateClient(reader);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/api/ai/prompts/ocr_extraction", Ct)).StatusCode);
        await AssertScopeRefusedAsync(await read.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "A {{ocr_text}}" }, Ct), "templates:write");
        await AssertScopeRefusedAsync(await read.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "hi" }, Ct), "prompts");

        using var write = api.CreateClient(writer);
        Assert.Equal(HttpStatusCode.Created, (await write.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "B {{ocr_text}}" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await write.GetAsync("/api/ai/prompts/ocr_extraction", Ct)).StatusCode);

        using var everything = api.CreateClient(full);
        var created = await everything.PostAsJsonAsync("/api/v1/users",
            new { email = $"made-by-key-{Guid.NewGuid():N}@aiprompts.test", password = "a long enough password", displayName = "By key", role = "user" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await everything.PostAsJsonAsync("/api/v1/api-keys", new { name = "minted with admin" }, Ct)).StatusCode);

        // The admin scope never lifts a key above its user's role.
        var user = await api.CreateUserAsync("user");
        var (userAdminKey, _) = await MakeKeyAsync(user.Token, new { name = "user admin", scopes = new[] { "admin" } });
        using var userKey = api.CreateClient(userAdminKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await userKey.GetAsync("/api/v1/users", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"x","scopes":["root"]}""")]
    [InlineData("""{"name":"x","scopes":[]}""")]
    [InlineData("""{"name":"x","scopes":[null]}""")]
    public async Task Unknown_or_empty_scopes_are_refused_and_no_key_is_made(string body)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        var before = await api.Database.ScalarAsync<long>("SELECT count(*) FROM api_keys");

        var response = await client.PostAsync("/api/v1/api-keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Root.GetProperty("errors").TryGetProperty("scopes", out _));
        Assert.Equal(before, await api.Database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task The_OpenAPI_document_gives_each_operation_its_scope()
    {
        using var client = api.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct));
        var paths = document.RootElement.GetProperty("paths");

        static string[] ScopesOf(JsonElement operation) =>
            [.. operation.GetProperty("security")[0].GetProperty("Bearer").EnumerateArray().Select(s => s.GetString()!)];

        Assert.Equal(["admin"], ScopesOf(paths.GetProperty("/api/v1/users").GetProperty("post")));
        Assert.Equal(["prompts"], ScopesOf(paths.GetProperty("/api/v1/prompt-requests").GetProperty("post")));
        Assert.Equal(["templates:read"], ScopesOf(paths.GetProperty("/api/ai/prompts/{promptType}").GetProperty("get")));
        Assert.Equal(["templates:write"], ScopesOf(paths.GetProperty("/api/ai/prompts/{promptType}").GetProperty("post")));
        Assert.Contains("scopes", document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("CreateApiKeyRequest").GetProperty("properties").EnumerateObject().Select(p => p.Name));
    }
}
