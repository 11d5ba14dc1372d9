using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>The models page (the Persian document's /ai/models) in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class ModelsTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Super_Admin_gives_a_section_one_provider_and_exactly_one_of_its_capable_models_and_an_Admin_only_sees_it()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/ai/models");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var audio = page.Locator("[data-section=audio]");

        // Choosing a provider offers only its models that can speak, and picks one: the section never lacks a model.
        await audio.Locator("select[data-field=provider]").SelectOptionAsync("openai");
        var offered = await audio.Locator("select[data-field=model] option").EvaluateAllAsync<string[]>("options => options.map(o => o.value)");
        Assert.Equal(["gpt-4o-mini-tts", "tts-1"], offered); // OpenAI's speech models, none of its chat or image ones
        Assert.Equal("gpt-4o-mini-tts", await audio.Locator("select[data-field=model]").InputValueAsync());
        await audio.Locator("input[data-field=store]").CheckAsync();
        await audio.Locator("fluent-button", new() { HasText = "Save" }).ClickAsync();
        await audio.Locator("[role=status]", new() { HasText = "Saved." }).WaitForAsync();
        var section = await SectionAsync("audio");
        Assert.Equal(("openai", "gpt-4o-mini-tts", true), (section.GetProperty("provider").GetString(), section.GetProperty("model").GetString(), section.GetProperty("storeByDefault").GetBoolean()));
        await audio.Locator(".section-current", new() { HasText = "GPT-4o mini TTS" }).WaitForAsync();

        // Back to the local model, in Persian.
        var persian = await console.SignedInPageAsync("fa-IR");
        await persian.GotoAsync("/ai/models");
        await persian.Locator("[data-interactive=true]").WaitForAsync();
        var audioFa = persian.Locator("[data-section=audio]");
        Assert.Equal("صدا", await audioFa.Locator("h2").InnerTextAsync());
        await audioFa.Locator("select[data-field=provider]").SelectOptionAsync("local");
        await audioFa.Locator("input[data-field=store]").UncheckAsync();
        await audioFa.Locator("fluent-button").ClickAsync();
        await audioFa.Locator("[role=status]", new() { HasText = "ذخیره شد." }).WaitForAsync();
        section = await SectionAsync("audio");
        Assert.Equal(("local", "local-speech", false), (section.GetProperty("provider").GetString(), section.GetProperty("model").GetString(), section.GetProperty("storeByDefault").GetBoolean()));

        // The catalogue: filtered by capability, reloaded on demand.
        await page.Locator("select[data-field=capability-filter]").SelectOptionAsync("image");
        var rows = page.Locator("table.grid tbody tr");
        await Assertions.Expect(page.Locator("tr[data-model=gpt-4o-mini]")).ToHaveCountAsync(0); // the filter has been applied
        var shown = await rows.Locator("td:nth-child(3)").AllInnerTextsAsync();
        Assert.NotEmpty(shown);
        Assert.All(shown, capabilities => Assert.Contains("image", capabilities, StringComparison.Ordinal));
        await page.Locator("#reload-catalogue").ClickAsync();
        await page.Locator("[role=status]", new() { HasText = "Catalogue reloaded" }).WaitForAsync();

        // An Admin sees each section and whether it is available to them, but can change nothing.
        var admin = await console.SignedInPageAsync(await console.NewUserAsync("admin", "Models Admin", Ct));
        await admin.GotoAsync("/ai/models");
        await admin.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal(4, await admin.Locator("[data-section]").CountAsync());
        Assert.Equal(0, await admin.Locator("[data-section] select, #reload-catalogue").CountAsync());
        Assert.Equal("true", await admin.Locator("[data-section=chat] [data-available]").GetAttributeAsync("data-available")); // the local model needs no key
    }

    private async Task<JsonElement> SectionAsync(string name)
    {
        var sections = await console.Api.GetFromJsonAsync<JsonElement>("/api/v1/ai/sections", Ct);
        return sections.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("section").GetString() == name);
    }
}
