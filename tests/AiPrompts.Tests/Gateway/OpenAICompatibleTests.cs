using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace AiPrompts.Tests.Gateway;

/// <summary>
/// The OpenAI-compatible surface driven by the official OpenAI .NET SDK and by Microsoft.Extensions.AI's OpenAI client,
/// pointed at <c>/openai/v1</c> with our API keys: chat completions whole and streamed, tools round trip, structured
/// output, embeddings, models; governed (a usage row per vendor call, budgets before the call, errors in OpenAI's shape).
/// The built-in local models need no key; a fake OpenAI vendor (real wire format) stands for a paid one.
/// </summary>
public sealed class OpenAICompatibleTests(OpenAICompatibleTests.Fixture fixture) : IClassFixture<OpenAICompatibleTests.Fixture>
{
    /// <summary>On a real socket, so a client that goes away closes its connection as it would in production.</summary>
    public sealed class Fixture : AiFactory
    {
        public Fixture() => UseKestrel(0);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<(TestUser User, string Key)> CallerAsync(string role = "user") => OpenAICallers.CreateAsync(fixture, role, null, Ct);

    private OpenAIClient Sdk(string key, string? purpose = null) => OpenAICallers.Sdk(fixture, key, purpose);

    /// <summary>The usage rows of a user's gateway calls, once every call has ended (the ends are written off the answer's path).</summary>
    private async Task<List<(string SubjectType, string Status, long Input, long Output, string? Purpose, Guid? ApiKey)>> UsageAsync(Guid user, int expected, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(5));
        for (var i = 0; ; i++)
        {
            var rows = await fixture.Database.QueryAsync(
                "SELECT subject_type, status, input_tokens, output_tokens, purpose, api_key_id FROM usage_events WHERE user_id = $1 ORDER BY created_at, id",
                r => (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? (Guid?)null : r.GetGuid(5)), user);
            var open = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM gateway_calls WHERE user_id = $1", user);
            if ((rows.Count >= expected && open == 0) || DateTime.UtcNow > deadline)
            {
                Assert.Equal(0, open);
                return rows;
            }
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task The_OpenAI_SDK_gets_a_chat_completion_whole_and_streamed_with_a_usage_row_for_each_call()
    {
        var (user, key) = await CallerAsync();
        var chat = Sdk(key, purpose: "support.reply").GetChatClient("local/local-text");

        ChatCompletion whole = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Summarise the quarterly signage report")], cancellationToken: Ct);
        Assert.Equal("local/local-text", whole.Model);
        Assert.StartsWith("chatcmpl-", whole.Id, StringComparison.Ordinal);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, whole.FinishReason);
        var text = Assert.Single(whole.Content).Text;
        Assert.Contains("Summarise the quarterly signage report", text, StringComparison.Ordinal);
        Assert.True(whole.Usage.InputTokenCount > 0 && whole.Usage.OutputTokenCount > 0);

        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        OpenAI.Chat.ChatFinishReason? finish = null;
        var options = new ChatCompletionOptions();
        await foreach (var update in chat.CompleteChatStreamingAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Summarise the quarterly signage report")], options, Ct))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, finish);
        Assert.NotNull(usage); // the SDK asks for stream_options.include_usage
        Assert.Equal(whole.Usage.TotalTokenCount, usage.TotalTokenCount);

        var rows = await UsageAsync(user.Id, 2);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(("chat.completion", "succeeded", "support.reply"), (r.SubjectType, r.Status, r.Purpose));
            Assert.Equal(whole.Usage.InputTokenCount, r.Input);
            Assert.NotNull(r.ApiKey);
        });
    }

    [Fact]
    public async Task A_function_tool_round_trip_and_structured_output_follow_what_the_caller_asked()
    {
        var (_, key) = await CallerAsync();
        var chat = Sdk(key).GetChatClient("local/local-text");
        var weather = ChatTool.CreateFunctionTool("get_weather", "Current weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}"""));
        var stock = ChatTool.CreateFunctionTool("lookup_stock", "Stock level of a product in the warehouse",
            BinaryData.FromString("""{"type":"object","properties":{"sku":{"type":"string"}},"required":["sku"]}"""));
        var options = new ChatCompletionOptions { Tools = { weather, stock }, ToolChoice = ChatToolChoice.CreateAutoChoice() };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("What is the weather like in Lisbon today?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options, Ct);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        using (var arguments = JsonDocument.Parse(call.FunctionArguments))
        {
            Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
            Assert.Contains(arguments.RootElement.GetProperty("unit").GetString(), new[] { "c", "f" });
        }

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temperature": 21, "sky": "clear"}"""));
        ChatCompletion answer = await chat.CompleteChatAsync(messages, options, Ct);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, answer.FinishReason);
        Assert.Contains("get_weather returned", answer.Content[0].Text, StringComparison.Ordinal);
        Assert.Contains("clear", answer.Content[0].Text, StringComparison.Ordinal);

        // A message that asks for neither tool gets an answer, not a call.
        ChatCompletion plain = await chat.CompleteChatAsync([new UserChatMessage("Write a haiku about autumn")], options, Ct);
        Assert.Empty(plain.ToolCalls);

        // Structured output: an instance of the schema asked for.
        var schema = new ChatCompletionOptions
        {
            ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat("ticket",
                BinaryData.FromString("""{"type":"object","properties":{"title":{"type":"string"},"priority":{"type":"integer","minimum":1,"maximum":5}},"required":["title","priority"],"additionalProperties":false}"""),
                jsonSchemaIsStrict: true),
        };
        ChatCompletion structured = await chat.CompleteChatAsync([new UserChatMessage("File a ticket: screen 4 in the lobby is dark")], schema, Ct);
        using var ticket = JsonDocument.Parse(structured.Content[0].Text);
        Assert.Equal(JsonValueKind.String, ticket.RootElement.GetProperty("title").ValueKind);
        Assert.InRange(ticket.RootElement.GetProperty("priority").GetInt32(), 1, 5);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_clients_work_against_it_for_chat_streaming_and_embeddings()
    {
        var (user, key) = await CallerAsync();
        var sdk = Sdk(key);
        using IChatClient chat = sdk.GetChatClient("local/local-text").AsIChatClient();
        var response = await chat.GetResponseAsync("List three uses of digital signage", cancellationToken: Ct);
        Assert.Contains("List three uses of digital signage", response.Text, StringComparison.Ordinal);
        Assert.Equal("local/local-text", response.ModelId);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("List three uses of digital signage", cancellationToken: Ct))
        {
            updates.Add(update);
        }
        Assert.Equal(response.Text, updates.ToChatResponse().Text);

        using IEmbeddingGenerator<string, Embedding<float>> embedder = sdk.GetEmbeddingClient("local/local-embedding").AsIEmbeddingGenerator();
        var vectors = await embedder.GenerateAsync(["lobby screen is dark", "the lobby screen went dark", "quarterly revenue grew"], cancellationToken: Ct);
        Assert.Equal(3, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(256, v.Vector.Length));
        var near = Cosine(vectors[0].Vector.Span, vectors[1].Vector.Span);
        var far = Cosine(vectors[0].Vector.Span, vectors[2].Vector.Span);
        Assert.True(near > far + 0.2, $"similar texts {near}, unrelated {far}");

        var rows = await UsageAsync(user.Id, 3);
        Assert.Equal(["chat.completion", "chat.completion", "embedding"], rows.Select(r => r.SubjectType).Order());
    }

    [Fact]
    public async Task Embeddings_come_as_floats_or_base64_and_the_same_text_gives_the_same_vector()
    {
        var (_, key) = await CallerAsync();
        EmbeddingClient embeddings = Sdk(key).GetEmbeddingClient("local/local-embedding");
        OpenAIEmbedding one = await embeddings.GenerateEmbeddingAsync("screen four", new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 64 }, Ct);
        OpenAIEmbedding again = await embeddings.GenerateEmbeddingAsync("screen four", new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 64 }, Ct);
        Assert.Equal(64, one.ToFloats().Length);
        Assert.Equal(one.ToFloats().ToArray(), again.ToFloats().ToArray());

        using var http = fixture.CreateClient(key);
        var floats = await http.PostAsJsonAsync("/openai/v1/embeddings", new { model = "local/local-embedding", input = "screen four", encoding_format = "float", dimensions = 64 }, Ct);
        using var json = JsonDocument.Parse(await floats.Content.ReadAsStringAsync(Ct));
        var values = json.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(one.ToFloats().ToArray(), values);
        Assert.Equal("local/local-embedding", json.RootElement.GetProperty("model").GetString());
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task Models_lists_what_the_caller_may_use_and_one_model_is_found_by_its_provider_and_id()
    {
        var (_, key) = await CallerAsync();
        var models = Sdk(key).GetOpenAIModelClient();
        var list = (await models.GetModelsAsync(Ct)).Value.Select(m => m.Id).ToList();
        Assert.Contains("local/local-text", list);
        Assert.Contains("local/local-embedding", list);
        Assert.DoesNotContain("local/local-image", list); // neither chat nor embeddings
        Assert.DoesNotContain("openai/gpt-4o-mini", list); // no key the caller may use
        var one = (await models.GetModelAsync("local/local-text", Ct)).Value;
        Assert.Equal("local", one.OwnedBy);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("openai/gpt-4o-mini", Ct));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task A_paid_vendor_is_called_with_the_callers_key_and_every_call_it_may_bill_is_recorded()
    {
        var (user, key) = await CallerAsync();
        using (var client = fixture.CreateClient(user.Token))
        {
            (await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-gateway-personal-0123456789" }, Ct)).EnsureSuccessStatusCode();
        }
        var calls = 0;
        fixture.Vendor.Handler = async (context, request) =>
        {
            Interlocked.Increment(ref calls);
            Assert.Equal("Bearer sk-gateway-personal-0123456789", request.Headers["Authorization"]);
            using var body = JsonDocument.Parse(request.Body);
            Assert.Equal("gpt-4o-mini", body.RootElement.GetProperty("model").GetString());
            if (body.RootElement.TryGetProperty("stream", out var stream) && stream.GetBoolean())
            {
                await FakeVendor.ChatStreamAsync(context, "Hello from the vendor");
                return;
            }
            if (body.RootElement.GetProperty("messages")[0].GetProperty("content").GetString()!.Contains("fail", StringComparison.Ordinal))
            {
                await FakeVendor.JsonAsync(context, 400, """{"error":{"message":"Bad things","type":"invalid_request_error","code":null}}""");
                return;
            }
            await FakeVendor.JsonAsync(context, 200, """
                {"id":"chatcmpl-v1","object":"chat.completion","created":1760000000,"model":"gpt-4o-mini-2024-07-18",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the vendor"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":2}}}
                """);
        };
        var chat = Sdk(key).GetChatClient("openai/gpt-4o-mini");
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Ct);
        Assert.Equal("Hello from the vendor", whole.Content[0].Text);
        Assert.Equal("openai/gpt-4o-mini", whole.Model);
        Assert.Equal((12, 4, 8, 2), (whole.Usage.InputTokenCount, whole.Usage.OutputTokenCount, whole.Usage.InputTokenDetails.CachedTokenCount, whole.Usage.OutputTokenDetails.ReasoningTokenCount));
        var text = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")], cancellationToken: Ct))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
        }
        Assert.Equal("Hello from the vendor", text.ToString());
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("please fail")], cancellationToken: Ct));
        Assert.Equal(502, refused.Status);
        var error = JsonDocument.Parse(refused.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("vendor_bad_request", error.GetProperty("code").GetString());
        Assert.DoesNotContain("sk-gateway-personal", refused.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);

        var rows = await UsageAsync(user.Id, 3);
        Assert.Equal(calls, rows.Count);
        Assert.Equal(["failed", "succeeded", "succeeded"], rows.Select(r => r.Status).Order());
        Assert.Equal(12, rows.First(r => r.Status == "succeeded").Input);
        Assert.DoesNotContain(fixture.Logs, line => line.Contains("sk-gateway-personal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_budget_refuses_before_any_vendor_call_and_nothing_is_written()
    {
        var (user, key) = await CallerAsync();
        using (var root = fixture.CreateClient(await fixture.AdminTokenAsync()))
        {
            (await root.PutAsJsonAsync($"/api/v1/budgets/users/{user.Id}", new { tokensPerDay = 100 }, Ct)).EnsureSuccessStatusCode();
        }
        var chat = Sdk(key).GetChatClient("local/local-text");
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 500 }, Ct));
        Assert.Equal(429, refused.Status);
        var raw = refused.GetRawResponse()!;
        Assert.Equal("budget_exceeded", JsonDocument.Parse(raw.Content.ToString()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(raw.Headers.TryGetValue("Retry-After", out _));
        // Within the budget it goes through.
        ChatCompletion small = await chat.CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 20 }, Ct);
        Assert.NotEmpty(small.Content[0].Text);
        Assert.Single(await UsageAsync(user.Id, 1));
        Assert.Equal(0, await fixture.Database.ScalarAsync<decimal>("SELECT coalesce(sum(tokens), 0) FROM budget_holds WHERE subject_id = $1", user.Id));
    }

    [Fact]
    public async Task Bad_input_unknown_models_and_missing_keys_are_OpenAI_errors_that_change_nothing()
    {
        var (user, key) = await CallerAsync();
        using var http = fixture.CreateClient(key, "th");
        foreach (var (body, param) in new (object Body, string Param)[]
        {
            (new { model = "local/local-text", messages = Array.Empty<object>() }, "messages"),
            (new { model = "local/local-text", messages = new[] { new { role = "wizard", content = "hi" } } }, "messages[0].role"),
            (new { messages = new[] { new { role = "user", content = "hi" } } }, "model"),
            (new { model = "local/local-text", messages = new[] { new { role = "user", content = "hi" } }, temperature = 7 }, "temperature"),
            (new { model = "local/local-text", messages = new[] { new { role = "user", content = "hi" } }, n = 3 }, "n"),
            (new { model = "local/local-text", messages = new[] { new { role = "user", content = "hi" } }, response_format = new { type = "xml" } }, "response_format.type"),
        })
        {
            var response = await http.PostAsJsonAsync("/openai/v1/chat/completions", body, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
        var unknown = await http.PostAsJsonAsync("/openai/v1/chat/completions", new { model = "local/no-such-model", messages = new[] { new { role = "user", content = "hi" } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("model_unavailable", JsonDocument.Parse(await unknown.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error").GetProperty("code").GetString());
        var noKey = await http.PostAsJsonAsync("/openai/v1/chat/completions", new { model = "anthropic/claude-3-5-haiku-latest", messages = new[] { new { role = "user", content = "hi" } } }, Ct);
        var noKeyText = await noKey.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        Assert.Equal("ai_key_missing", JsonDocument.Parse(noKeyText).RootElement.GetProperty("error").GetProperty("code").GetString());
        var images = await http.PostAsJsonAsync("/openai/v1/embeddings", new { model = "local/local-text", input = "hi" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, images.StatusCode);
        Assert.Empty(await UsageAsync(user.Id, 0));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.CreateClient().PostAsJsonAsync("/openai/v1/chat/completions", new { }, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_stream_stops_the_vendor_call_and_the_call_is_still_recorded()
    {
        var (user, key) = await CallerAsync();
        using (var client = fixture.CreateClient(user.Token))
        {
            (await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-gateway-slow-0123456789" }, Ct)).EnsureSuccessStatusCode();
        }
        var vendorStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Vendor.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            try
            {
                for (var i = 0; i < 600; i++)
                {
                    await context.Response.WriteAsync($"data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(50, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                vendorStopped.TrySetResult();
            }
        };
        using var http = fixture.CreateClient(key);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "openai/gpt-4o-mini", stream = true, messages = new[] { new { role = "user", content = "talk for a minute" } } }),
        };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("x-aiprompts-overhead-ms"));
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        Assert.StartsWith("data: ", await reader.ReadLineAsync(leave.Token), StringComparison.Ordinal);
        // The client goes away: its connection closes mid-answer.
        await leave.CancelAsync();
        reader.Dispose();
        response.Dispose();
        await vendorStopped.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var row = Assert.Single(await UsageAsync(user.Id, 1));
        Assert.Equal("cancelled", row.Status);
        Assert.True(row.Input > 0);
    }

    /// <summary>
    /// The record that a call began is committed before the vendor is called: an Api killed by SIGKILL mid-stream leaves it,
    /// and the Worker's sweep counts the call (interrupted, at its estimate) once it is older than Gateway:AbandonedAfter.
    /// </summary>
    [Fact]
    public async Task An_Api_killed_mid_stream_loses_no_call_the_vendor_may_bill()
    {
        var (user, key) = await CallerAsync();
        using (var client = fixture.CreateClient(user.Token))
        {
            (await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-gateway-killed-0123456789" }, Ct)).EnsureSuccessStatusCode();
        }
        fixture.Vendor.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < 600 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.WriteAsync($"data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(50);
            }
        };
        await using var api = WorkerProcess.Start(fixture, "Api", new Dictionary<string, string> { ["Auth__Jwt__SigningKey"] = ApiFactory.SigningKey });
        for (var i = 0; ; i++)
        {
            try
            {
                if ((await api.Http.GetAsync("/alive", Ct)).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (i < 300)
            {
            }
            Assert.False(api.HasExited, string.Join('\n', api.Output));
            await Task.Delay(100, Ct);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "openai/gpt-4o-mini", stream = true, messages = new[] { new { role = "user", content = "talk for a minute" } } }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        var response = await api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        Assert.StartsWith("data: ", await reader.ReadLineAsync(Ct), StringComparison.Ordinal);
        api.Signal("KILL");
        Assert.True(await api.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        reader.Dispose();
        response.Dispose();
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM gateway_calls WHERE user_id = $1", user.Id));
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));

        await using var worker = WorkerProcess.Start(fixture, new Dictionary<string, string> { ["Gateway__AbandonedAfter"] = "00:00:10", ["Gateway__SweepInterval"] = "00:00:01" });
        var row = (await UsageAsync(user.Id, 1, TimeSpan.FromSeconds(40))).Single();
        Assert.Equal(("chat.completion", "interrupted"), (row.SubjectType, row.Status));
        Assert.True(row.Input > 1024); // the estimate: the prompt and the longest answer allowed
        Assert.Equal("gateway_call_lost", await fixture.Database.ScalarAsync<string>("SELECT error_code FROM usage_events WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Another_users_key_cannot_reach_the_surface_without_the_prompts_scope()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var made = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "templates only", scopes = new[] { "templates:read" } }, Ct);
        var key = JsonDocument.Parse(await made.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("data").GetProperty("key").GetString()!;
        using var http = fixture.CreateClient(key);
        var refused = await http.GetAsync("/openai/v1/models", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("permission_error", JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
