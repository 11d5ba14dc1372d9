using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>The AI settings page (the Persian document's /ai/settings) in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class SettingsTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Super_Admin_sets_a_shared_key_and_lets_Admins_use_it_and_an_Admin_then_sees_no_shared_field()
    {
        const string sharedKey = "sk-console-test-shared-0123456789abcdef";
        var page = await console.SignedInPageAsync("fa-IR");
        await page.GotoAsync("/ai/settings");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var openai = page.Locator("[data-provider=openai]");

        await openai.Locator("[data-key=shared] input").FillAsync(sharedKey);
        await openai.Locator("[data-key=shared] fluent-button", new() { HasText = "ذخیره کلید" }).ClickAsync();
        await openai.Locator("[data-key=shared] [role=status]", new() { HasText = "ذخیره شد." }).WaitForAsync();
        Assert.Contains("…cdef", await openai.Locator("[data-key=shared] .key-state").InnerTextAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(sharedKey, await page.ContentAsync(), StringComparison.Ordinal); // never shown again
        Assert.Equal("", await openai.Locator("[data-key=shared] fluent-text-field").EvaluateAsync<string>("e => e.value ?? ''"));

        var policy = openai.Locator("[data-policy=openai]");
        await policy.GetByRole(AriaRole.Checkbox, new() { Name = "کلید مشترک روشن" }).CheckAsync();
        await policy.GetByRole(AriaRole.Checkbox, new() { Name = "مدیران می‌توانند استفاده کنند" }).CheckAsync();
        await policy.GetByRole(AriaRole.Checkbox, new() { Name = "کاربران می‌توانند استفاده کنند" }).UncheckAsync();
        await policy.Locator("fluent-button").ClickAsync();
        await policy.Locator("[role=status]", new() { HasText = "ذخیره شد." }).WaitForAsync();

        var providers = await console.Api.GetFromJsonAsync<JsonElement>("/api/v1/ai/providers", Ct);
        var shared = providers.GetProperty("data").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "openai").GetProperty("sharedKey");
        Assert.True(shared.GetProperty("isSet").GetBoolean());
        Assert.True(shared.GetProperty("enabled").GetBoolean());
        Assert.True(shared.GetProperty("allowAdmins").GetBoolean());
        Assert.False(shared.GetProperty("allowUsers").GetBoolean());

        // An Admin: the personal key is there, the shared key and its policy are not, in the page or its markup.
        var admin = await console.SignedInPageAsync(await console.NewUserAsync("admin", "An Admin", Ct));
        await admin.GotoAsync("/ai/settings");
        await admin.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal(1, await admin.Locator("[data-provider=openai] [data-key=personal]").CountAsync());
        Assert.Equal(0, await admin.Locator("[data-key=shared], [data-policy]").CountAsync());
        Assert.DoesNotContain("Shared key", await admin.ContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await admin.Locator("fluent-switch").CountAsync()); // only the Super Admin turns providers on and off
    }

    [Fact]
    public async Task A_Super_Admin_adds_a_custom_provider_shares_its_key_with_Admins_and_an_Admin_chats_on_it()
    {
        const string sharedKey = "sk-fake-vendor-shared-0042";
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/ai/settings");
        await page.Locator("[data-interactive=true]").WaitForAsync();

        // An OpenAI-compatible provider (the fake vendor on loopback) with one chat model.
        var form = page.Locator("[data-custom-provider-form]");
        await form.Locator("input[data-field=custom-id]").FillAsync("fakevendor");
        await form.Locator("input[data-field=custom-name]").FillAsync("Fake Vendor");
        await form.Locator("input[data-field=custom-url]").FillAsync(console.Vendor.BaseUrl.ToString());
        await form.Locator("input[data-field=custom-model]").FillAsync(FakeVendor.Model);
        await form.Locator("#create-provider").ClickAsync();
        await form.Locator("[role=status]", new() { HasText = "Fake Vendor was added" }).WaitForAsync();

        // Its shared key, for Admins too.
        var provider = page.Locator("[data-provider=fakevendor]");
        await provider.Locator("[data-key=shared] input").FillAsync(sharedKey);
        await provider.Locator("[data-key=shared] fluent-button", new() { HasText = "Save key" }).ClickAsync();
        await provider.Locator("[data-key=shared] [role=status]", new() { HasText = "Saved." }).WaitForAsync();
        var policy = provider.Locator("[data-policy=fakevendor]");
        await policy.GetByRole(AriaRole.Checkbox, new() { Name = "Shared key on" }).CheckAsync();
        await policy.GetByRole(AriaRole.Checkbox, new() { Name = "Admins may use it" }).CheckAsync();
        await policy.Locator("fluent-button").ClickAsync();
        await policy.Locator("[role=status]", new() { HasText = "Saved." }).WaitForAsync();

        // An Admin: no shared field on the page, and a chat on the shared key, streamed from the vendor.
        var admin = await console.SignedInPageAsync(await console.NewUserAsync("admin", "Custom Admin", Ct), "fa-IR");
        await admin.GotoAsync("/ai/settings");
        await admin.Locator("[data-interactive=true]").WaitForAsync();
        await admin.Locator("[data-provider=fakevendor]").WaitForAsync();
        Assert.Equal(0, await admin.Locator("[data-provider=fakevendor] [data-key=shared], [data-custom-provider-form]").CountAsync());

        await admin.GotoAsync("/playground");
        await admin.Locator("[data-interactive=true]").WaitForAsync();
        await admin.Locator("select[data-field=chat-model]").SelectOptionAsync($"fakevendor/{FakeVendor.Model}");
        await admin.Locator("textarea[data-field=chat-message]").FillAsync("سلام");
        await admin.Locator("#send-chat").ClickAsync();
        await admin.Locator("li[data-role=assistant]:not([data-streaming])", new() { HasText = FakeVendor.Answer }).WaitForAsync();
        Assert.Contains($"Bearer {sharedKey}", console.Vendor.Authorizations);
        Assert.DoesNotContain(sharedKey, await admin.ContentAsync(), StringComparison.Ordinal);

        // Removed after a confirmation: gone from the Api too.
        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await provider.Locator("[data-action=remove-provider]").ClickAsync();
        await provider.Locator("[role=alertdialog] [data-action=confirm]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-provider=fakevendor]")).ToHaveCountAsync(0);
        var providers = await console.Api.GetFromJsonAsync<JsonElement>("/api/v1/ai/providers", Ct);
        Assert.DoesNotContain(providers.GetProperty("data").EnumerateArray(), p => p.GetProperty("id").GetString() == "fakevendor" && !p.GetProperty("retired").GetBoolean());
    }

    [Fact]
    public async Task A_personal_key_is_saved_masked_removed_after_a_confirmation_and_an_empty_one_is_refused()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/ai/settings");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var personal = page.Locator("[data-provider=openrouter] [data-key=personal]");

        await personal.Locator("fluent-button", new() { HasText = "Save key" }).ClickAsync();
        await personal.Locator("[role=status]", new() { HasText = "Enter the key first." }).WaitForAsync();

        await personal.Locator("input").FillAsync("sk-or-personal-key-9876");
        await personal.Locator("fluent-button", new() { HasText = "Save key" }).ClickAsync();
        await personal.Locator(".key-state", new() { HasText = "…9876" }).WaitForAsync();

        await personal.Locator("fluent-button", new() { HasText = "Remove key" }).ClickAsync();
        await personal.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Yes, remove it" }).ClickAsync();
        await personal.Locator(".key-state", new() { HasText = "Not set" }).WaitForAsync();
        await personal.Locator("[role=status]", new() { HasText = "Removed." }).WaitForAsync();
    }
}
