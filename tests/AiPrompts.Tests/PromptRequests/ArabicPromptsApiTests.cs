using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.PromptRequests;

/// <summary>The Arabic document's own API (POST/GET /ai/prompts/, GET /ai/prompts/{id}), through a real Worker process.</summary>
public sealed class ArabicPromptsApiTests(ArabicPromptsApiTests.Fixture fixture) : IClassFixture<ArabicPromptsApiTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> ApiKeyAsync(TestUser user)
    {
        using var client = fixture.CreateClient(user.Token);
        var made = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "arabic client" }, Ct);
        return (await made.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task The_documents_example_sent_as_written_is_refused_with_the_usable_models_and_with_one_of_them_it_completes()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(await ApiKeyAsync(user));
        var before = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");

        // As written: no vendor key here, so gpt-3.5-turbo cannot be used; the answer lists what can.
        var example = await client.PostAsync("/ai/prompts/",
            new StringContent("""{"model": "gpt-3.5-turbo", "prompt_type": "text", "prompt_text": "What is AI?"}""", Encoding.UTF8, "application/json"), Ct);
        var refusal = await example.Content.ReadAsStringAsync(Ct);
        Assert.True(example.StatusCode == HttpStatusCode.BadRequest, refusal);
        Assert.Contains("local/local-text", refusal, StringComparison.Ordinal);
        Assert.Equal(before, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));

        var created = await client.PostAsync("/ai/prompts/",
            new StringContent("""{"model": "local-text", "prompt_type": "text", "prompt_text": "What is AI?"}""", Encoding.UTF8, "application/json"), Ct);
        var createdText = await created.Content.ReadAsStringAsync(Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, createdText);
        var made = JsonDocument.Parse(createdText).RootElement;
        Assert.Equal("pending", made.GetProperty("status").GetString());
        Assert.Equal("local-text", made.GetProperty("model").GetString());
        Assert.Equal("text", made.GetProperty("prompt_type").GetString());
        var id = made.GetProperty("id").GetGuid();
        Assert.Equal($"/ai/prompts/{id}", created.Headers.Location!.OriginalString);

        JsonElement detail;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(50, Ct);
            detail = JsonDocument.Parse(await client.GetStringAsync($"/ai/prompts/{id}", Ct)).RootElement.Clone();
        }
        while (detail.GetProperty("status").GetString() is "pending" or "generating" && DateTime.UtcNow < deadline);

        Assert.Equal("completed", detail.GetProperty("status").GetString());
        Assert.Contains("What is AI?", detail.GetProperty("response_text").GetString(), StringComparison.Ordinal);
        Assert.True(detail.GetProperty("duration_ms").GetInt32() >= 0);
        Assert.Equal("What is AI?", detail.GetProperty("prompt_text").GetString());
        Assert.Equal(user.Id, detail.GetProperty("user_id").GetGuid());
        // Every prompt and response made here is saved, whatever the section's default.
        Assert.True(await fixture.Database.ScalarAsync<bool>("SELECT r.store AND p.response_text IS NOT NULL FROM prompt_requests r JOIN prompt_responses p ON p.prompt_request_id = r.id WHERE r.id = $1", id));

        var list = JsonDocument.Parse(await client.GetStringAsync("/ai/prompts/", Ct)).RootElement;
        Assert.Equal(JsonValueKind.Array, list.ValueKind);
        var summary = list.EnumerateArray().Single();
        Assert.Equal(id, summary.GetProperty("id").GetGuid());
        Assert.False(summary.TryGetProperty("response_text", out _));

        // Another user's prompt is not found.
        var other = await fixture.CreateUserAsync("user");
        using var stranger = fixture.CreateClient(other.Token);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/ai/prompts/{id}", Ct)).StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await stranger.GetStringAsync("/ai/prompts/", Ct)).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Missing_fields_are_400s_in_the_documents_field_names()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);

        var response = await client.PostAsync("/ai/prompts/", new StringContent("""{"model": "local-text"}""", Encoding.UTF8, "application/json"), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.Root.GetProperty("errors");
        Assert.True(errors.TryGetProperty("prompt_type", out _));
        Assert.True(errors.TryGetProperty("prompt_text", out _));
    }
}
