using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Templates;

/// <summary>The sandbox and the active version in use, through a real Worker process and the fake OpenAI vendor.</summary>
public sealed class TemplateSandboxTests(TemplateSandboxTests.Fixture fixture) : IClassFixture<TemplateSandboxTests.Fixture>
{
    public sealed class Fixture : WorkerFactory
    {
        public TestUser Admin { get; private set; } = null!;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Admin = await CreateUserAsync("super_admin");
            await SetOpenAiKeyAsync(Admin);
        }
    }

    private const string Valid = """{"documentType": "invoice", "documentNumber": "INV-7", "documentDate": "2026-11-01", "issuerName": "ACME", "issuerTaxId": "0105", "recipientName": "Somchai", "totalAmount": 1070.5, "currency": "THB"}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The fake vendor answers with whatever the test says for a prompt containing the marker.</summary>
    private void Answer(Func<string, string> reply) =>
        fixture.Vendor.Handler = (context, request) => FakeVendor.ChatStreamAsync(context, reply(request.Body));

    private static async Task<int> CreateAsync(HttpClient client, string type, string template)
    {
        var response = await client.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();
    }

    private static async Task<JsonElement> VersionAsync(HttpClient client, string type, int version) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/{type}/{version}", Ct)).GetProperty("data");

    [Fact]
    public async Task A_sandbox_run_stores_a_schema_valid_result_on_the_version_and_reports_an_invalid_one_clearly()
    {
        using var client = fixture.CreateClient(fixture.Admin.Token);
        var version = await CreateAsync(client, "ocr_extraction", "Extract the 8 fields as JSON from:\n{{ocr_text}}");
        Answer(body => body.Contains("Invoice INV-7", StringComparison.Ordinal) ? $"```json\n{Valid}\n```" : """{"documentType": "invoice"}""");

        var response = await client.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test",
            new { variables = new { ocr_text = "Invoice INV-7 from ACME, total 1,070.50 THB" }, provider = "openai", model = "gpt-4o-mini" }, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var tested = JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("tested");
        Assert.Equal("completed", tested.GetProperty("status").GetString());
        Assert.True(tested.GetProperty("valid").GetBoolean());
        Assert.Equal(0, tested.GetProperty("validationErrors").GetArrayLength());
        Assert.Equal(1070.5, tested.GetProperty("output").GetProperty("totalAmount").GetDouble());
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("active").ValueKind);
        // The vendor saw the rendered template, the OCR text in place of the placeholder.
        Assert.Contains(fixture.Vendor.Requests, r => r.Body.Contains("Extract the 8 fields as JSON from:\\nInvoice INV-7", StringComparison.Ordinal));

        var stored = await VersionAsync(client, "ocr_extraction", version);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(Valid).RootElement, stored.GetProperty("testResultJson")));
        var testedAt = stored.GetProperty("lastTestedAt").GetDateTimeOffset();
        Assert.True(DateTimeOffset.UtcNow - testedAt < TimeSpan.FromMinutes(1));

        // An output that breaks the schema: reported with the paths, and the stored result is left as it was.
        var invalid = await client.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test",
            new { variables = new { ocr_text = "a blurry receipt" }, provider = "openai", model = "gpt-4o-mini" }, Ct);
        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        var bad = (await invalid.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("tested");
        Assert.Equal("completed", bad.GetProperty("status").GetString());
        Assert.False(bad.GetProperty("valid").GetBoolean());
        var errors = bad.GetProperty("validationErrors").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("$.totalAmount: is required", errors);
        Assert.Equal(7, errors.Count);
        Assert.Equal("""{"documentType": "invoice"}""", bad.GetProperty("outputText").GetString());
        var after = await VersionAsync(client, "ocr_extraction", version);
        Assert.True(JsonElement.DeepEquals(stored.GetProperty("testResultJson"), after.GetProperty("testResultJson")));
        Assert.Equal(testedAt, after.GetProperty("lastTestedAt").GetDateTimeOffset());

        // The run can be read again, and it is a prompt request like any other, with its usage row.
        var again = await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/ocr_extraction/tests/{bad.GetProperty("requestId").GetGuid()}", Ct);
        Assert.False(again.GetProperty("data").GetProperty("valid").GetBoolean());
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM prompt_requests r JOIN usage_events u ON u.subject_id = r.id WHERE r.sandbox AND r.prompt_type = 'ocr_extraction' AND r.template_version = $1 AND u.status = 'succeeded'", version));
    }

    [Fact]
    public async Task With_no_vendor_key_the_local_model_answers_in_the_types_schema_and_the_result_is_stored()
    {
        using var client = fixture.CreateClient(fixture.Admin.Token);
        var version = await CreateAsync(client, "ocr_extraction", "Local: extract the fields from:\n{{ocr_text}}");

        var response = await client.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test",
            new { variables = new { ocr_text = "Invoice INV-9" }, provider = "local", model = "local-text" }, Ct);

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var tested = JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("tested");
        Assert.True(tested.GetProperty("valid").GetBoolean(), text);
        var stored = await VersionAsync(client, "ocr_extraction", version);
        Assert.Equal(JsonValueKind.Object, stored.GetProperty("testResultJson").ValueKind);
        Assert.Equal(8, stored.GetProperty("testResultJson").EnumerateObject().Count());
    }

    [Fact]
    public async Task A_sandbox_run_whose_rendered_prompt_passes_the_prompt_limit_is_refused_before_anything_is_stored()
    {
        using var client = fixture.CreateClient(fixture.Admin.Token);
        var version = await CreateAsync(client, "ocr_extraction", string.Concat(Enumerable.Repeat("{{ocr_text}}", 1000)));
        var before = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");

        var response = await client.PostAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/test",
            new { variables = new { ocr_text = new string('x', 10_000) }, provider = "local" }, Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", problem.Code);
        Assert.Contains("100000", problem.Root.GetProperty("errors").GetProperty("variables")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
    }

    [Fact]
    public async Task Compare_mode_runs_the_draft_and_the_active_version_on_the_same_input()
    {
        using var client = fixture.CreateClient(fixture.Admin.Token);
        var type = await PromptVersionContractTests.DefineTypeAsync(client, "compare_check", ["ocr_text"], ["ocr_text", "language"]);
        var active = await CreateAsync(client, type, "ACTIVE: {{ocr_text}}");
        var draft = await CreateAsync(client, type, "DRAFT in {{language}}: {{ocr_text}}");
        (await client.PostAsync($"/api/ai/prompts/{type}/{active}/activate", null, Ct)).EnsureSuccessStatusCode();
        Answer(body => body.Contains("DRAFT", StringComparison.Ordinal) ? """{"from": "draft"}""" : """{"from": "active"}""");

        var response = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/{draft}/test",
            new { variables = new { ocr_text = "same input", language = "th" }, provider = "openai", model = "gpt-4o-mini", compare = true }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data");
        Assert.Equal(draft, data.GetProperty("tested").GetProperty("versionNumber").GetInt32());
        Assert.Equal("draft", data.GetProperty("tested").GetProperty("output").GetProperty("from").GetString());
        Assert.Equal(active, data.GetProperty("active").GetProperty("versionNumber").GetInt32());
        Assert.Equal("active", data.GetProperty("active").GetProperty("output").GetProperty("from").GetString());
        Assert.Contains(fixture.Vendor.Requests, r => r.Body.Contains("DRAFT in th: same input", StringComparison.Ordinal));
        Assert.Contains(fixture.Vendor.Requests, r => r.Body.Contains("ACTIVE: same input", StringComparison.Ordinal));

        // Strict variables: one missing, or one neither version uses, is a 400 and nothing runs.
        var before = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");
        var missing = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/{draft}/test", new { variables = new { ocr_text = "x" }, compare = true }, Ct);
        var problem = await Problem.ReadAsync(missing, HttpStatusCode.BadRequest);
        Assert.Equal("template_variables_invalid", problem.Code);
        Assert.Contains("language", problem.Message);
        var extra = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/{active}/test", new { variables = new { ocr_text = "x", customer = "y" } }, Ct);
        Assert.Equal("template_variables_invalid", (await Problem.ReadAsync(extra, HttpStatusCode.BadRequest)).Code);
        var notString = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/{active}/test", new { variables = new { ocr_text = 5 } }, Ct);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(notString, HttpStatusCode.BadRequest)).Code);
        var compareActive = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/{active}/test", new { variables = new { ocr_text = "x" }, compare = true }, Ct);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(compareActive, HttpStatusCode.BadRequest)).Code);
        Assert.Equal(before, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
    }

    [Fact]
    public async Task With_Prefer_wait_0_a_sandbox_run_answers_202_at_once_and_is_read_until_it_ends()
    {
        using var client = fixture.CreateClient(fixture.Admin.Token);
        var type = await PromptVersionContractTests.DefineTypeAsync(client, "prefer_check", ["ocr_text"], ["ocr_text"]);
        var version = await CreateAsync(client, type, "PREFER: {{ocr_text}}");
        Answer(_ => """{"ok": true}""");

        using var test = new HttpRequestMessage(HttpMethod.Post, $"/api/ai/prompts/{type}/{version}/test")
        {
            Content = JsonContent.Create(new { variables = new { ocr_text = "x" }, provider = "openai", model = "gpt-4o-mini" }),
        };
        test.Headers.Add("Prefer", "wait=0");
        var response = await client.SendAsync(test, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var tested = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("tested");
        Assert.Contains(tested.GetProperty("status").GetString(), new[] { "pending", "generating" });
        var location = $"/api/ai/prompts/{type}/tests/{tested.GetProperty("requestId").GetGuid()}";
        Assert.Equal(location, response.Headers.Location?.OriginalString);

        var run = tested;
        for (var i = 0; i < 100 && run.GetProperty("status").GetString() is "pending" or "generating"; i++)
        {
            await Task.Delay(200, Ct);
            run = (await client.GetFromJsonAsync<JsonElement>(location, Ct)).GetProperty("data");
        }
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("output").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Any_user_reads_the_active_version_and_runs_it_as_a_prompt_request_rendered_strictly()
    {
        using var admin = fixture.CreateClient(fixture.Admin.Token);
        var type = await PromptVersionContractTests.DefineTypeAsync(admin, "run_check", ["ocr_text"], ["ocr_text"]);
        var user = await fixture.CreateUserAsync("user");
        await fixture.SetOpenAiKeyAsync(user);
        using var client = fixture.CreateClient(user.Token);

        Assert.Equal("no_active_version", (await Problem.ReadAsync(await client.GetAsync($"/api/ai/prompts/{type}/active", Ct), HttpStatusCode.NotFound)).Code);
        var version = await CreateAsync(admin, type, "Summarise: {{ocr_text}}");
        (await admin.PostAsync($"/api/ai/prompts/{type}/{version}/activate", null, Ct)).EnsureSuccessStatusCode();

        var active = (await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/{type}/active", Ct)).GetProperty("data");
        Assert.Equal(version, active.GetProperty("versionNumber").GetInt32());
        Assert.Equal("Summarise: {{ocr_text}}", active.GetProperty("template").GetString());
        Assert.Equal(["ocr_text"], active.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/ai/prompts/no_such_type/active", Ct)).StatusCode);
        // Listing the versions stays a super admin's.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/ai/prompts/{type}", Ct)).StatusCode);

        Answer(_ => "a short summary");
        using var run = new HttpRequestMessage(HttpMethod.Post, $"/api/ai/prompts/{type}/run")
        {
            Content = JsonContent.Create(new { variables = new { ocr_text = "the quarterly report" }, provider = "openai", model = "gpt-4o-mini", store = true, purpose = new { code = "digest" } }),
        };
        run.Headers.Add("Prefer", "wait=20");
        var response = await client.SendAsync(run, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var done = JsonDocument.Parse(body).RootElement.GetProperty("data");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(type, done.GetProperty("promptType").GetString());
        Assert.Equal(version, done.GetProperty("templateVersion").GetInt32());
        Assert.Equal("Summarise: the quarterly report", done.GetProperty("promptText").GetString());
        Assert.Equal("a short summary", done.GetProperty("response").GetProperty("text").GetString());
        Assert.Equal(user.Id, done.GetProperty("userId").GetGuid());
        // No built-in instructions were added: the vendor got the rendered template as the only message.
        var sent = JsonDocument.Parse(fixture.Vendor.Requests.Last(r => r.Body.Contains("the quarterly report", StringComparison.Ordinal)).Body).RootElement;
        Assert.Equal(1, sent.GetProperty("messages").GetArrayLength());

        var before = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");
        var missing = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/run", new { variables = new { } }, Ct);
        Assert.Equal("template_variables_invalid", (await Problem.ReadAsync(missing, HttpStatusCode.BadRequest)).Code);
        var extra = await client.PostAsJsonAsync($"/api/ai/prompts/{type}/run", new { variables = new { ocr_text = "x", other = "y" } }, Ct);
        Assert.Equal("template_variables_invalid", (await Problem.ReadAsync(extra, HttpStatusCode.BadRequest)).Code);
        Assert.Equal(before, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
    }
}
