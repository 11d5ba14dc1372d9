using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>The playground (a streamed chat, an image, a prompt request) and the theme, in a real browser against the real services.</summary>
[Collection(SharedConsole.Name)]
public sealed class PlaygroundTests(ConsoleFixture console)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chat_is_streamed_from_the_chat_sections_model_with_its_usage_and_continues_the_conversation()
    {
        var page = await console.SignedInPageAsync("fa-IR");
        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal("local/local-text", await page.Locator("select[data-field=chat-model]").InputValueAsync()); // the chat section's model

        await page.Locator("textarea[data-field=chat-message]").FillAsync("سلام، امروز چه خبر؟");
        await page.Locator("#send-chat").ClickAsync();
        var answer = page.Locator("li[data-role=assistant]:not([data-streaming])");
        await answer.WaitForAsync();
        // The local model quotes the prompt it was given; the usage comes from the stream's last chunk (include_usage).
        Assert.Contains("سلام، امروز چه خبر؟", await answer.InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("[data-usage=true]").WaitForAsync();

        await page.Locator("textarea[data-field=chat-message]").FillAsync("And tomorrow?");
        await page.Locator("#send-chat").ClickAsync();
        await Assertions.Expect(page.Locator("li[data-role=assistant]:not([data-streaming])")).ToHaveCountAsync(2);
        Assert.Equal(["user", "assistant", "user", "assistant"], await page.Locator("li[data-role]").EvaluateAllAsync<string[]>("l => l.map(e => e.dataset.role)"));
        // The whole conversation went to the model: its prompt counts the words of both user turns and the first answer.
        Assert.Contains("And tomorrow?", await page.Locator("li[data-role=assistant]").Nth(1).InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chat_message_refused_by_a_budget_is_taken_back_with_the_Apis_reason()
    {
        var user = await console.NewUserAsync("user", "Budgeted Chatter", Ct);
        (await console.Api.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { tokensPerDay = 1 }, Ct)).EnsureSuccessStatusCode();
        var page = await console.SignedInPageAsync(user);
        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var chat = page.Locator("section", new() { Has = page.Locator("#send-chat") });
        await chat.Locator("textarea[data-field=chat-message]").FillAsync("Plan my week, please.");
        await chat.Locator("#send-chat").ClickAsync();

        await chat.Locator("[role=alert]").WaitForAsync();
        Assert.Equal("Plan my week, please.", await chat.Locator("textarea[data-field=chat-message]").InputValueAsync());
        Assert.Equal(0, await chat.Locator("li[data-role]").CountAsync()); // the conversation is as it was: empty
    }

    [Fact]
    public async Task An_Admin_makes_an_assistant_chats_with_it_streamed_on_one_thread_and_stops_a_run()
    {
        var admin = await console.NewUserAsync("admin", "Assistant Admin", Ct);
        var page = await console.SignedInPageAsync(admin, "fa-IR");
        await page.GotoAsync("/playground");
        var panel = page.Locator("[data-assistant-chat]");
        await panel.WaitForAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        // A new Admin has no assistant of their own (others' unshared ones are not theirs to see): the form is open.
        Assert.Equal(0, await panel.Locator("select[data-field=assistant] option").CountAsync());
        Assert.Equal(0, await panel.Locator("[data-field=assistant-shared]").CountAsync()); // only a Super Admin shares
        var name = $"برنامه‌ریز سفر {Guid.NewGuid():N}"[..24];
        await panel.Locator("input[data-field=assistant-name]").FillAsync(name);
        await panel.Locator("textarea[data-field=assistant-instructions]").FillAsync("Plan short trips, in the traveller's language.");
        await panel.Locator("#create-assistant").ClickFluentAsync();
        await Assertions.Expect(panel.Locator("select[data-field=assistant] option:checked")).ToHaveTextAsync(name);

        await panel.Locator("textarea[data-field=assistant-message]").FillAsync("یک روز در اصفهان");
        await panel.Locator("#send-assistant").ClickAsync();
        // The run is followed while the Worker runs it (each model call takes a while here), then its answer streams in.
        await panel.Locator("li[data-streaming] [data-run-status]").WaitForAsync();
        var answers = panel.Locator("li[data-role=assistant]:not([data-streaming])");
        await Assertions.Expect(answers).ToHaveCountAsync(1);
        Assert.Contains("یک روز در اصفهان", await answers.First.InnerTextAsync(), StringComparison.Ordinal); // the local model quotes the prompt
        Assert.Contains(name, await answers.First.Locator(".who-said").InnerTextAsync(), StringComparison.Ordinal);
        await panel.Locator("[data-assistant-usage]").WaitForAsync();
        var thread = await panel.GetAttributeAsync("data-thread");
        Assert.StartsWith("thread_", thread, StringComparison.Ordinal);

        await panel.Locator("textarea[data-field=assistant-message]").FillAsync("And the evening?");
        await panel.Locator("#send-assistant").ClickAsync();
        await Assertions.Expect(answers).ToHaveCountAsync(2);
        Assert.Equal(thread, await panel.GetAttributeAsync("data-thread"));

        // A message the Api refuses (longer than it takes) is taken back with the Api's reason; the conversation is unchanged.
        // (It also crosses the circuit whole: 100 KB, past SignalR's default message size.)
        var tooLong = new string('x', 100_001);
        await panel.Locator("textarea[data-field=assistant-message]").FillAsync(tooLong);
        await panel.Locator("#send-assistant").ClickAsync();
        await panel.Locator("[role=alert]").WaitForAsync();
        Assert.Equal(tooLong.Length, (await panel.Locator("textarea[data-field=assistant-message]").InputValueAsync()).Length);
        Assert.Equal(4, await panel.Locator("li[data-role]").CountAsync());
        await panel.Locator("textarea[data-field=assistant-message]").FillAsync("");

        // The conversation is one thread of the Admin's, answered by their assistant, in the Api's Assistants API.
        using var asAdmin = await console.ApiAsAsync(admin, Ct);
        var assistants = await asAdmin.GetFromJsonAsync<JsonElement>("/api/v1/assistants", Ct);
        var assistantId = assistants.GetProperty("data").EnumerateArray().Single(a => a.GetProperty("name").GetString() == name).GetProperty("id").GetString();
        var messages = await asAdmin.GetFromJsonAsync<JsonElement>($"/api/v1/threads/{thread}/messages?order=asc", Ct);
        Assert.Equal(["user", "assistant", "user", "assistant"], messages.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.All(messages.GetProperty("data").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "assistant"),
            m => Assert.Equal(assistantId, m.GetProperty("assistant_id").GetString()));
        // Nobody else sees it: the super admin's own call is 404.
        Assert.Equal(HttpStatusCode.NotFound, (await console.Api.GetAsync($"/api/v1/threads/{thread}/messages", Ct)).StatusCode);

        // A third message, stopped while it runs: the run is cancelled and the page says so.
        await panel.Locator("textarea[data-field=assistant-message]").FillAsync("And the next day?");
        await panel.Locator("#send-assistant").ClickAsync();
        await panel.Locator("#stop-assistant:not([disabled])").ClickAsync();
        await panel.Locator("[data-run-ended=cancelled]").WaitForAsync();
        var runs = await asAdmin.GetFromJsonAsync<JsonElement>($"/api/v1/threads/{thread}/runs", Ct);
        Assert.Equal(["cancelled", "completed", "completed"], runs.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        await Assertions.Expect(panel.Locator("li[data-streaming], #stop-assistant")).ToHaveCountAsync(0); // the page is ready for the next message

        // A User makes no assistant: no form, only the ones shared with them.
        var user = await console.SignedInPageAsync(await console.NewUserAsync("user", "Assistant User", Ct));
        await user.GotoAsync("/playground");
        await user.Locator("[data-assistant-chat]").WaitForAsync();
        await user.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal(0, await user.Locator(".new-assistant, #create-assistant").CountAsync());
        Assert.DoesNotContain(name, await user.Locator("[data-assistant-chat]").InnerTextAsync(), StringComparison.Ordinal); // the Admin's is not shared
    }

    [Fact]
    public async Task A_Responses_call_renders_a_prompt_types_active_template_with_the_variables_given()
    {
        var type = await TemplatesTests.DefineTypeAsync(console, $"resp_{Guid.NewGuid():N}"[..16]);
        (await console.Api.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template = "Summarise {{text}} in a {{tone}} tone." }, Ct)).EnsureSuccessStatusCode();
        (await console.Api.PostAsync($"/api/ai/prompts/{type}/1/activate", null, Ct)).EnsureSuccessStatusCode();

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        var panel = page.Locator("[data-responses]");
        await panel.Locator("select[data-field=responses-type]").SelectOptionAsync(type);
        await panel.Locator("input[data-variable=tone]").FillAsync("cheerful");
        await panel.Locator("input[data-variable=text]").FillAsync("the launch moved to May");
        await panel.Locator("#send-responses").ClickAsync();
        // The local model quotes the prompt it was given: the Api rendered the active version with these values.
        var answer = panel.Locator("[data-field=responses-answer]");
        await answer.WaitForAsync();
        Assert.Contains("Summarise the launch moved to May in a cheerful tone.", await answer.InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_is_refined_drawn_in_the_background_and_shown()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.Locator("textarea[data-field=image-prompt]").FillAsync("A red bicycle by a canal at dawn");
        await page.Locator("input[data-field=refine]").CheckAsync();
        await page.Locator("#generate-image").ClickAsync();
        await page.Locator("[role=status]", new() { HasText = "Refining" }).Or(page.Locator("[role=status]", new() { HasText = "Drawing" })).First.WaitForAsync();
        var image = page.Locator("img[data-generated=true]");
        await image.WaitForAsync();
        Assert.True(await image.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "the picture is decoded and shown");
        Assert.False(string.IsNullOrWhiteSpace(await page.Locator("[data-field=refined]").InnerTextAsync()));
        Assert.Equal(await page.Locator("[data-field=refined]").InnerTextAsync(), await image.GetAttributeAsync("alt"));
    }

    [Fact]
    public async Task A_prompt_request_is_submitted_and_followed_to_completed()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.Locator("textarea[data-field=request-text]").FillAsync("Tried from the playground");
        await page.Locator("#submit-request").ClickAsync();
        await page.Locator("a[data-submitted]").ClickAsync();
        await page.WaitForURLAsync("**/requests/*");
        await page.Locator("[data-status=completed]").WaitForAsync();
        Assert.Contains("Tried from the playground", await page.Locator("pre.answer").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dark_theme_is_chosen_remembered_across_pages_and_reloads_and_undone()
    {
        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/requests");
        await page.Locator("main h1").WaitForAsync();
        await page.Locator("[data-theme-choice=light]").ClickAsync();
        await BackgroundAsync(page, light: true);
        await page.Locator("[data-theme-choice=dark]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-theme-choice=dark]")).ToHaveAttributeAsync("aria-pressed", "true");
        await BackgroundAsync(page, light: false);

        await page.GotoAsync("/ai/models");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await BackgroundAsync(page, light: false);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-theme-choice=dark]")).ToHaveAttributeAsync("aria-pressed", "true");
        await BackgroundAsync(page, light: false);

        await page.Locator("[data-theme-choice=light]").ClickAsync();
        await BackgroundAsync(page, light: true);
    }

    /// <summary>Waits until the page background is light (relative luminance above 0.7) or dark (below 0.3): the theme applies its tokens as it can.</summary>
    private static async Task BackgroundAsync(IPage page, bool light) => await page.WaitForFunctionAsync("""
        light => {
          const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).slice(0, 3).map(Number);
          const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
          return light ? luminance > 0.7 : luminance < 0.3;
        }
        """, light);
}
