using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace AiPrompts.Tests.Users;

public sealed class UsersTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_super_admin_creates_lists_and_reads_users_and_each_change_is_audited()
    {
        using var admin = api.CreateClient(await api.AdminTokenAsync());
        var email = $"Mixed.Case-{Guid.NewGuid():N}@Example.com";

        var created = await admin.PostAsJsonAsync("/api/v1/users", new { email, password = "long enough password", displayName = "Ann", role = "admin" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("data");
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal(email.ToLowerInvariant(), body.GetProperty("email").GetString());
        Assert.False(body.TryGetProperty("passwordHash", out _));
        Assert.Equal(7, id.Version);

        var one = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/users/{id}", Ct)).RootElement.GetProperty("data");
        Assert.Equal("admin", one.GetProperty("role").GetString());
        var admins = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/users?role=admin", Ct)).RootElement.GetProperty("data");
        Assert.Contains(admins.EnumerateArray(), u => u.GetProperty("id").GetGuid() == id);

        Assert.Equal(1, await api.Database.ScalarAsync<int>("SELECT count(*) FROM audit_logs WHERE action = 'user.create' AND entity_id = $1", id.ToString()));
        var audit = await api.Database.ScalarAsync<string>("SELECT after::text FROM audit_logs WHERE action = 'user.create' AND entity_id = $1", id.ToString());
        Assert.DoesNotContain("password", audit, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("long enough", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_email_twice_is_a_409()
    {
        using var admin = api.CreateClient(await api.AdminTokenAsync());
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        (await admin.PostAsJsonAsync("/api/v1/users", new { email, password = "long enough password", displayName = "A", role = "user" }, Ct)).EnsureSuccessStatusCode();

        var again = await admin.PostAsJsonAsync("/api/v1/users", new { email = email.ToUpperInvariant(), password = "long enough password", displayName = "B", role = "user" }, Ct);

        Assert.Equal("email_taken", (await Problem.ReadAsync(again, HttpStatusCode.Conflict)).Code);
    }

    [Fact]
    public async Task Paging_walks_every_user_once_newest_first()
    {
        using var admin = api.CreateClient(await api.AdminTokenAsync());
        for (var i = 0; i < 5; i++)
        {
            await api.CreateUserAsync("user");
        }
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/users?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}", Ct)).RootElement;
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(u => u.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(await api.Database.ScalarAsync<int>("SELECT count(*) FROM users"), seen.Count);
        Assert.Equal(seen.OrderByDescending(g => g.ToString()), seen);
        await Problem.ReadAsync(await admin.GetAsync("/api/v1/users?limit=0", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_super_admin_cannot_disable_or_demote_themselves()
    {
        var me = await api.CreateUserAsync("super_admin");
        using var client = api.CreateClient(me.Token);

        var disable = await client.PostAsync($"/api/v1/users/{me.Id}/disable", null, Ct);
        var demote = await client.PutAsJsonAsync($"/api/v1/users/{me.Id}/role", new { role = "user" }, Ct);

        Assert.Equal("cannot_change_self", (await Problem.ReadAsync(disable, HttpStatusCode.BadRequest)).Code);
        Assert.Equal("cannot_change_self", (await Problem.ReadAsync(demote, HttpStatusCode.BadRequest)).Code);
    }

    [Fact]
    public async Task Two_super_admins_disabling_each_other_at_once_leave_at_least_one_active()
    {
        // A separate set of super admins: the bootstrap one is disabled first so these two are the only ones.
        await using var isolated = new ApiFactory();
        await isolated.InitializeAsync();
        var a = await isolated.CreateUserAsync("super_admin");
        var b = await isolated.CreateUserAsync("super_admin");
        using var asA = isolated.CreateClient(a.Token);
        var rootId = await isolated.Database.ScalarAsync<Guid>("SELECT id FROM users WHERE email = $1", ApiFactory.AdminEmail);
        (await asA.PostAsync($"/api/v1/users/{rootId}/disable", null, Ct)).EnsureSuccessStatusCode();
        using var asB = isolated.CreateClient(b.Token);

        var results = await Task.WhenAll(
            asA.PostAsync($"/api/v1/users/{b.Id}/disable", null, Ct),
            asB.PostAsync($"/api/v1/users/{a.Id}/disable", null, Ct));

        Assert.Equal(1, await isolated.Database.ScalarAsync<int>("SELECT count(*) FROM users WHERE role = 'super_admin' AND NOT is_disabled"));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Single(results, r => r.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_bootstrap_super_admin_is_created_once_however_often_the_Api_starts()
    {
        // A second Api on the same database: its start-up migrates and bootstraps again, changing nothing.
        await using var second = new SameDatabaseFactory(api);
        _ = second.Server;

        Assert.Equal(1, await api.Database.ScalarAsync<int>("SELECT count(*) FROM users WHERE email = $1", ApiFactory.AdminEmail));
        Assert.Equal(1, await api.Database.ScalarAsync<int>("SELECT count(*) FROM audit_logs WHERE action = 'user.bootstrap'"));
    }

    private sealed class SameDatabaseFactory(ApiFactory first) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:promptsdb", first.Database.ConnectionString);
            builder.UseSetting("ConnectionStrings:redis", TestEnvironment.Redis);
            builder.UseSetting("Auth:Jwt:SigningKey", ApiFactory.SigningKey);
            builder.UseSetting("Keys:MasterKey", ApiFactory.MasterKey);
            builder.UseSetting("Bootstrap:SuperAdmin:Email", ApiFactory.AdminEmail);
            builder.UseSetting("Bootstrap:SuperAdmin:Password", "a different password this time");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
        }
    }
}
