using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Studio;

/// <summary>The Vietnamese document's prompt-refinement service: one structured-output call, as a job run by a real Worker.</summary>
public sealed class PromptRefineTests(PromptRefineTests.Fixture fixture) : IClassFixture<PromptRefineTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_documents_example_body_gets_every_field_of_its_answer_on_the_local_model()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        // The document's request: {prompt, style, lang, topic}.
        var answer = await JsonAsync(await client.PostAsync("/v1/prompt/refine", Body("""
            {"prompt": "Generate an image of a cat astronaut over Ha Long Bay", "style": "watercolor", "lang": "vi", "topic": "travel"}
            """), Ct));

        // The document's answer: {refined_prompt, intent, keywords, metadata: {model, processing_time}}.
        Assert.Equal("DONE", answer.GetProperty("status").GetString());
        Assert.Matches("^[0-9a-f]{32}$", answer.GetProperty("request_id").GetString());
        Assert.Contains("cat astronaut", answer.GetProperty("refined_prompt").GetString());
        Assert.Equal("generateImage", answer.GetProperty("intent").GetString());
        var keywords = answer.GetProperty("keywords").EnumerateArray().Select(k => k.GetString()).ToList();
        Assert.Contains("astronaut", keywords);
        Assert.Equal("local-text", answer.GetProperty("metadata").GetProperty("model").GetString());
        Assert.True(answer.GetProperty("metadata").GetProperty("processing_time").GetDouble() >= 0);

        var requestId = Guid.ParseExact(answer.GetProperty("request_id").GetString()!, "N");
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events WHERE subject_type = 'prompt_refine' AND subject_id = $1 AND status = 'succeeded' AND section = 'content' AND user_id = $2", requestId, user.Id));

        // Anything that is not a picture falls back to chat; polling gives the same answer; another user gets 404.
        var chat = await JsonAsync(await client.PostAsync("/v1/prompt/refine", Body("""{"prompt": "Hello, how are you today?", "lang": "en"}"""), Ct));
        Assert.Equal("chat", chat.GetProperty("intent").GetString());
        var polled = await JsonAsync(await client.GetAsync($"/v1/prompt/refine/{answer.GetProperty("request_id").GetString()}", Ct));
        Assert.Equal(answer.GetProperty("refined_prompt").GetString(), polled.GetProperty("refined_prompt").GetString());
        using var stranger = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token);
        await JsonAsync(await stranger.GetAsync($"/v1/prompt/refine/{answer.GetProperty("request_id").GetString()}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_input_is_refused_field_by_field_with_nothing_queued()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var refused = await JsonAsync(await client.PostAsync("/v1/prompt/refine", Body($$"""
            {"prompt": " ", "lang": "not a language", "style": "{{new string('s', 201)}}", "image_url": "ftp://example.com/cat.png"}
            """), Ct), HttpStatusCode.BadRequest);
        var errors = refused.GetProperty("errors");
        Assert.All(["prompt", "lang", "style", "image_url"], field => Assert.True(errors.TryGetProperty(field, out _), field));
        var noKey = await JsonAsync(await client.PostAsync("/v1/prompt/refine", Body("""{"prompt": "x", "provider": "openai", "model": "gpt-4o-mini"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("ai_key_missing", noKey.GetProperty("code").GetString());
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM studio_requests WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task A_vendor_is_held_to_the_json_schema_and_an_answer_that_breaks_it_fails_clearly_after_its_attempts()
    {
        var good = $"refine-good-{Guid.NewGuid():N}";
        var bad = $"refine-bad-{Guid.NewGuid():N}";
        var handler = fixture.Vendor.Handler;
        fixture.Vendor.Handler = (context, request) =>
        {
            var content = request.Body.Contains(good, StringComparison.Ordinal)
                ? JsonSerializer.Serialize(new { refined_prompt = "Tranh sơn dầu một con mèo", intent = "styleTransfer", keywords = new[] { "mèo", "sơn dầu" } })
                : JsonSerializer.Serialize(new { refined_prompt = "x", intent = "dance", keywords = Array.Empty<string>() });
            return FakeVendor.JsonAsync(context, 200, JsonSerializer.Serialize(new
            {
                id = "c1", @object = "chat.completion", created = 1, model = "gpt-4o-mini",
                choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 40, completion_tokens = 12, total_tokens = 52 },
            }));
        };
        try
        {
            var user = await fixture.CreateUserAsync("user");
            await fixture.SetOpenAiKeyAsync(user);
            using var client = fixture.CreateClient(user.Token);
            var answer = await JsonAsync(await client.PostAsJsonAsync("/v1/prompt/refine",
                new { prompt = good, style = "oil painting", lang = "vi", topic = "pets", image_url = "https://example.com/cat.png", provider = "openai", model = "gpt-4o-mini" }, Ct));
            Assert.Equal(("Tranh sơn dầu một con mèo", "styleTransfer", "gpt-4o-mini"),
                (answer.GetProperty("refined_prompt").GetString(), answer.GetProperty("intent").GetString(), answer.GetProperty("metadata").GetProperty("model").GetString()));
            Assert.Equal(["mèo", "sơn dầu"], answer.GetProperty("keywords").EnumerateArray().Select(k => k.GetString()));

            // What went to the vendor: its strict JSON Schema mode with the configured intents, and the caller's choices.
            var sent = JsonDocument.Parse(fixture.Vendor.Requests.Last(r => r.Body.Contains(good, StringComparison.Ordinal)).Body).RootElement;
            var format = sent.GetProperty("response_format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            var intents = format.GetProperty("json_schema").GetProperty("schema").GetProperty("properties").GetProperty("intent").GetProperty("enum");
            Assert.Equal(["chat", "generateImage", "styleTransfer", "editBackground"], intents.EnumerateArray().Select(i => i.GetString()));
            var instructions = sent.GetProperty("messages")[0].GetProperty("content").GetString()!;
            Assert.All(["oil painting", "pets", "'vi'", "https://example.com/cat.png"], part => Assert.Contains(part, instructions));
            var requestId = Guid.ParseExact(answer.GetProperty("request_id").GetString()!, "N");
            Assert.Equal(52L, await fixture.Database.ScalarAsync<long>(
                "SELECT input_tokens + output_tokens FROM usage_events WHERE subject_id = $1 AND provider_id = 'openai' AND status = 'succeeded'", requestId));

            // An intent outside the list is not passed on: every attempt is judged, then the request fails with why.
            var broken = await JsonAsync(await client.PostAsJsonAsync("/v1/prompt/refine", new { prompt = bad, provider = "openai", model = "gpt-4o-mini" }, Ct), HttpStatusCode.BadGateway);
            Assert.Equal("vendor_bad_output", broken.GetProperty("code").GetString());
            Assert.Contains("GPT-4o mini", broken.GetProperty("message").GetString());
            Assert.Equal(3, fixture.Vendor.Requests.Count(r => r.Body.Contains(bad, StringComparison.Ordinal)));
            Assert.Equal(3L, await fixture.Database.ScalarAsync<long>(
                "SELECT count(*) FROM usage_events u JOIN studio_requests r ON r.id = u.subject_id WHERE r.user_id = $1 AND r.prompt = $2 AND u.status = 'failed' AND u.error_code = 'vendor_bad_output'", user.Id, bad));
        }
        finally
        {
            fixture.Vendor.Handler = handler;
        }
    }
}
