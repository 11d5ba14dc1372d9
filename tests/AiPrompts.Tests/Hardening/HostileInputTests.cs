using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Hardening;

/// <summary>An Api whose log lines the test can read.</summary>
public sealed class LoggedApiFactory : ApiFactory
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(new CapturingProvider(Logs)).AddFilter<CapturingProvider>(null, LogLevel.Information));
    }

    private sealed class CapturingProvider(ConcurrentQueue<(LogLevel, string, string, Exception?)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, logs);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(LogLevel, string, string, Exception?)> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue((logLevel, category, formatter(state, exception), exception));
        }
    }
}

/// <summary>Each finding of the hostile read (issue 12), as a client would send it.</summary>
public sealed class HostileInputTests(LoggedApiFactory api) : IClassFixture<LoggedApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json, string contentType = "application/json") =>
        new(json, new System.Net.Http.Headers.MediaTypeHeaderValue(contentType.Split(';')[0]) { CharSet = contentType.Contains("charset=", StringComparison.Ordinal) ? contentType.Split("charset=")[1] : null })
        {
            Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType) },
        };

    private static async Task<Problem> FieldErrorAsync(HttpResponseMessage response, string field)
    {
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", problem.Code);
        Assert.True(problem.Root.GetProperty("errors").TryGetProperty(field, out _), $"'{field}' is not named: {problem.Root}");
        return problem;
    }

    [Theory]
    [InlineData("""{"email":"a\u0000@b.co","password":"x"}""", "email")]
    [InlineData("""{"email":"a@b.co","password":"x\u0000"}""", "password")]
    [InlineData("""{"email":"a@b.co","password":"\udc00"}""", "password")]
    public async Task A_NUL_or_a_lone_surrogate_in_the_anonymous_token_body_is_a_400_naming_the_field(string body, string field)
    {
        using var client = api.CreateClient();

        await FieldErrorAsync(await client.PostAsync("/api/v1/auth/token", Json(body), Ct), field);
    }

    [Theory]
    [InlineData("""{"promptType":"text","promptText":"hi\u0000"}""", "promptText")]
    [InlineData("""{"promptType":"text","promptText":"hi","purpose":{"code":"x","text":"why\u0000"}}""", "purpose.text")]
    [InlineData("""{"promptType":"text","promptText":"hi","model":"m\u0000"}""", "model")]
    [InlineData("""{"promptType":"text","promptText":"hi","metadata":{"k\u0000":"v"}}""", "metadata.k\\u0000")]
    [InlineData("""{"promptType":"text","promptText":"hi","metadata":{"k":"\udc00"}}""", "metadata.k")]
    [InlineData("""{"promptType":"text","promptText":"hi","metadata":{"list":["ok","\ud800x"]}}""", "metadata.list[1]")]
    public async Task A_NUL_or_a_lone_surrogate_anywhere_in_a_submit_is_a_400_naming_the_field_and_nothing_is_stored(string body, string field)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        var before = await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");

        await FieldErrorAsync(await client.PostAsync("/api/v1/prompt-requests", Json(body), Ct), field);

        Assert.Equal(before, await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
    }

    [Theory]
    [InlineData("/api/v1/prompt-requests?type=a%00b", "type")]
    [InlineData("/api/v1/prompt-requests?provider=%00", "provider")]
    [InlineData("/api/v1/prompt-requests?model=x%00", "model")]
    [InlineData("/api/v1/audit-logs?entityType=%00", "entityType")]
    [InlineData("/api/v1/audit-logs?action=a%00", "action")]
    [InlineData("/api/v1/audit-logs?entityId=%00", "entityId")]
    public async Task A_NUL_in_a_query_filter_is_a_400_naming_the_parameter(string url, string field)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        await FieldErrorAsync(await client.GetAsync(url, Ct), field);
    }

    [Fact]
    public async Task A_lone_surrogate_in_a_note_is_a_400_and_the_note_is_unchanged()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        var created = await client.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "Read {{ocr_text}}" }, Ct);
        var version = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();

        var refused = await client.PatchAsync($"/api/ai/prompts/ocr_extraction/{version}/note", Json("""{"manualNote":"bad \udc00 note"}"""), Ct);

        await FieldErrorAsync(refused, "manualNote");
        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/ocr_extraction/{version}", Ct);
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("data").GetProperty("manualNote").ValueKind);
    }

    [Fact]
    public async Task The_manual_note_limit_counts_characters_not_UTF16_units()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        var created = await client.PostAsJsonAsync("/api/ai/prompts/ocr_extraction", new { template = "Read {{ocr_text}} now" }, Ct);
        var version = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("versionNumber").GetInt32();
        var emoji = string.Concat(Enumerable.Repeat("😀", 2000)); // 2,000 characters, 4,000 UTF-16 units

        var accepted = await client.PatchAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/note", new { manualNote = emoji }, Ct);
        var refused = await client.PatchAsJsonAsync($"/api/ai/prompts/ocr_extraction/{version}/note", new { manualNote = emoji + "😀" }, Ct);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await FieldErrorAsync(refused, "manualNote");
        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/ai/prompts/ocr_extraction/{version}", Ct);
        Assert.Equal(emoji, stored.GetProperty("data").GetProperty("manualNote").GetString());
    }

    [Fact]
    public async Task A_charset_other_than_UTF8_is_a_415_problem()
    {
        using var client = api.CreateClient();

        var response = await client.PostAsync("/api/v1/auth/token", Json("""{"email":"a@b.co","password":"x"}""", "application/json; charset=klingon"), Ct);

        Assert.Equal("unsupported_media_type", (await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType)).Code);
        var utf8 = await client.PostAsync("/api/v1/auth/token", Json("""{"email":"a@b.co","password":"x"}""", "application/json; charset=UTF-8"), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, utf8.StatusCode);
    }

    [Theory]
    [InlineData("""{"inputPrice": 9999999999}""", "inputPrice", true)]
    [InlineData("""{"outputPrice": 0.000000001}""", "outputPrice", true)]
    [InlineData("""{"inputPrice": 1e30}""", "inputPrice", false)]
    public async Task A_price_the_column_cannot_hold_exactly_is_a_400_with_the_range_and_nothing_changes(string body, string field, bool inRange)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        var before = await api.Database.ScalarAsync<string>("SELECT coalesce(input_price_override::text, '') || '/' || coalesce(output_price_override::text, '') FROM ai_models WHERE provider_id = 'local' AND model_id = 'local-text'");

        var problem = await FieldErrorAsync(await client.PatchAsync("/api/v1/ai/models/local/local-text", Json(body), Ct), field);

        if (inRange)
        {
            // Within what a decimal holds, the message gives the column's range and precision.
            Assert.Contains("at most 6 decimal places", problem.Root.GetProperty("errors").GetProperty(field)[0].GetString());
        }
        Assert.Equal(before, await api.Database.ScalarAsync<string>("SELECT coalesce(input_price_override::text, '') || '/' || coalesce(output_price_override::text, '') FROM ai_models WHERE provider_id = 'local' AND model_id = 'local-text'"));
        var fine = await client.PatchAsync("/api/v1/ai/models/local/local-text", Json("""{"inputPrice": 99999999.999999}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        (await client.PatchAsync("/api/v1/ai/models/local/local-text", Json("""{"reset": ["prices"]}"""), Ct)).EnsureSuccessStatusCode();
    }

    [Theory]
    [InlineData("/api/v1/users?cursor=AAAA", "cursor")]
    [InlineData("/api/v1/users?limit=abc", "limit")]
    [InlineData("/api/v1/users?disabled=x", "disabled")]
    [InlineData("/api/v1/prompt-requests?from=bad", "from")]
    [InlineData("/api/v1/prompt-requests?limit=99999999999", "limit")]
    public async Task A_query_value_of_the_wrong_type_is_a_field_error_not_a_body_error(string url, string field)
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        var problem = await FieldErrorAsync(await client.GetAsync(url, Ct), field);

        Assert.DoesNotContain("JSON", problem.Root.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_errors_are_logged_as_one_line_without_a_stack_not_as_server_errors()
    {
        using var client = api.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            (await client.PostAsync("/api/v1/auth/token", Json("""{"email": """), Ct)).Dispose();
        }

        var serverErrors = api.Logs.Where(l => l.Level >= LogLevel.Warning && l.Exception is not null).ToList();
        Assert.True(serverErrors.Count == 0, string.Join("\n", serverErrors.Select(l => $"{l.Level} {l.Category}: {l.Message} {l.Exception}")));
        var refused = api.Logs.Where(l => l.Category.EndsWith("BadRequestExceptionHandler", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count >= 5);
        Assert.All(refused, l => Assert.True(l.Level == LogLevel.Information && l.Exception is null));
    }

    [Fact]
    public async Task Wrong_method_and_wrong_content_type_on_the_public_token_endpoint_are_405_and_415_problems()
    {
        using var client = api.CreateClient();

        var get = await client.GetAsync("/api/v1/auth/token", Ct);
        var text = await client.PostAsync("/api/v1/auth/token", new StringContent("email=a", Encoding.UTF8, "text/plain"), Ct);

        Assert.Equal("method_not_allowed", (await Problem.ReadAsync(get, HttpStatusCode.MethodNotAllowed)).Code);
        Assert.Equal("unsupported_media_type", (await Problem.ReadAsync(text, HttpStatusCode.UnsupportedMediaType)).Code);
    }

    [Fact]
    public async Task An_unknown_OpenAPI_document_is_a_404_problem()
    {
        using var client = api.CreateClient();

        Assert.Equal("not_found", (await Problem.ReadAsync(await client.GetAsync("/openapi/v2.json", Ct), HttpStatusCode.NotFound)).Code);
    }

    [Fact]
    public async Task An_unknown_provider_is_a_400_on_the_provider_field_listing_what_the_caller_can_use()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        var problem = await FieldErrorAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "hi", provider = "nosuch" }, Ct), "provider");

        var message = problem.Root.GetProperty("errors").GetProperty("provider")[0].GetString()!;
        Assert.Contains("nosuch", message, StringComparison.Ordinal);
        Assert.Contains("local/local-text", message, StringComparison.Ordinal);
        var model = await FieldErrorAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "hi", model = "gpt-0-nothing" }, Ct), "model");
        Assert.Contains("local/local-text", model.Root.GetProperty("errors").GetProperty("model")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idempotency_Key_refuses_two_keys_compares_meaning_and_marks_only_real_replays()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());
        async Task<HttpResponseMessage> SubmitAsync(string body, params string[] keys)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests") { Content = Json(body) };
            foreach (var key in keys)
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
            }
            return await client.SendAsync(request, Ct);
        }
        var before = await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");

        await FieldErrorAsync(await SubmitAsync("""{"promptType":"text","promptText":"hi"}""", "dup1", "dup2"), "Idempotency-Key");
        await FieldErrorAsync(await SubmitAsync("""{"promptType":"text","promptText":"hi"}""", "a,b"), "Idempotency-Key");
        Assert.Equal(before, await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));

        var key = Guid.NewGuid().ToString();
        var first = await SubmitAsync("""{"promptType":"text","promptText":"hi","metadata":{"a":1,"b":{"c":2.0}}}""", key);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("id").GetGuid();

        // The same meaning: other whitespace, other key order, a number spelled otherwise, store stated at its default.
        var same = await SubmitAsync("""
            { "metadata": { "b": { "c": 2 }, "a": 1 },
              "promptText": "hi", "promptType": "text", "store": false, "purpose": null }
            """, key);
        Assert.Equal(HttpStatusCode.Accepted, same.StatusCode);
        Assert.Equal("true", same.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(id, (await same.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("id").GetGuid());

        var different = await SubmitAsync("""{"promptType":"text","promptText":"hello"}""", key);
        Assert.Equal("idempotency_key_reused", (await Problem.ReadAsync(different, (HttpStatusCode)422)).Code);
        Assert.False(different.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(before + 1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
    }
}
