using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.

namespace AiPrompts.Tests.Gateway;

/// <summary>
/// The Responses API at <c>/openai/v1/responses</c>, driven by the official OpenAI .NET SDK's <c>ResponsesClient</c> and by
/// Microsoft.Extensions.AI's Responses chat client: plain and streamed (the documented events, in order, numbered), a tool
/// round trip, structured output, <c>previous_response_id</c>, stored responses read, listed and deleted by their owner only,
/// and <c>prompt: {id, version, variables}</c> rendering our versioned templates.
/// </summary>
public sealed class ResponsesTests(ResponsesTests.Fixture fixture) : IClassFixture<ResponsesTests.Fixture>
{
    public sealed class Fixture : ApiFactory
    {
        public Fixture() => UseKestrel(0);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<(TestUser User, string Key)> CallerAsync(params string[] scopes) => OpenAICallers.CreateAsync(fixture, "admin", scopes, Ct);

    private OpenAIClient Sdk(string key) => OpenAICallers.Sdk(fixture, key);

    [Fact]
    public async Task A_response_is_made_stored_chained_read_listed_and_deleted_with_the_official_SDK()
    {
        var (user, key) = await CallerAsync();
        var responses = Sdk(key).GetResponsesClient();

        ResponseResult first = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Name three lobby screens")])
        {
            Instructions = "Answer in one line.",
            Metadata = { ["purpose"] = "signage.audit" },
        }, Ct);
        Assert.StartsWith("resp_", first.Id, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.Completed, first.Status);
        Assert.Equal("local/local-text", first.Model);
        Assert.Contains("Name three lobby screens", first.GetOutputText(), StringComparison.Ordinal);
        Assert.True(first.Usage.InputTokenCount > 0 && first.Usage.OutputTokenCount > 0);

        // The next turn sees the first: the local model's answer is a digest of the whole conversation.
        ResponseResult second = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("And two more")])
        {
            PreviousResponseId = first.Id,
        }, Ct);
        ResponseResult alone = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("And two more")]), Ct);
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.NotEqual(Digest(alone.GetOutputText()), Digest(second.GetOutputText()));
        Assert.True(second.Usage.InputTokenCount > alone.Usage.InputTokenCount);

        ResponseResult read = await responses.GetResponseAsync(second.Id, Ct);
        Assert.Equal(second.GetOutputText(), read.GetOutputText());
        var items = new List<ResponseItem>();
        await foreach (var item in responses.GetResponseInputItemsAsync(second.Id, Ct))
        {
            items.Add(item);
        }
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(items));
        Assert.Equal("And two more", message.Content[0].Text);

        // Another user's key sees none of it.
        var (_, strangerKey) = await CallerAsync();
        var stranger = Sdk(strangerKey).GetResponsesClient();
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.GetResponseAsync(first.Id, Ct))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.CreateResponseAsync(
            new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("hi")]) { PreviousResponseId = first.Id }, Ct))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.DeleteResponseAsync(first.Id, Ct))).Status);

        ResponseDeletionResult deleted = await responses.DeleteResponseAsync(alone.Id, Ct);
        Assert.True(deleted.Deleted);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => responses.GetResponseAsync(alone.Id, Ct))).Status);

        var purposes = await fixture.Database.QueryAsync("SELECT coalesce(purpose, '') FROM usage_events WHERE user_id = $1 AND subject_type = 'response' ORDER BY created_at", r => r.GetString(0), user.Id);
        Assert.Equal(3, purposes.Count);
        Assert.Equal("signage.audit", purposes[0]);
    }

    [Fact]
    public async Task A_streamed_response_sends_the_documented_events_in_order_and_ends_with_the_whole_response()
    {
        var (_, key) = await CallerAsync();
        var responses = Sdk(key).GetResponsesClient();
        var types = new List<string>();
        var numbers = new List<int>();
        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await responses.CreateResponseStreamingAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Describe the lobby screen layout")]) { StreamingEnabled = true }, Ct))
        {
            types.Add(update.GetType().Name);
            numbers.Add(update.SequenceNumber);
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }
        Assert.Equal(Enumerable.Range(0, numbers.Count), numbers);
        Assert.Equal(["StreamingResponseCreatedUpdate", "StreamingResponseInProgressUpdate", "StreamingResponseOutputItemAddedUpdate", "StreamingResponseContentPartAddedUpdate"], types.Take(4));
        Assert.Equal(["StreamingResponseOutputTextDoneUpdate", "StreamingResponseContentPartDoneUpdate", "StreamingResponseOutputItemDoneUpdate", "StreamingResponseCompletedUpdate"], types.TakeLast(4));
        Assert.NotNull(completed);
        Assert.Equal(completed.GetOutputText(), text.ToString());
        ResponseResult stored = await responses.GetResponseAsync(completed.Id, Ct);
        Assert.Equal(text.ToString(), stored.GetOutputText());
    }

    [Fact]
    public async Task A_function_tool_round_trip_and_structured_output_work_through_Microsoft_Extensions_AI_and_the_SDK()
    {
        var (_, key) = await CallerAsync();
        var sdk = Sdk(key);
        var responses = sdk.GetResponsesClient();
        var tool = ResponseTool.CreateFunctionTool("get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"""), true, "Current weather for a city");
        var options = new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("What's the weather in Porto?")]) { Tools = { tool } };
        ResponseResult called = await responses.CreateResponseAsync(options, Ct);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(called.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").ValueKind);
        var next = new CreateResponseOptions("local/local-text", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, """{"sky":"sunny","celsius":24}""")])
        {
            PreviousResponseId = called.Id,
            Tools = { tool },
        };
        ResponseResult answered = await responses.CreateResponseAsync(next, Ct);
        Assert.Contains("get_weather returned", answered.GetOutputText(), StringComparison.Ordinal);
        Assert.Contains("sunny", answered.GetOutputText(), StringComparison.Ordinal);

        // Microsoft.Extensions.AI's Responses client with structured output.
        using IChatClient chat = responses.AsIChatClient("local/local-text");
        var ticket = await chat.GetResponseAsync<Ticket>("File a ticket: screen 4 in the lobby is dark", cancellationToken: Ct);
        Assert.False(string.IsNullOrEmpty(ticket.Result.Title));
    }

    public sealed record Ticket(string Title, int Priority);

    [Fact]
    public async Task A_prompt_template_runs_by_id_and_version_and_the_response_says_which_version_ran()
    {
        var (_, key) = await CallerAsync();
        var type = await TemplateAsync();

        var responses = Sdk(key).GetResponsesClient();
        async Task<JsonElement> RunAsync(object prompt)
        {
            var result = await responses.CreateResponseAsync(BinaryContent.Create(BinaryData.FromObjectAsJson(new { model = "local/local-text", prompt })), new RequestOptions());
            return JsonDocument.Parse(result.GetRawResponse().Content).RootElement.Clone();
        }
        var active = await RunAsync(new { id = type, variables = new { name = "Ana" } });
        Assert.Equal("1", active.GetProperty("prompt").GetProperty("version").GetString());
        Assert.Contains("Welcome Ana to the lobby", active.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        var named = await RunAsync(new { id = type, version = "2", variables = new { name = "Ana" } });
        Assert.Equal("2", named.GetProperty("prompt").GetProperty("version").GetString());
        Assert.Contains("Greet Ana at the front desk", named.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => RunAsync(new { id = type, variables = new { } }));
        Assert.Equal(400, missing.Status);
        Assert.Equal("template_variables_invalid", JsonDocument.Parse(missing.GetRawResponse()!.Content).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => RunAsync(new { id = type, version = "9", variables = new { name = "Ana" } }))).Status);
    }

    [Fact]
    public async Task Bad_input_on_responses_is_an_OpenAI_error_naming_the_field()
    {
        var (user, key) = await CallerAsync();
        using var http = fixture.CreateClient(key);
        foreach (var (body, param) in new (object Body, string Param)[]
        {
            (new { model = "local/local-text" }, "input"),
            (new { model = "local/local-text", input = new[] { new { role = "wizard", content = "hi" } } }, "input[0].role"),
            (new { model = "local/local-text", input = "hi", temperature = 9 }, "temperature"),
            (new { model = "local/local-text", input = "hi", background = true, store = false }, "background"),
            (new { model = "local/local-text", input = "hi", text = new { format = new { type = "xml" } } }, "text.format.type"),
        })
        {
            var response = await http.PostAsJsonAsync("/openai/v1/responses", body, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Equal(param, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/openai/v1/responses/resp_nope", Ct)).StatusCode);
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
    }

    /// <summary>A new prompt type with two versions ("Welcome {{name}} to the lobby", "Greet {{name}} at the front desk"), the first active.</summary>
    private async Task<string> TemplateAsync()
    {
        using var root = fixture.CreateClient(await fixture.AdminTokenAsync());
        var type = $"greet_{Guid.NewGuid():N}"[..20];
        var made = await root.PutAsJsonAsync($"/api/ai/prompt-types/{type}", new { section = "chat", requiredPlaceholders = new[] { "name" }, allowedVariables = new[] { "name" } }, Ct);
        Assert.True(made.IsSuccessStatusCode, await made.Content.ReadAsStringAsync(Ct));
        foreach (var template in (string[])["Welcome {{name}} to the lobby", "Greet {{name}} at the front desk"])
        {
            var version = await root.PostAsJsonAsync($"/api/ai/prompts/{type}", new { template }, Ct);
            Assert.True(version.IsSuccessStatusCode, await version.Content.ReadAsStringAsync(Ct));
        }
        (await root.PostAsync($"/api/ai/prompts/{type}/1/activate", null, Ct)).EnsureSuccessStatusCode();
        return type;
    }

    /// <summary>
    /// The official OpenAI SDK for Node, current major (tests/sdk-clients, installed by scripts/test), unchanged but for its
    /// base URL and key: models, chat whole and streamed, a tool round trip, structured output, responses chained, streamed
    /// and from a template, a conversation, embeddings, and the SDK's error class for our error.
    /// </summary>
    [Fact]
    public async Task The_official_Node_SDK_drives_the_whole_surface_unchanged()
    {
        var (_, key) = await CallerAsync();
        var type = await TemplateAsync();
        var seen = await NodeSdk.RunAsync("gateway.mjs", [fixture.ClientOptions.BaseAddress.ToString(), key, type], Ct);

        Assert.Contains("local/local-text", seen.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("local/local-text", seen.GetProperty("chat").GetProperty("model").GetString());
        Assert.Equal("stop", seen.GetProperty("chat").GetProperty("finish").GetString());
        Assert.Equal(seen.GetProperty("chat").GetProperty("text").GetString(), seen.GetProperty("chatStream").GetProperty("text").GetString());
        Assert.Equal(seen.GetProperty("chat").GetProperty("tokens").GetInt64(), seen.GetProperty("chatStream").GetProperty("tokens").GetInt64());
        Assert.Equal("get_weather", seen.GetProperty("tools").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, seen.GetProperty("tools").GetProperty("arguments").GetProperty("city").ValueKind);
        Assert.Contains("clear", seen.GetProperty("tools").GetProperty("answer").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, seen.GetProperty("structured").GetProperty("title").ValueKind);
        Assert.Equal("completed", seen.GetProperty("responses").GetProperty("status").GetString());
        Assert.StartsWith("resp_", seen.GetProperty("responses").GetProperty("previous").GetString(), StringComparison.Ordinal);
        Assert.True(seen.GetProperty("responses").GetProperty("retrieved").GetBoolean());
        Assert.Equal("response.created", seen.GetProperty("responseStream").GetProperty("first").GetString());
        Assert.Equal("response.completed", seen.GetProperty("responseStream").GetProperty("last").GetString());
        Assert.Contains("Describe the lobby", seen.GetProperty("responseStream").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("1", seen.GetProperty("prompt").GetProperty("version").GetString());
        Assert.Contains("Welcome Ana to the lobby", seen.GetProperty("prompt").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(["message", "message", "message"], seen.GetProperty("conversation").GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        Assert.True(seen.GetProperty("conversationDeleted").GetBoolean());
        Assert.Equal(2, seen.GetProperty("embeddings").GetProperty("count").GetInt32());
        Assert.Equal(256, seen.GetProperty("embeddings").GetProperty("dimensions").GetInt32());
        Assert.Equal(400, seen.GetProperty("error").GetProperty("status").GetInt32());
        Assert.Equal("model_unavailable", seen.GetProperty("error").GetProperty("code").GetString());
    }

    private static string Digest(string text) => System.Text.RegularExpressions.Regex.Match(text, "Local answer ([0-9a-f]{12})").Groups[1].Value;
}
