using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>Users and roles, API keys shown once, and the audit log, in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class AdministrationTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Super_Admin_adds_a_user_changes_their_role_and_disables_them_after_a_confirmation()
    {
        var email = $"new-{Guid.NewGuid():N}@example.com";
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/users");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.Locator("details.card").OpenAsync(); // open by itself while the super admin is the only user
        await page.Locator("input[data-field=email]").FillAsync(email);
        await page.Locator("input[data-field=name]").FillAsync("A New Person");
        await page.Locator("input[data-field=password]").FillAsync("a new person's password");
        await page.Locator("#create-user").ClickAsync();
        var row = page.Locator($"tr[data-user='{email}']");
        await row.WaitForAsync();
        Assert.Equal("user", (await UserAsync(email)).GetProperty("role").GetString());

        await row.Locator("select[data-field=user-role]").SelectOptionAsync("admin");
        await page.Locator("[role=status]", new() { HasText = "was changed" }).WaitForAsync();
        Assert.Equal("admin", (await UserAsync(email)).GetProperty("role").GetString());

        await row.Locator("[data-action=disable]").ClickAsync();
        await row.Locator("[role=alertdialog] [data-action=dismiss]").ClickAsync();
        Assert.False((await UserAsync(email)).GetProperty("isDisabled").GetBoolean());
        await row.Locator("[data-action=disable]").ClickAsync();
        await row.Locator("[role=alertdialog] [data-action=confirm]").ClickAsync();
        await row.Locator("[data-action=enable]").WaitForAsync();
        Assert.True((await UserAsync(email)).GetProperty("isDisabled").GetBoolean());
        var refused = await console.Api.PostAsJsonAsync("/api/v1/auth/token", new { email, password = "a new person's password" }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // A bad address is refused with the Api's message and adds no one.
        await page.Locator("details.card").OpenAsync();
        await page.Locator("input[data-field=email]").FillAsync("not an address");
        await page.Locator("input[data-field=password]").FillAsync("a new person's password");
        await page.Locator("#create-user").ClickAsync();
        await page.Locator("p.error[role=alert]").WaitForAsync();
        Assert.Equal(0, await page.Locator("tr[data-user='not an address']").CountAsync());
    }

    [Fact]
    public async Task An_API_key_is_shown_once_works_with_its_scopes_and_stops_working_when_revoked()
    {
        var page = await console.SignedInPageAsync("fa-IR");
        await page.GotoAsync("/api-keys");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var name = $"console key {Guid.NewGuid():N}"[..24];
        await page.Locator("input[data-field=key-name]").FillAsync(name);
        await page.Locator("input[data-scope=prompts]").CheckAsync();
        await page.Locator("#create-key").ClickAsync();
        var key = await page.Locator("input[data-field=new-key]").InputValueAsync();
        Assert.False(string.IsNullOrEmpty(key));

        using var app = new HttpClient { BaseAddress = console.Api.BaseAddress };
        app.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/v1/prompt-requests?limit=1", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.GetAsync("/api/v1/api-keys", Ct)).StatusCode); // scope: prompts only

        // Never shown again: not after "I have stored it", not after a reload.
        await page.Locator("#key-stored").ClickAsync();
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var row = page.Locator($"tr[data-key-name='{name}']");
        await row.WaitForAsync();
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);

        await row.Locator("[data-action=revoke]").ClickAsync();
        await row.Locator("[role=alertdialog] [data-action=confirm]").ClickAsync();
        await row.Locator("[data-state=revoked]").WaitForAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/api/v1/prompt-requests?limit=1", Ct)).StatusCode);

        // The audit log shows both, filtered to API keys.
        await page.GotoAsync("/audit");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.Locator("select[data-field=audit-area]").SelectOptionAsync("api_key");
        // The unfiltered log (shown first) holds these rows too: wait until the filtered one has replaced it.
        await page.WaitForFunctionAsync("""
            () => {
                const rows = [...document.querySelectorAll('table.audit tbody tr')];
                return rows.length > 0 && rows.every(r => (r.dataset.action ?? '').startsWith('api_key.'));
            }
            """);
        var actions = await page.Locator("table.audit tbody tr").EvaluateAllAsync<string[]>("r => r.map(e => e.dataset.action)");
        Assert.All(actions, a => Assert.StartsWith("api_key.", a, StringComparison.Ordinal));
        Assert.Contains("api_key.create", actions);
        Assert.Contains("api_key.revoke", actions);
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> UserAsync(string email)
    {
        var users = await console.Api.GetFromJsonAsync<JsonElement>("/api/v1/users?limit=100", Ct);
        return users.GetProperty("data").EnumerateArray().Single(u => u.GetProperty("email").GetString() == email);
    }
}
