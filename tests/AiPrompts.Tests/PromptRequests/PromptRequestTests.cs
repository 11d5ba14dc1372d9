using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.PromptRequests;

/// <summary>Prompt requests through the Api, run by a real Worker process against real Postgres and Redis.</summary>
public sealed class PromptRequestTests(PromptRequestTests.Fixture fixture) : IClassFixture<PromptRequestTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        public WorkerProcess Worker { get; private set; } = null!;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Worker = await StartWorkerAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await Worker.DisposeAsync();
            await base.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> DataAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("data").Clone();
    }

    [Fact]
    public async Task A_prompt_on_the_local_provider_is_saved_with_who_when_why_and_its_response()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);

        var response = await client.PostAsJsonAsync("/api/v1/prompt-requests", new
        {
            promptType = "text",
            promptText = "What is AI?",
            purpose = new { code = "faq", text = "Answer a customer question" },
            metadata = new { ticket = 42 },
            store = true,
        }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var submitted = await DataAsync(response);
        var id = submitted.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/prompt-requests/{id}", response.Headers.Location?.ToString());

        var done = await JobsFactory.WaitForFinalAsync(client, id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(user.Id, done.GetProperty("userId").GetGuid());
        Assert.Equal("local", done.GetProperty("provider").GetString());
        Assert.Equal("faq", done.GetProperty("purpose").GetProperty("code").GetString());
        Assert.Equal(42, done.GetProperty("metadata").GetProperty("ticket").GetInt32());
        Assert.Equal("What is AI?", done.GetProperty("promptText").GetString());
        var answer = done.GetProperty("response");
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("text").GetString()));
        Assert.True(answer.GetProperty("outputTokens").GetInt64() > 0);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());

        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events WHERE subject_id = $1 AND status = 'succeeded' AND provider_id = 'local' AND key_source = 'none' AND user_id = $2", id, user.Id));
    }
}
