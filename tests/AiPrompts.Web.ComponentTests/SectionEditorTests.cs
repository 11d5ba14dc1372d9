using AiPrompts.Web.Models;

namespace AiPrompts.Web.ComponentTests;

/// <summary>A section's form: one provider, exactly one of its models that can serve the section.</summary>
public sealed class SectionEditorTests : ConsoleComponents
{
    private static readonly ModelInfo[] Catalogue =
    [
        new("local", "local-speech", "Local speech", ["audio"], null, 0, 0, false, true, false),
        new("local", "local-text", "Local text", ["chat", "content"], 8192, 0, 0, false, true, false),
        new("openai", "gpt-4o-mini", "GPT-4o mini", ["chat", "content"], 128000, 0.15m, 0.6m, false, true, false),
        new("openai", "gpt-4o-mini-tts", "GPT-4o mini TTS", ["audio"], null, 0.6m, 12m, false, true, false),
        new("openai", "tts-1", "TTS-1", ["audio"], null, 15m, 0, false, false, false), // disabled
        new("gemini", "gemini-2.0-flash", "Gemini 2.0 Flash", ["chat"], 1000000, 0.1m, 0.4m, false, true, false), // provider off
    ];

    private static readonly Dictionary<string, string> Names = new() { ["local"] = "Local", ["openai"] = "OpenAI", ["gemini"] = "Gemini" };

    private static SectionOptions Options => new(Catalogue, new HashSet<string> { "local", "openai" });

    [Fact]
    public void Only_enabled_providers_with_an_enabled_model_of_the_sections_capability_are_offered()
    {
        Assert.Equal(["local", "openai"], Options.ProvidersFor("audio"));
        Assert.Equal(["gpt-4o-mini-tts"], Options.ModelsOf("audio", "openai").Select(m => m.Id));
        Assert.Equal(["local", "openai"], Options.ProvidersFor("chat")); // gemini's provider is off
        Assert.Empty(Options.ProvidersFor("image"));
    }

    [Fact]
    public async Task Choosing_a_provider_picks_one_of_its_capable_models_and_saving_sends_the_choice()
    {
        SectionChoice? saved = null;
        var editor = Render<SectionEditor>(p => p
            .Add(e => e.Choice, new SectionChoice("audio", "local", "local-speech", false, DateTimeOffset.UnixEpoch))
            .Add(e => e.Options, Options)
            .Add(e => e.ProviderNames, Names)
            .Add(e => e.CanChange, true)
            .Add(e => e.OnSave, choice => { saved = choice; return Task.FromResult<string?>(null); }));
        Assert.True(editor.Find("fluent-button").HasAttribute("disabled")); // nothing changed yet

        editor.Find("select[data-field=provider]").Change("openai");
        Assert.Equal(["gpt-4o-mini-tts"], editor.FindAll("select[data-field=model] option").Select(o => o.GetAttribute("value")));
        editor.Find("input[data-field=store]").Change(true);
        await editor.Find("fluent-button").ClickAsync(new());

        Assert.Equal(new SectionChoice("audio", "openai", "gpt-4o-mini-tts", true, DateTimeOffset.UnixEpoch), saved);
        Assert.Contains("Saved.", editor.Find("[role=status]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Someone_who_may_not_change_it_sees_the_choice_and_their_availability_but_no_form()
    {
        var editor = Render<SectionEditor>(p => p
            .Add(e => e.Choice, new SectionChoice("chat", "openai", "gpt-4o-mini", true, DateTimeOffset.UnixEpoch))
            .Add(e => e.Options, Options)
            .Add(e => e.ProviderNames, Names)
            .Add(e => e.Availability, new SectionAvailability("chat", "openai", "gpt-4o-mini", false, null, "No key for OpenAI.", "Set a personal key."))
            .Add(e => e.CanChange, false));
        Assert.Empty(editor.FindAll("select"));
        Assert.Contains("OpenAI / GPT-4o mini", editor.Find(".section-current").TextContent, StringComparison.Ordinal);
        Assert.Equal("false", editor.Find("[data-available]").GetAttribute("data-available"));
        Assert.Contains("No key for OpenAI. Set a personal key.", editor.Find("[data-available]").TextContent.Trim(), StringComparison.Ordinal);
    }
}
