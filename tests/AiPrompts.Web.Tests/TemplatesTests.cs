using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>The template manager (the Thai contract's versions, with a sandbox) in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class TemplatesTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_template_is_written_with_its_rules_checked_diffed_sandboxed_beside_the_active_version_activated_and_deleted()
    {
        var type = await DefineTypeAsync(console, $"summary_{Guid.NewGuid():N}"[..20]);
        var page = await console.SignedInPageAsync("fa-IR");
        await page.GotoAsync("/templates");
        await page.Locator($"tr[data-type={type}] a").ClickAsync();
        await page.WaitForURLAsync($"**/templates/{type}");
        await page.Locator(".facts[data-interactive=true]").WaitForAsync(); // the new page's mark: the list's may linger while enhanced navigation swaps the page in

        // The rules are checked as one types: an unknown variable, then a missing required one, then a fit.
        var editor = page.Locator(".version-editor");
        var create = editor.Locator("#create-version");
        await editor.Locator("textarea").FillAsync("Summarise {{txt}}");
        await Assertions.Expect(editor.Locator("[data-finding]")).ToHaveAttributeAsync("data-finding", "Unknown");
        Assert.Contains("{{txt}}", await editor.Locator("[data-finding]").InnerTextAsync(), StringComparison.Ordinal);
        Assert.NotNull(await create.GetAttributeAsync("disabled"));
        await editor.Locator("textarea").FillAsync("Summarise this.");
        await Assertions.Expect(editor.Locator("[data-finding]")).ToHaveAttributeAsync("data-finding", "Missing");
        await editor.Locator("textarea").FillAsync("Summarise {{ text");
        await Assertions.Expect(editor.Locator("[data-finding]")).ToHaveAttributeAsync("data-finding", "Syntax");
        await editor.Locator("textarea").FillAsync("Summarise {{text}} briefly.");
        await Assertions.Expect(editor.Locator("[data-finding]")).ToHaveAttributeAsync("data-finding", "Fits");
        await create.ClickAsync();
        await page.Locator("article[data-version='1']").WaitForAsync();

        // Activate v1, after saying no once (nothing changes) and then yes.
        var v1 = page.Locator("article[data-version='1']");
        await v1.Locator("[data-action=activate]").ClickAsync();
        await v1.Locator("[role=alertdialog] [data-action=dismiss]").ClickAsync();
        Assert.Null(await ActiveVersionAsync(type));
        await v1.Locator("[data-action=activate]").ClickAsync();
        await v1.Locator("[role=alertdialog] [data-action=confirm]").ClickAsync();
        await page.Locator("article[data-version='1'][data-active=true]").WaitForAsync();
        Assert.Equal(1, await ActiveVersionAsync(type));

        // A second version, started from the first.
        await v1.Locator("fluent-button", new() { HasText = "شروع نسخهٔ تازه از این" }).ClickAsync();
        await Assertions.Expect(editor.Locator("textarea")).ToHaveValueAsync("Summarise {{text}} briefly.");
        await editor.Locator("textarea").FillAsync("Summarise {{text}} in a {{tone}} tone.\nKeep names.");
        await create.ClickAsync();
        await page.Locator("article[data-version='2'][data-active=false]").WaitForAsync();
        Assert.Equal(["2", "1"], await page.Locator("article[data-version]").EvaluateAllAsync<string[]>("a => a.map(e => e.dataset.version)")); // newest first

        // The diff of v1 → v2 (the newest against the one before it, unless another pair is chosen).
        Assert.Equal(("1", "2"), (await page.Locator("select[data-field=diff-from]").InputValueAsync(), await page.Locator("select[data-field=diff-to]").InputValueAsync()));
        await page.Locator("#show-diff").ClickAsync();
        await page.Locator(".diff [data-op]").First.WaitForAsync();
        var lines = await page.Locator(".diff [data-op]").EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.op + ':' + e.textContent.slice(2).trim())");
        Assert.Equal(["delete:Summarise {{text}} briefly.", "insert:Summarise {{text}} in a {{tone}} tone.", "insert:Keep names."], lines);

        // The sandbox runs v2 beside the active v1 on the same input, through the Worker and the model.
        var sandbox = page.Locator(".card", new() { Has = page.Locator("#sandbox") });
        Assert.Equal("2", await sandbox.Locator("select[data-field=sandbox-version]").InputValueAsync());
        await sandbox.Locator("input[data-variable=text]").FillAsync("The meeting moved to Tuesday.");
        await sandbox.Locator("input[data-variable=tone]").FillAsync("friendly");
        await sandbox.Locator("#run-sandbox").ClickAsync();
        await sandbox.Locator(".run[data-version='2'][data-status=completed]").WaitForAsync();
        await sandbox.Locator(".run[data-version='1'][data-status=completed]").WaitForAsync();
        var (tested, active) = (await BoxAsync(sandbox.Locator(".run[data-version='2']")), await BoxAsync(sandbox.Locator(".run[data-version='1']")));
        Assert.True(Math.Abs(tested.Y - active.Y) < 1 && tested.X > active.X, "side by side, the tested version first (right, in Persian)");
        // The local model quotes its prompt: each version was rendered from its own template with the same input.
        Assert.Contains("in a friendly tone", await sandbox.Locator(".run[data-version='2'] pre").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Tuesday. briefly", await sandbox.Locator(".run[data-version='1'] pre").InnerTextAsync(), StringComparison.Ordinal);

        // Activate v2; then v1 can be deleted (the active one has no delete).
        var v2 = page.Locator("article[data-version='2']");
        await v2.Locator("[data-action=activate]").ClickAsync();
        await v2.Locator("[role=alertdialog] [data-action=confirm]").ClickAsync();
        await page.Locator("article[data-version='2'][data-active=true]").WaitForAsync();
        Assert.Equal(2, await ActiveVersionAsync(type));
        Assert.Equal(0, await page.Locator("article[data-version='2'] [data-action=delete]").CountAsync());
        await page.Locator("article[data-version='1'] [data-action=delete]").ClickAsync();
        await page.Locator("article[data-version='1'] [role=alertdialog] [data-action=confirm]").ClickAsync();
        await Assertions.Expect(page.Locator("article[data-version='1']")).ToHaveCountAsync(0);
        var versions = await console.Api.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/{type}", Ct);
        Assert.Equal([2], versions.GetProperty("data").EnumerateArray().Select(v => v.GetProperty("versionNumber").GetInt32()));

        // The audit trail names every change, newest first.
        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var actions = await page.Locator("table.audit tbody tr").EvaluateAllAsync<string[]>("r => r.map(e => e.dataset.action)");
        Assert.Equal(["prompt_version.delete", "prompt_version.activate", "prompt_version.create", "prompt_version.activate", "prompt_version.create"], actions);
    }

    [Fact]
    public async Task Templates_are_the_Super_Admins_and_an_Admin_is_shown_no_link_and_no_page()
    {
        var admin = await console.SignedInPageAsync(await console.NewUserAsync("admin", "Templates Admin", Ct));
        Assert.Equal(0, await admin.Locator("nav a[href=templates], nav a[href=users], nav a[href=audit]").CountAsync());
        Assert.Equal(1, await admin.Locator("nav a[href=api-keys]").CountAsync());
        foreach (var path in new[] { "/templates", "/users", "/audit" })
        {
            await admin.GotoAsync(path);
            await admin.WaitForURLAsync("**/not-found**");
            Assert.Equal("Not found", await admin.Locator("main h1").InnerTextAsync());
        }
    }

    internal static async Task<string> DefineTypeAsync(ConsoleFixture console, string name)
    {
        var response = await console.Api.PutAsJsonAsync($"/api/ai/prompt-types/{name}", new
        {
            description = "A summary of a message, in a tone",
            section = "content",
            requiredPlaceholders = new[] { "text" },
            allowedVariables = new[] { "text", "tone" },
        }, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return name;
    }

    private async Task<int?> ActiveVersionAsync(string type)
    {
        var answer = await console.Api.GetFromJsonAsync<JsonElement>($"/api/ai/prompt-types/{type}", Ct);
        return answer.GetProperty("data").GetProperty("activeVersion") is { ValueKind: JsonValueKind.Number } number ? number.GetInt32() : null;
    }

    private static async Task<LocatorBoundingBoxResult> BoxAsync(ILocator locator) =>
        await locator.BoundingBoxAsync() ?? throw new InvalidOperationException("not visible");
}
