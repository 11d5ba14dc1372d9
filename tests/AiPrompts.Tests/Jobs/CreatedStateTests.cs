using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Jobs;

/// <summary>
/// Every create answers with the state it created, never a later one: a Worker beside the Api claims each job within
/// milliseconds of its commit (woken through Redis, the local model answering at once), so an answer built by reading
/// the job again would show it running or done. The client polls for the rest.
/// </summary>
public sealed class CreatedStateTests(CreatedStateTests.Fixture fixture) : IClassFixture<CreatedStateTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

    private const int Rounds = 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Runs_and_thread_runs_answer_queued_without_a_start()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        for (var i = 0; i < Rounds; i++)
        {
            var thread = await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads", new { messages = new[] { new { role = "user", content = $"hello {i}" } } }, Ct), HttpStatusCode.OK);
            var run = await JsonAsync(await client.PostAsJsonAsync($"/api/v1/threads/{thread.GetProperty("id").GetString()}/runs", new { }, Ct), HttpStatusCode.OK);
            Assert.Equal("queued", run.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, run.GetProperty("started_at").ValueKind);

            var both = await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads/runs", new { thread = new { messages = new[] { new { role = "user", content = $"again {i}" } } } }, Ct), HttpStatusCode.OK);
            Assert.Equal("queued", both.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, both.GetProperty("started_at").ValueKind);
        }
    }

    [Fact]
    public async Task Tool_output_submits_answer_the_run_queued_again_without_a_new_start()
    {
        var admin = await fixture.CreateUserAsync("admin");
        using var client = fixture.CreateClient(admin.Token);
        var assistant = await JsonAsync(await client.PostAsJsonAsync("/api/v1/assistants", new
        {
            model = "local-text",
            tools = new[] { new { type = "function", function = new { name = "get_plays", parameters = new { type = "object", properties = new { screen = new { type = "integer" } } } } } },
        }, Ct), HttpStatusCode.OK);
        for (var i = 0; i < 3; i++)
        {
            var thread = await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads", new { messages = new[] { new { role = "user", content = $"Use get_plays for screen {i}." } } }, Ct), HttpStatusCode.OK);
            var threadId = thread.GetProperty("id").GetString();
            var run = await JsonAsync(await client.PostAsJsonAsync($"/api/v1/threads/{threadId}/runs", new { assistant_id = assistant.GetProperty("id").GetString() }, Ct), HttpStatusCode.OK);
            var runId = run.GetProperty("id").GetString();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (run.GetProperty("status").GetString() != "requires_action")
            {
                Assert.True(DateTime.UtcNow < deadline, $"Run {runId} is still {run.GetProperty("status").GetString()}.");
                await Task.Delay(50, Ct);
                run = await JsonAsync(await client.GetAsync($"/api/v1/threads/{threadId}/runs/{runId}", Ct), HttpStatusCode.OK);
            }
            var call = run.GetProperty("required_action").GetProperty("submit_tool_outputs").GetProperty("tool_calls")[0].GetProperty("id").GetString();

            var submitted = await JsonAsync(await client.PostAsJsonAsync($"/api/v1/threads/{threadId}/runs/{runId}/submit_tool_outputs",
                new { tool_outputs = new[] { new { tool_call_id = call, output = "41" } } }, Ct), HttpStatusCode.OK);
            Assert.Equal("queued", submitted.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, submitted.GetProperty("required_action").ValueKind);
        }
    }

    [Fact]
    public async Task Prompt_requests_and_conversation_messages_answer_with_their_first_status()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var conversation = await JsonAsync(await client.PostAsJsonAsync("/v1/conversations", new { }, Ct), HttpStatusCode.Created);
        var conversationId = conversation.GetProperty("id").GetString();
        for (var i = 0; i < Rounds; i++)
        {
            var request = await JsonAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = $"hello {i}" }, Ct), HttpStatusCode.Accepted);
            Assert.Equal("pending", request.GetProperty("data").GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, request.GetProperty("data").GetProperty("startedAt").ValueKind);

            var prompt = await JsonAsync(await client.PostAsJsonAsync("/ai/prompts/", new { prompt_type = "text", prompt_text = $"hello {i}" }, Ct), HttpStatusCode.Created);
            Assert.Equal("pending", prompt.GetProperty("status").GetString());

            var message = await JsonAsync(await client.PostAsJsonAsync($"/v1/conversations/{conversationId}/messages", new { content = $"tell me about cats {i}" }, Ct), HttpStatusCode.Accepted);
            Assert.Equal("PROCESSING", message.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, message.GetProperty("intent").ValueKind);
            await WaitForMessageAsync(client, conversationId!, message.GetProperty("id").GetString()!);
        }
    }

    /// <summary>A conversation takes one message at a time: the next waits until this one is done.</summary>
    private static async Task WaitForMessageAsync(HttpClient client, string conversation, string message)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var view = await JsonAsync(await client.GetAsync($"/v1/conversations/{conversation}/messages/{message}", Ct), HttpStatusCode.OK);
            if (view.GetProperty("status").GetString() != "PROCESSING")
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Message {message} is still processing.");
            await Task.Delay(50, Ct);
        }
    }
}
