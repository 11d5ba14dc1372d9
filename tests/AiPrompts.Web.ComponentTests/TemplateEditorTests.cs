using AiPrompts.Web.Templates;

namespace AiPrompts.Web.ComponentTests;

/// <summary>The new-version editor: the type's rules checked as one types, created only when the template fits.</summary>
public sealed class TemplateEditorTests : ConsoleComponents
{
    private static readonly string[] Required = ["text"];
    private static readonly string[] Allowed = ["text", "tone"];

    [Theory]
    [InlineData("", TemplateFindingKind.Empty, "")]
    [InlineData("Summarise {{txt}}", TemplateFindingKind.Unknown, "{{txt}}")]
    [InlineData("Summarise {{ text", TemplateFindingKind.Syntax, "11")]
    [InlineData("Summarise {{1x}}", TemplateFindingKind.Syntax, "11")]
    [InlineData("Summarise in a {{tone}} tone.", TemplateFindingKind.Missing, "{{text}}")]
    [InlineData("Summarise {{ text }} in a {{tone}} tone; JSON like {\"a\": 1} is plain text.", TemplateFindingKind.Fits, "")]
    public void A_template_is_checked_in_the_order_the_Api_checks_it(string template, TemplateFindingKind kind, string detail)
    {
        var finding = TemplateCheck.Of(template, Required, Allowed);
        Assert.Equal((kind, detail), (finding.Kind, finding.Detail));
    }

    [Fact]
    public async Task The_version_is_created_only_once_it_fits_and_a_refusal_is_shown_under_it()
    {
        var created = new List<string>();
        string? refusal = null;
        var editor = Render<VersionEditor>(p => p
            .Add(e => e.Required, Required)
            .Add(e => e.Allowed, Allowed)
            .Add(e => e.OnCreate, text => { created.Add(text); return Task.FromResult(refusal); }));

        editor.Find("textarea").Input("Summarise {{txt}}");
        Assert.Equal("Unknown", editor.Find("[data-finding]").GetAttribute("data-finding"));
        Assert.Contains("{{txt}}", editor.Find("[data-finding]").TextContent, StringComparison.Ordinal);
        Assert.True(editor.Find("#create-version").HasAttribute("disabled"));

        editor.Find("textarea").Input("Summarise {{text}}.");
        Assert.Equal("Fits", editor.Find("[data-finding]").GetAttribute("data-finding"));
        Assert.False(editor.Find("#create-version").HasAttribute("disabled"));
        await editor.Find("#create-version").ClickAsync(new());
        Assert.Equal(["Summarise {{text}}."], created);
        Assert.Contains("Created", editor.Find("[role=alert]").TextContent, StringComparison.Ordinal);

        refusal = "The template is longer than the limit.";
        await editor.Find("#create-version").ClickAsync(new());
        Assert.Equal("The template is longer than the limit.", editor.Find("[role=alert].error").TextContent);
    }

    [Fact]
    public void Starting_from_another_version_puts_its_text_in_the_editor_and_checks_it()
    {
        var editor = Render<VersionEditor>(p => p
            .Add(e => e.Required, Required)
            .Add(e => e.Allowed, Allowed)
            .Add(e => e.OnCreate, _ => Task.FromResult<string?>(null))
            .Add(e => e.Draft, "Old {{text}}"));
        Assert.Equal("Old {{text}}", editor.Find("textarea").GetAttribute("value"));
        Assert.Equal("Fits", editor.Find("[data-finding]").GetAttribute("data-finding"));

        editor.Render(p => p.Add(e => e.Draft, "Older {{name}}"));
        Assert.Equal("Unknown", editor.Find("[data-finding]").GetAttribute("data-finding"));
    }
}
