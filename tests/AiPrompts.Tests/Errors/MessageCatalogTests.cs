using AiPrompts.Core.Errors;

namespace AiPrompts.Tests.Errors;

public sealed class MessageCatalogTests
{
    private readonly MessageCatalog _catalog = new();

    [Fact]
    public void Every_error_code_has_complete_texts_in_every_language()
    {
        Assert.Contains("en", _catalog.Languages);
        Assert.Contains("th", _catalog.Languages);
        foreach (var language in _catalog.Languages)
        {
            foreach (var code in ErrorCode.All)
            {
                Assert.Contains(code.Code, _catalog.CodesOf(language));
                var message = _catalog.Get(code.Code, language);
                Assert.False(string.IsNullOrWhiteSpace(message.Message), $"{language}/{code.Code}: message");
                Assert.False(string.IsNullOrWhiteSpace(message.UserMessage), $"{language}/{code.Code}: userMessage");
                Assert.False(string.IsNullOrWhiteSpace(message.RecoveryAction), $"{language}/{code.Code}: recoveryAction");
            }
            Assert.Equal(_catalog.CodesOf("en").Order(), _catalog.CodesOf(language).Order());
        }
    }

    [Theory]
    [InlineData(new[] { "th-TH", "en" }, "th")]
    [InlineData(new[] { "TH" }, "th")]
    [InlineData(new[] { "fr-FR", "de" }, "en")]
    [InlineData(new[] { "fr", "th" }, "th")]
    [InlineData(new string[0], "en")]
    public void The_first_supported_language_is_chosen(string[] preferred, string expected) =>
        Assert.Equal(expected, _catalog.ChooseLanguage(preferred));

    [Fact]
    public void Slots_are_filled_and_unknown_codes_fall_back_to_the_generic_error()
    {
        var catalog = new MessageCatalog(new Dictionary<string, IReadOnlyDictionary<string, LocalizedMessage>>
        {
            ["en"] = new Dictionary<string, LocalizedMessage>
            {
                ["internal_error"] = new("boom", "oops", "retry"),
                ["needs_field"] = new("{field} is missing", "Please fill in {field}", "Add {field}"),
            },
        });

        Assert.Equal("Please fill in name", catalog.Get("needs_field", "en", new Dictionary<string, string> { ["field"] = "name" }).UserMessage);
        Assert.Equal("oops", catalog.Get("no_such_code", "th").UserMessage);
    }
}
