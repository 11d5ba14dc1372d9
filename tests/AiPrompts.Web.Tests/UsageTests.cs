using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>Usage and budgets in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class UsageTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_Super_Admin_sets_a_users_budget_and_the_users_chart_and_budget_follow_their_calls()
    {
        var budgeted = await console.NewUserAsync("user", "Budgeted", Ct);
        var (userId, email) = (budgeted.Id, budgeted.Email);

        var admin = await console.SignedInPageAsync("fa-IR");
        await admin.GotoAsync("/usage");
        await admin.Locator("[data-interactive=true]").WaitForAsync();
        var form = admin.Locator("section", new() { Has = admin.Locator("#save-budget") });
        await form.Locator("select[data-field=budget-for]").SelectOptionAsync(new SelectOptionValue { Label = email });
        await form.Locator("input[data-field=tokens-per-day]").FillAsync("100000");
        await form.Locator("input[data-field=soft-percent]").FillAsync("50");
        await form.Locator("#save-budget").ClickAsync();
        await admin.Locator($"tr[data-budget='user:{userId}']", new() { HasText = email }).WaitForAsync();
        var budgets = await console.Api.GetFromJsonAsync<JsonElement>("/api/v1/budgets", Ct);
        var budget = budgets.GetProperty("data").EnumerateArray().Single(b => b.GetProperty("userId") is { ValueKind: JsonValueKind.String } id && id.GetGuid() == userId);
        Assert.Equal((100_000L, 50), (budget.GetProperty("tokensPerDay").GetInt64(), budget.GetProperty("softPercent").GetInt32()));

        // The user: no calls yet, the budget untouched; then two calls, and the page says so.
        var user = await console.SignedInPageAsync(budgeted);
        await user.GotoAsync("/usage");
        await user.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal("0", await user.Locator("dl.totals").GetAttributeAsync("data-calls"));
        // The rate limits every call counts against, as the Api is configured (the AppHost's defaults).
        Assert.Equal("Request limits: 600 requests and 1,000,000 tokens every 60 s for each person; 300 requests and 500,000 tokens for each API key. A call over them is refused until the window moves on.",
            (await user.Locator("[data-limits]").InnerTextAsync()).Trim());
        await user.Locator(".chart .empty").WaitForAsync(); // nothing used: said, not drawn as empty bars
        await user.Locator("[data-applies-to=user] [data-limit=tokensPerDay]").WaitForAsync();

        using var api = await console.ApiAsAsync(budgeted, Ct);
        for (var i = 0; i < 2; i++)
        {
            using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests")
            {
                Content = JsonContent.Create(new { promptType = "text", promptText = $"Counted call {i}" }),
            };
            submit.Headers.Add("Prefer", "wait=30");
            (await api.SendAsync(submit, Ct)).EnsureSuccessStatusCode();
        }

        await user.ReloadAsync();
        await user.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal("2", await user.Locator("dl.totals").GetAttributeAsync("data-calls"));
        Assert.Equal("2", await user.Locator($".bar[data-key='{Today}']").GetAttributeAsync("data-value"));
        await user.Locator("select[data-field=measure]").SelectOptionAsync("Tokens");
        Assert.True(decimal.Parse(await user.Locator($".bar[data-key='{Today}']").GetAttributeAsync("data-value") ?? "0", CultureInfo.InvariantCulture) > 0);
        var tokens = await user.Locator("[data-applies-to=user] [data-limit=tokensPerDay]").InnerTextAsync();
        Assert.DoesNotContain(": 0 /", tokens, StringComparison.Ordinal);

        // The CSV is the same report, for this user only.
        var download = await user.RunAndWaitForDownloadAsync(() => user.Locator("a[data-field=csv]").ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync(), Ct);
        Assert.StartsWith("day,calls,", csv, StringComparison.Ordinal);
        Assert.Contains($"{Today},2,2,0,", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Persian_the_charts_days_run_right_to_left()
    {
        await console.SubmitAsync("A call for the chart", "console-usage", wait: true, Ct);
        var page = await console.SignedInPageAsync("fa-IR");
        await page.GotoAsync("/usage");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var bars = page.Locator(".bar");
        var (first, today) = (await bars.First.BoundingBoxAsync(), await page.Locator($".bar[data-key='{Today}']").BoundingBoxAsync());
        Assert.True(today!.X < first!.X, "the newest day is on the left, the oldest on the right");
        Assert.NotEqual("0", await page.Locator($".bar[data-key='{Today}']").GetAttributeAsync("data-value"));
    }
}
