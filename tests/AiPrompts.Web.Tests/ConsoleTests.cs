using System.Net.Http.Json;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>
/// The admin console in a real browser (Debian's chromium) against the real Api, Worker, Postgres and Redis: signing
/// in, the requests page, right-to-left Persian by layout, phone width, the session cookie, accessibility (axe).
/// </summary>
[Collection(SharedConsole.Name)]
public sealed class ConsoleTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wrong_password_is_refused_in_the_chosen_language_and_starts_no_session()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/culture?culture=fa-IR&returnUrl=%2Fsignin");
        await page.FillAsync("#email", ConsoleFixture.AdminEmail);
        await page.FillAsync("#password", "not the password");
        await page.Locator("fluent-button[type=submit]").ClickFluentAsync();
        await page.Locator("p[role=alert]").WaitForAsync();
        Assert.Contains("error=invalid", page.Url, StringComparison.Ordinal);

        Assert.Equal("ایمیل یا گذرواژه درست نیست.", (await page.Locator("p[role=alert]").InnerTextAsync()).Trim());
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "aiprompts.console");
        await page.GotoAsync("/requests");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_submitted_through_the_Api_is_listed_with_its_status_and_model()
    {
        var code = $"console-{Guid.NewGuid():N}"[..24];
        await console.SubmitAsync("Shown in the console", code, wait: true, Ct);

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/requests");
        var row = page.Locator("tr", new() { HasText = code });
        await row.WaitForAsync();
        Assert.Contains("Completed", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("local/local-text", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("Every prompt request, newest first.", (await page.Locator("main p").First.InnerTextAsync()).Trim());

        // Filtered by another status or model, it is gone; by its type, model, user and day, it is there. (Other tests'
        // requests may match a filter too: the checks are about this one.)
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.Locator("select[data-field=status]").SelectOptionAsync("failed");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.Locator("select[data-field=status]").SelectOptionAsync("");
        await page.Locator("select[data-field=type]").SelectOptionAsync("text");
        await page.Locator("select[data-field=model]").SelectOptionAsync("local/local-text");
        await page.Locator("select[data-field=user]").SelectOptionAsync(new SelectOptionValue { Label = ConsoleFixture.AdminEmail });
        var today = DateTime.UtcNow.Date;
        await page.Locator("input[data-field=from]").FillAsync(today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await row.WaitForAsync();
        await page.Locator("select[data-field=model]").SelectOptionAsync("openai/gpt-4o-mini");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        // When nothing matches (nothing was asked tomorrow), the empty state says so.
        await page.Locator("select[data-field=model]").SelectOptionAsync("");
        await page.Locator("input[data-field=from]").FillAsync(today.AddDays(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator(".empty").WaitForAsync();
        Assert.Equal(0, await page.Locator("table tbody tr").CountAsync());
    }

    [Fact]
    public async Task A_running_request_is_followed_live_to_completed_with_its_answer_and_usage()
    {
        var page = await console.SignedInPageAsync();
        var id = await console.SubmitAsync("Followed live in the console", "console-live", wait: false, Ct);
        await page.GotoAsync("/requests");
        await page.Locator($"a[href='requests/{id}']").ClickAsync();
        await page.WaitForURLAsync($"**/requests/{id}");
        await page.Locator(".facts[data-interactive=true]").WaitForAsync(); // the new page's mark: the list's may linger while enhanced navigation swaps the page in
        Assert.Contains(await page.Locator(".facts [data-status]").GetAttributeAsync("data-status"), new[] { "pending", "generating" });
        Assert.True(await page.Locator(".live").IsVisibleAsync());

        // No reload: the page reads the request again while it runs.
        await page.Locator(".facts [data-status=completed]").WaitForAsync(new() { Timeout = 30_000 });
        Assert.False(string.IsNullOrWhiteSpace(await page.Locator("pre.answer").InnerTextAsync()));
        Assert.Equal(0, await page.Locator(".live").CountAsync());
        Assert.Contains("Followed live in the console", await page.Locator("pre.text").First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Matches("tokens in", await page.Locator("main").InnerTextAsync());
        Assert.Matches("^[0-9a-f]{32}$", await page.Locator("[data-field=trace-id]").InnerTextAsync()); // to find its spans and logs
    }

    [Fact]
    public async Task A_running_request_is_cancelled_after_a_confirmation()
    {
        var page = await console.SignedInPageAsync("fa-IR");
        var id = await console.SubmitAsync("Cancelled from the console", "console-cancel", wait: false, Ct);
        await page.GotoAsync($"/requests/{id}");
        await page.Locator("[data-interactive=true]").WaitForAsync();

        await page.Locator("#cancel").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog);
        await dialog.WaitForAsync();
        // Saying no changes nothing.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "نه، بماند" }).ClickAsync();
        await dialog.WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.NotEqual("cancelled", await page.Locator(".facts [data-status]").GetAttributeAsync("data-status"));

        await page.Locator("#cancel").ClickAsync();
        await page.Locator("#confirm-cancel").ClickAsync();
        await page.Locator(".facts [data-status=cancelled]").WaitForAsync(new() { Timeout = 15_000 });
        Assert.Equal("لغو شد", (await page.Locator(".facts [data-status]").InnerTextAsync()).Trim());

        var detail = await console.Api.GetFromJsonAsync<JsonElement>($"/api/v1/prompt-requests/{id}", Ct);
        Assert.Equal("cancelled", detail.GetProperty("data").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Another_users_or_a_missing_request_is_not_found()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync($"/requests/{Guid.NewGuid()}");
        await page.Locator(".empty").WaitForAsync();
        Assert.Equal("There is no such request, or it is not yours.", (await page.Locator(".empty").InnerTextAsync()).Trim());
    }

    [Fact]
    public async Task In_Persian_the_console_is_laid_out_right_to_left_and_in_English_left_to_right()
    {
        var persian = await console.SignedInPageAsync("fa-IR");
        await persian.GotoAsync("/requests");
        await persian.Locator("main h1").WaitForAsync();
        Assert.Equal("rtl", await persian.EvaluateAsync<string>("document.documentElement.dir"));
        Assert.Equal("rtl", await persian.EvaluateAsync<string>("getComputedStyle(document.querySelector('main')).direction"));
        Assert.Equal("درخواست‌ها", (await persian.Locator("main h1").InnerTextAsync()).Trim());
        // By layout: the navigation sits on the right of the page, the brand at the right end of the top bar.
        var (nav, main) = (await BoxAsync(persian, "nav.sidebar"), await BoxAsync(persian, "main"));
        Assert.True(nav.X > main.X, $"navigation at {nav.X}, page at {main.X}");
        Assert.True((await BoxAsync(persian, ".brand")).X > (await BoxAsync(persian, "nav.languages")).X);

        var english = await console.SignedInPageAsync("en-US");
        await english.GotoAsync("/requests");
        await english.Locator("main h1").WaitForAsync();
        Assert.Equal("ltr", await english.EvaluateAsync<string>("document.documentElement.dir"));
        Assert.True((await BoxAsync(english, "nav.sidebar")).X < (await BoxAsync(english, "main")).X);
    }

    [Fact]
    public async Task At_phone_width_the_navigation_is_above_the_page_and_nothing_overflows_sideways()
    {
        var page = await console.SignedInPageAsync("en-US", width: 390, height: 844);
        await page.GotoAsync("/requests");
        await page.Locator("main h1").WaitForAsync();
        var (nav, main) = (await BoxAsync(page, "nav.sidebar"), await BoxAsync(page, "main"));
        Assert.True(nav.Y + nav.Height <= main.Y + 1, $"navigation ends at {nav.Y + nav.Height}, page starts at {main.Y}");
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 390);

        // Every page, in Persian too: wide tables scroll inside their own box; the page itself never scrolls sideways.
        var persian = await console.SignedInPageAsync("fa-IR", width: 390, height: 844);
        foreach (var phone in new[] { page, persian })
        {
            foreach (var path in new[] { "/", "/requests", "/playground", "/usage", "/ai/settings", "/ai/models", "/templates", "/users", "/api-keys", "/audit" })
            {
                await phone.GotoAsync(path);
                await phone.Locator("main h1").WaitForAsync();
                await phone.WaitForLoadStateAsync(LoadState.NetworkIdle);
                var width = await phone.EvaluateAsync<int>("document.documentElement.scrollWidth");
                Assert.True(width <= 390, $"{path} is {width} px wide at 390 px");
            }
        }
    }

    [Fact]
    public async Task The_session_cookie_is_HttpOnly_and_SameSite_strict_and_no_script_sees_the_token()
    {
        var page = await console.SignedInPageAsync();
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "aiprompts.console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain("eyJhbGciOi", cookie.Value, StringComparison.Ordinal); // sealed: no JWT (its header, {"alg":…) in the clear
        Assert.DoesNotContain("aiprompts.console", await page.EvaluateAsync<string>("document.cookie"), StringComparison.Ordinal);
        Assert.DoesNotContain("eyJhbGciOi", await page.ContentAsync(), StringComparison.Ordinal);

        await page.Locator("form.signout fluent-button").ClickFluentAsync();
        await page.WaitForURLAsync("**/signin");
        await page.GotoAsync("/requests");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en-US")]
    [InlineData("fa-IR")]
    public async Task Every_page_has_no_serious_or_critical_accessibility_violation(string culture)
    {
        var anonymous = await NewPageAsync();
        await anonymous.GotoAsync($"/culture?culture={culture}&returnUrl=%2Fsignin");
        await AssertAccessibleAsync(anonymous, "/signin");

        var page = await console.SignedInPageAsync(culture);
        var id = await console.SubmitAsync("Checked for accessibility", "console-axe", wait: true, Ct);
        var type = await TemplatesTests.DefineTypeAsync(console, $"axe_{culture[..2]}_{Guid.NewGuid():N}"[..16]);
        (await console.Api.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = "Summarise {{text}}." }, Ct)).EnsureSuccessStatusCode();
        foreach (var path in new[] { "/", "/requests", $"/requests/{id}", "/playground", "/usage", "/ai/settings", "/ai/models", "/templates", $"/templates/{type}", "/users", "/api-keys", "/audit" })
        {
            await page.GotoAsync(path);
            await page.Locator("main h1").WaitForAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await AssertAccessibleAsync(page, path);
        }
    }

    private static async Task AssertAccessibleAsync(IPage page, string path)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{path}: " + string.Join("; ", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))}")));
    }

    private async Task<IPage> NewPageAsync()
    {
        var page = await console.Browser.NewPageAsync(new() { BaseURL = console.Console.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        page.SetDefaultTimeout(ConsoleFixture.Patience);
        return page;
    }

    private static async Task<LocatorBoundingBoxResult> BoxAsync(IPage page, string selector) =>
        await page.Locator(selector).First.BoundingBoxAsync() ?? throw new InvalidOperationException($"{selector} is not visible");
}
