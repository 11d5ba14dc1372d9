using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiPrompts.Core.Errors;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Errors;

/// <summary>
/// With Accept-Language: th the whole answer is Thai: the catalogue's message, userMessage and recoveryAction,
/// and also detail and every field message under errors, with the values they quote kept.
/// </summary>
public sealed partial class TranslatedTextsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool IsThai(string text) => text.Any(c => c is >= '\u0E00' and <= '\u0E7F');

    [GeneratedRegex(@"\{[a-zA-Z]+\}")]
    private static partial Regex Slot();

    [Fact]
    public void Every_key_has_a_Thai_text_that_keeps_the_slots_of_its_English_text()
    {
        var texts = new TextCatalog();
        Assert.Contains("th", texts.Languages);
        Assert.True(texts.English.Count > 150);
        var thai = texts.TextsOf("th");
        Assert.Empty(texts.English.Keys.Except(thai.Keys));
        Assert.Empty(thai.Keys.Except(texts.English.Keys));
        foreach (var (key, english) in texts.English)
        {
            Assert.True(IsThai(thai[key]), $"{key}: '{english}' → '{thai[key]}' has no Thai");
            Assert.Equal(Slot().Matches(english).Select(m => m.Value).Order(), Slot().Matches(thai[key]).Select(m => m.Value).Order());
        }
    }

    /// <summary>
    /// Every language a catalogue has is whole: each error code's three texts and each text key, with the slots of the
    /// English text (a language is added as a file, and a file with a gap fails here, not at a user's screen).
    /// </summary>
    [Fact]
    public void Every_language_of_both_catalogues_has_every_code_and_text_with_the_slots_of_the_English()
    {
        var messages = new MessageCatalog();
        var texts = new TextCatalog();
        // The languages of the people who asked for this system, as the console offers them.
        Assert.All(new[] { "ar", "fa", "ko", "th", "vi" }, language => Assert.Contains(language, messages.Languages, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(messages.Languages.Order(StringComparer.OrdinalIgnoreCase), texts.Languages.Append("en").Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase));
        var english = messages.CodesOf("en");
        foreach (var language in messages.Languages.Where(l => l != "en"))
        {
            Assert.Equal(english.Order(StringComparer.Ordinal), messages.CodesOf(language).Order(StringComparer.Ordinal));
            foreach (var code in english)
            {
                var (en, other) = (messages.Get(code, "en"), messages.Get(code, language));
                foreach (var (a, b) in new[] { (en.Message, other.Message), (en.UserMessage, other.UserMessage), (en.RecoveryAction, other.RecoveryAction) })
                {
                    Assert.NotEqual(a, b); // translated, not copied
                    Assert.Equal(Slot().Matches(a).Select(m => m.Value).Order(), Slot().Matches(b).Select(m => m.Value).Order());
                }
            }
            var translated = texts.TextsOf(language);
            Assert.Equal(texts.English.Keys.Order(StringComparer.Ordinal), translated.Keys.Order(StringComparer.Ordinal));
            Assert.All(texts.English, t => Assert.Equal(Slot().Matches(t.Value).Select(m => m.Value).Order(), Slot().Matches(translated[t.Key]).Select(m => m.Value).Order()));
        }
    }

    [Fact]
    public async Task A_Persian_caller_reads_the_whole_error_in_Persian()
    {
        using var persian = api.CreateClient(await api.AdminTokenAsync(), "fa");
        var problem = await Problem.ReadAsync(await persian.GetAsync("/api/v1/users?limit=500", Ct), HttpStatusCode.BadRequest);
        Assert.Equal("بخشی از اطلاعات واردشده معتبر نیست.", problem.UserMessage);
        Assert.Equal("حد باید میان 1 و 100 باشد.", problem.Root.GetProperty("errors").GetProperty("limit")[0].GetString());
        Assert.True(IsPersian(problem.Message) && IsPersian(problem.RecoveryAction));

        var missing = await Problem.ReadAsync(await persian.GetAsync($"/api/v1/prompt-requests/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
        Assert.Equal("آنچه خواستید وجود ندارد یا در دسترس شما نیست.", missing.UserMessage);
    }

    [Theory]
    [InlineData("ar-EG", "بعض المعلومات المُدخلة غير صالحة.", "يجب أن يكون الحد بين 1 و100.")]
    [InlineData("vi-VN", "Một số thông tin đã nhập không hợp lệ.", "Giới hạn phải nằm giữa 1 và 100.")]
    [InlineData("ko-KR", "입력한 정보 중 일부가 올바르지 않습니다.", "limit은 1에서 100 사이여야 합니다.")]
    public async Task Each_language_of_the_console_reads_the_error_in_its_own_language(string language, string userMessage, string field)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync(), language);
        var problem = await Problem.ReadAsync(await client.GetAsync("/api/v1/users?limit=500", Ct), HttpStatusCode.BadRequest);
        Assert.Equal(userMessage, problem.UserMessage);
        Assert.Equal(field, problem.Root.GetProperty("errors").GetProperty("limit")[0].GetString());
    }

    private static bool IsPersian(string text) => text.Any(c => c is >= '\u0600' and <= '\u06FF');

    /// <summary>
    /// Every field message and detail the code writes has a key, so it reaches a Thai caller in Thai: the source is read
    /// for the texts it puts under <c>errors</c> or in <c>detail</c> (an interpolated value stands for any value). A text
    /// reworded in the code but not in en.json fails here, rather than going out in English.
    /// </summary>
    [Fact]
    public void Every_text_the_code_writes_into_an_error_has_a_key()
    {
        var texts = new TextCatalog();
        var missing = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestEnvironment.RepositoryRoot, "Api"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(TestEnvironment.RepositoryRoot, "Core"), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains("Migrations", StringComparison.Ordinal)
                && !f.Contains($"Api{Path.DirectorySeparatorChar}Docs", StringComparison.Ordinal)))
        {
            foreach (var line in File.ReadLines(file).Where(l => ErrorContext().IsMatch(l) && !l.Contains("escription", StringComparison.Ordinal)))
            {
                foreach (Match literal in Literal().Matches(line))
                {
                    var text = literal.Groups["text"].Value.Replace("\\\"", "\"", StringComparison.Ordinal);
                    if (!Sentence().IsMatch(text))
                    {
                        continue;
                    }
                    var sample = literal.Groups["interpolated"].Success ? Hole().Replace(text, "X") : text;
                    if (texts.KeyOf(sample) is null)
                    {
                        missing.Add($"{Path.GetFileName(file)}: {text}");
                    }
                }
            }
        }
        Assert.True(missing.Count == 0, $"Texts with no key in Core/Messages/Texts/en.json:\n{string.Join("\n", missing.Distinct())}");
    }

    [GeneratedRegex(@"errors\[|detail: |\] = \[|\[""[a-z_.]+""\] = ")]
    private static partial Regex ErrorContext();

    [GeneratedRegex(@"(?<interpolated>\$)?""(?<text>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Literal();

    [GeneratedRegex(@"^[A-Z].* .*[.)]$")]
    private static partial Regex Sentence();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Hole();

    [Fact]
    public void A_text_is_matched_whole_its_values_are_kept_and_known_values_translated()
    {
        var texts = new TextCatalog();
        Assert.Equal("limit ต้องอยู่ระหว่าง 1 ถึง 200", texts.Translate("The limit must be between 1 and 200.", "th"));
        Assert.Equal("ค่านี้ไม่ใช่จำนวนเต็มที่ถูกต้อง", texts.Translate("The value is not a valid whole number.", "th"));
        Assert.Equal("The limit must be between 1 and 200. And more", texts.Translate("The limit must be between 1 and 200. And more", "th"));
        Assert.Equal("The limit must be between 1 and 200.", texts.Translate("The limit must be between 1 and 200.", "fr"));
        Assert.Equal("Something no one wrote.", texts.Translate("Something no one wrote.", "th"));
    }

    [Fact]
    public async Task Query_errors_are_field_messages_in_Thai_and_in_English_for_an_English_caller()
    {
        using var thai = api.CreateClient(await api.AdminTokenAsync(), "th");
        using var english = api.CreateClient(await api.AdminTokenAsync());

        var th = await Problem.ReadAsync(await thai.GetAsync("/api/v1/users?limit=abc", Ct), HttpStatusCode.BadRequest);
        var en = await Problem.ReadAsync(await english.GetAsync("/api/v1/users?limit=abc", Ct), HttpStatusCode.BadRequest);

        Assert.Equal("ค่านี้ไม่ใช่จำนวนเต็มที่ถูกต้อง", th.Root.GetProperty("errors").GetProperty("limit")[0].GetString());
        Assert.Equal("The value is not a valid whole number.", en.Root.GetProperty("errors").GetProperty("limit")[0].GetString());
        Assert.True(IsThai(th.Message) && IsThai(th.UserMessage) && IsThai(th.RecoveryAction));

        var range = await Problem.ReadAsync(await thai.GetAsync("/api/v1/users?limit=500", Ct), HttpStatusCode.BadRequest);
        Assert.Equal("limit ต้องอยู่ระหว่าง 1 ถึง 100", range.Root.GetProperty("errors").GetProperty("limit")[0].GetString());
    }

    [Fact]
    public async Task An_unknown_provider_is_named_in_a_Thai_field_message_and_detail_with_the_usable_models()
    {
        using var thai = api.CreateClient(await api.AdminTokenAsync(), "th");
        var response = await thai.PostAsJsonAsync("/api/v1/prompt-requests",
            new { promptText = "hello", promptType = "text", provider = "no-such-vendor", model = "x" }, Ct);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);

        Assert.True(problem.Root.TryGetProperty("errors", out var errors), problem.Root.GetRawText());
        Assert.True(errors.TryGetProperty("provider", out var provider), errors.GetRawText());
        var field = provider[0].GetString()!;
        Assert.StartsWith("ไม่รู้จัก provider 'no-such-vendor' ที่คุณใช้ได้ (provider/model): ", field, StringComparison.Ordinal);
        Assert.Contains("local/", field, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_variables_that_do_not_match_read_as_a_sentence_in_both_languages()
    {
        using var english = api.CreateClient(await api.AdminTokenAsync());
        using var thai = api.CreateClient(await api.AdminTokenAsync(), "th");
        var created = await english.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "Read: {{ocr_text}}" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();
        var body = new { variables = new { ocr_text = "x", customer = "y" } };

        var en = await Problem.ReadAsync(await english.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test", body, Ct), HttpStatusCode.BadRequest);
        var th = await Problem.ReadAsync(await thai.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test", body, Ct), HttpStatusCode.BadRequest);

        Assert.Equal("template_variables_invalid", en.Code);
        Assert.Equal("The variables do not match the template. Missing: none. Not used by the template: customer.", en.Message);
        Assert.Equal("ตัวแปรไม่ตรงกับ template ขาด: ไม่มี ส่วนที่ template ไม่ได้ใช้: customer", th.Message);
    }
}
