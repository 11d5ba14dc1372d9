using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Assistants;

/// <summary>The Korean document's API (REQUIREMENTS §E) in the OpenAI Assistants wire format, through a real Worker process.</summary>
public sealed class ThreadsApiTests(ThreadsApiTests.Fixture fixture) : IClassFixture<ThreadsApiTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpClient> ClientAsync(TestUser? user = null)
    {
        user ??= await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var made = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "signage panel" }, Ct);
        return fixture.CreateClient((await made.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("key").GetString()!);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task A_new_chat_creates_a_thread_and_a_continued_chat_answers_with_the_whole_conversation_as_context()
    {
        using var client = await ClientAsync();
        var first = await JsonAsync(await client.PostAsync("/api/v1/chat", Body("""{"message": "What is the average dwell time in front of screen 3?"}"""), Ct));
        Assert.Equal(["message", "thread_id", "role", "created_at"], first.EnumerateObject().Select(p => p.Name));
        Assert.Equal("assistant", first.GetProperty("role").GetString());
        Assert.StartsWith("thread_", first.GetProperty("thread_id").GetString(), StringComparison.Ordinal);
        Assert.Contains("dwell time", first.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(first.GetProperty("created_at").GetInt64(), Now - 60, Now + 5);
        var thread = first.GetProperty("thread_id").GetString()!;

        var second = await JsonAsync(await client.PostAsync("/api/v1/chat", Body($$"""{"message": "And for screen 4? {\"screen\": 4, \"visits\": [12, 30]}", "thread_id": "{{thread}}"}"""), Ct));
        Assert.Equal(thread, second.GetProperty("thread_id").GetString());
        Assert.Contains("screen 4?", second.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The second run saw the first exchange: its prompt is the whole thread (the local model counts it).
        var messages = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?order=asc", Ct));
        Assert.Equal(["user", "assistant", "user", "assistant"], messages.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(second.GetProperty("message").GetString(), messages.GetProperty("data")[3].GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());
        var prompts = await fixture.Database.ScalarAsync<string>("""
            SELECT string_agg(prompt_tokens::text, ',' ORDER BY created_at) FROM assistant_runs WHERE thread_id = $1
            """, Guid.ParseExact(thread["thread_".Length..], "N"));
        var tokens = prompts.Split(',').Select(long.Parse).ToArray();
        Assert.Equal(2, tokens.Length);
        Assert.True(tokens[1] > tokens[0] + 20, $"the second run's prompt ({tokens[1]} tokens) should hold the first exchange ({tokens[0]})");
        Assert.Equal(2, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE subject_type = 'assistant_run' AND subject_id IN (SELECT id FROM assistant_runs WHERE thread_id = $1)",
            Guid.ParseExact(thread["thread_".Length..], "N")));
    }

    [Fact]
    public async Task Thread_message_run_poll_as_the_document_shows()
    {
        using var client = await ClientAsync();
        var thread = await JsonAsync(await client.PostAsync("/api/v1/threads", Body("{}"), Ct));
        Assert.Equal(["id", "object", "created_at", "metadata", "tool_resources"], thread.EnumerateObject().Select(p => p.Name));
        Assert.Equal("thread", thread.GetProperty("object").GetString());
        Assert.Empty(thread.GetProperty("metadata").EnumerateObject());
        var id = thread.GetProperty("id").GetString()!;

        var message = await JsonAsync(await client.PostAsync($"/api/v1/threads/{id}/messages", Body("""{"content": "Which campaign played most on Monday?", "role": "user"}"""), Ct));
        Assert.StartsWith("msg_", message.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("thread.message", message.GetProperty("object").GetString());
        Assert.Equal(id, message.GetProperty("thread_id").GetString());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("text", message.GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("Which campaign played most on Monday?", message.GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());

        var run = await JsonAsync(await client.PostAsync($"/api/v1/threads/{id}/runs", Body("{}"), Ct));
        Assert.StartsWith("run_", run.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("thread.run", run.GetProperty("object").GetString());
        Assert.StartsWith("asst_", run.GetProperty("assistant_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(id, run.GetProperty("thread_id").GetString());
        Assert.Contains(run.GetProperty("status").GetString(), new[] { "queued", "in_progress" });
        Assert.Contains("digital signage", run.GetProperty("instructions").GetString(), StringComparison.Ordinal);
        var runId = run.GetProperty("id").GetString()!;

        JsonElement polled;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(50, Ct);
            polled = await JsonAsync(await client.GetAsync($"/api/v1/threads/{id}/runs/{runId}", Ct));
        }
        while (polled.GetProperty("status").GetString() is "queued" or "in_progress" && DateTime.UtcNow < deadline);
        Assert.Equal("completed", polled.GetProperty("status").GetString());
        Assert.InRange(polled.GetProperty("completed_at").GetInt64(), Now - 60, Now + 5);
        Assert.True(polled.GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, polled.GetProperty("last_error").ValueKind);

        var list = await JsonAsync(await client.GetAsync($"/api/v1/threads/{id}/messages", Ct));
        Assert.Equal("list", list.GetProperty("object").GetString());
        var data = list.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["assistant", "user"], data.Select(m => m.GetProperty("role").GetString())); // newest first
        Assert.Equal(runId, data[0].GetProperty("run_id").GetString());
        Assert.Contains("campaign", data[0].GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Equal(data[0].GetProperty("id").GetString(), list.GetProperty("first_id").GetString());
        Assert.Equal(data[1].GetProperty("id").GetString(), list.GetProperty("last_id").GetString());
        Assert.False(list.GetProperty("has_more").GetBoolean());

        // The run's one step wrote that answer.
        var step = Assert.Single((await JsonAsync(await client.GetAsync($"/api/v1/threads/{id}/runs/{runId}/steps", Ct))).GetProperty("data").EnumerateArray());
        Assert.Equal(("thread.run.step", "message_creation", "completed"), (step.GetProperty("object").GetString(), step.GetProperty("type").GetString(), step.GetProperty("status").GetString()));
        Assert.Equal(data[0].GetProperty("id").GetString(), step.GetProperty("step_details").GetProperty("message_creation").GetProperty("message_id").GetString());
        Assert.Equal(polled.GetProperty("usage").GetProperty("total_tokens").GetInt64(), step.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        await JsonAsync(await client.GetAsync($"/api/v1/threads/{id}/runs/{runId}/steps/step_{runId["run_".Length..]}0001", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Errors_come_in_OpenAIs_shape_and_another_users_thread_is_404()
    {
        using var client = await ClientAsync();
        var invalid = await JsonAsync(await client.PostAsync("/api/v1/chat", Body("{}"), Ct), HttpStatusCode.BadRequest);
        var error = invalid.GetProperty("error");
        Assert.Equal("validation_failed", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("message", error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("userMessage").GetString()));

        var thread = (await JsonAsync(await client.PostAsync("/api/v1/threads", Body("""{"metadata": {"screen": "lobby"}}"""), Ct))).GetProperty("id").GetString()!;
        using var stranger = await ClientAsync();
        foreach (var path in (string[])[$"/api/v1/threads/{thread}", $"/api/v1/threads/{thread}/messages"])
        {
            var hidden = await JsonAsync(await stranger.GetAsync(path, Ct), HttpStatusCode.NotFound);
            Assert.Equal("not_found", hidden.GetProperty("error").GetProperty("code").GetString());
        }
        await JsonAsync(await stranger.PostAsync($"/api/v1/threads/{thread}/runs", Body("{}"), Ct), HttpStatusCode.NotFound);
        await JsonAsync(await stranger.PostAsync("/api/v1/chat", Body($$"""{"message": "hi", "thread_id": "{{thread}}"}"""), Ct), HttpStatusCode.NotFound);

        using var anonymous = fixture.CreateClient();
        var unsigned = await JsonAsync(await anonymous.PostAsync("/api/v1/threads", Body("{}"), Ct), HttpStatusCode.Unauthorized);
        Assert.Equal("authentication_error", unsigned.GetProperty("error").GetProperty("type").GetString());

        using var thai = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token, "th");
        var translated = await JsonAsync(await thai.PostAsync("/api/v1/chat", Body("{}"), Ct), HttpStatusCode.BadRequest);
        Assert.Matches("[\u0E00-\u0E7F]", translated.GetProperty("error").GetProperty("userMessage").GetString()!);
    }

    [Fact]
    public async Task A_thread_with_an_active_run_refuses_another_run_and_new_messages()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = await ClientAsync(user);
        var thread = (await JsonAsync(await client.PostAsync("/api/v1/threads", Body("{}"), Ct))).GetProperty("id").GetString()!;
        var threadId = Guid.ParseExact(thread["thread_".Length..], "N");
        // A run whose job waits an hour: active for as long as the test needs.
        var runId = Guid.CreateVersion7();
        await fixture.Database.ExecuteAsync($$"""
            INSERT INTO jobs (id, kind, subject_id, status, attempt, max_attempts, run_after, cancel_requested, created_at, updated_at)
            VALUES ('{{runId}}', 'assistant_run', '{{runId}}', 'queued', 0, 5, now() + interval '1 hour', false, now(), now());
            INSERT INTO assistant_runs (id, thread_id, user_id, assistant_id, job_id, status, provider_id, model_id, tools, metadata, created_at)
            VALUES ('{{runId}}', '{{threadId}}', '{{user.Id}}', '0193a000-0000-7000-8000-000000000001', '{{runId}}', 'queued', 'local', 'local-text', '[]', '{}', now());
            """);
        var busy = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs", Body("{}"), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("thread_run_active", busy.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"run_{runId:N}", busy.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var message = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/messages", Body("""{"role": "user", "content": "hello?"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("thread_run_active", message.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM assistant_runs WHERE thread_id = $1", threadId));
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM thread_messages WHERE thread_id = $1", threadId));

        // Cancelled, the thread is free again.
        var cancelled = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs/run_{runId:N}/cancel", null, Ct));
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/messages", Body("""{"role": "user", "content": "hello?"}"""), Ct));
    }

    [Fact]
    public async Task Messages_page_with_after_and_before_over_250_messages()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = await ClientAsync(user);
        var messages = Enumerable.Range(0, 250).Select(i => new { role = "user", content = $"note {i}" }).ToList();
        var thread = (await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads", new { messages }, Ct))).GetProperty("id").GetString()!;

        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?order=asc&limit=100{(after is null ? "" : "&after=" + after)}", Ct));
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString()!));
            if (!page.GetProperty("has_more").GetBoolean())
            {
                break;
            }
            after = page.GetProperty("last_id").GetString();
        }
        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"note {i}"), seen);

        // Newest first, and back again with before.
        var newest = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?limit=10", Ct));
        Assert.Equal("note 249", newest.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());
        var older = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?limit=10&after={newest.GetProperty("last_id").GetString()}", Ct));
        Assert.Equal("note 239", older.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());
        var back = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?limit=10&before={older.GetProperty("first_id").GetString()}", Ct));
        Assert.Equal(newest.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()), back.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        var bad = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/messages?limit=101&order=sideways", Ct), HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", bad.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Admins_make_assistants_a_super_admin_shares_them_and_a_run_uses_the_assistants_instructions()
    {
        var user = await fixture.CreateUserAsync("user");
        using var userClient = fixture.CreateClient(user.Token);
        var refused = await JsonAsync(await userClient.PostAsync("/api/v1/assistants", Body("""{"name": "mine"}"""), Ct), HttpStatusCode.Forbidden);
        Assert.Equal("permission_error", refused.GetProperty("error").GetProperty("type").GetString());

        var admin = await fixture.CreateUserAsync("admin");
        using var adminClient = fixture.CreateClient(admin.Token);
        var notShared = await JsonAsync(await adminClient.PostAsync("/api/v1/assistants", Body("""{"name": "x", "shared": true}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("shared", notShared.GetProperty("error").GetProperty("param").GetString());
        var badModel = await JsonAsync(await adminClient.PostAsync("/api/v1/assistants", Body("""{"model": "gpt-9"}"""), Ct), HttpStatusCode.BadRequest);
        // "NaN" is a number JSON readers may accept from a string: refused, never stored (a NaN cannot be written back as JSON).
        var notANumber = await JsonAsync(await adminClient.PostAsync("/api/v1/assistants", Body("""{"temperature": "NaN"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("temperature", notANumber.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("model", badModel.GetProperty("error").GetProperty("param").GetString());
        var own = await JsonAsync(await adminClient.PostAsync("/api/v1/assistants", Body("""{"name": "Store 42 analyst", "model": "local-text", "instructions": "Answer for store 42 only.", "metadata": {"team": "retail"}}"""), Ct));
        Assert.Equal("assistant", own.GetProperty("object").GetString());
        Assert.Equal("local-text", own.GetProperty("model").GetString());
        var ownId = own.GetProperty("id").GetString()!;
        await JsonAsync(await userClient.GetAsync($"/api/v1/assistants/{ownId}", Ct), HttpStatusCode.NotFound); // not shared: not the user's to see

        var root = await fixture.CreateUserAsync("super_admin");
        using var rootClient = fixture.CreateClient(root.Token);
        var shared = await JsonAsync(await rootClient.PostAsync("/api/v1/assistants", Body("""{"name": "Signage analyst", "instructions": "You analyse screen 7 only.", "shared": true}"""), Ct));
        var sharedId = shared.GetProperty("id").GetString()!;
        var visible = await JsonAsync(await userClient.GetAsync("/api/v1/assistants", Ct));
        var ids = visible.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("id").GetString()).ToList();
        Assert.Contains(sharedId, ids);
        Assert.DoesNotContain(ownId, ids);
        await JsonAsync(await adminClient.PostAsync($"/api/v1/assistants/{sharedId}", Body("""{"name": "taken over"}"""), Ct), HttpStatusCode.NotFound);

        var thread = (await JsonAsync(await userClient.PostAsync("/api/v1/threads", Body("""{"messages": [{"role": "user", "content": "How many plays today?"}]}"""), Ct))).GetProperty("id").GetString()!;
        var run = await JsonAsync(await userClient.PostAsync($"/api/v1/threads/{thread}/runs", Body($$"""{"assistant_id": "{{sharedId}}", "additional_instructions": "Be brief."}"""), Ct));
        Assert.Equal(sharedId, run.GetProperty("assistant_id").GetString());
        Assert.Equal("You analyse screen 7 only.", run.GetProperty("instructions").GetString());
        await JsonAsync(await userClient.PostAsync($"/api/v1/threads/{thread}/runs", Body($$"""{"assistant_id": "{{ownId}}"}"""), Ct), HttpStatusCode.NotFound);

        // Pages of assistants: newest first, has_more, after and before.
        for (var i = 0; i < 3; i++)
        {
            await JsonAsync(await adminClient.PostAsync("/api/v1/assistants", Body($$"""{"name": "page {{i}}"}"""), Ct));
        }
        var first = await JsonAsync(await adminClient.GetAsync("/api/v1/assistants?limit=2", Ct));
        Assert.Equal(["page 2", "page 1"], first.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var second = await JsonAsync(await adminClient.GetAsync($"/api/v1/assistants?limit=2&after={first.GetProperty("last_id").GetString()}", Ct));
        Assert.Equal("page 0", second.GetProperty("data")[0].GetProperty("name").GetString());
        var back = await JsonAsync(await adminClient.GetAsync($"/api/v1/assistants?limit=2&before={second.GetProperty("first_id").GetString()}", Ct));
        Assert.Equal(first.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("id").GetString()), back.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        var ascending = await JsonAsync(await adminClient.GetAsync($"/api/v1/assistants?order=asc&after={second.GetProperty("first_id").GetString()}", Ct));
        Assert.Equal(["page 1", "page 2"], ascending.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        await JsonAsync(await adminClient.GetAsync("/api/v1/assistants?after=thread_1", Ct), HttpStatusCode.BadRequest);

        var deleted = await JsonAsync(await rootClient.DeleteAsync($"/api/v1/assistants/{ownId}", Ct));
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        await JsonAsync(await adminClient.GetAsync($"/api/v1/assistants/{ownId}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_unanswered_requires_action_expires_and_frees_the_thread()
    {
        var admin = await fixture.CreateUserAsync("admin");
        using var client = fixture.CreateClient(admin.Token);
        var assistant = (await JsonAsync(await client.PostAsync("/api/v1/assistants", Body("""
            {"model": "local-text", "tools": [{"type": "function", "function": {"name": "get_plays", "parameters": {"type": "object", "properties": {"screen": {"type": "integer"}}}}}]}
            """), Ct))).GetProperty("id").GetString();
        var badTool = await JsonAsync(await client.PostAsync("/api/v1/assistants", Body("""{"tools": [{"type": "function", "function": {"name": "no spaces"}}]}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("tools[0].function.name", badTool.GetProperty("error").GetProperty("param").GetString());

        var thread = (await JsonAsync(await client.PostAsync("/api/v1/threads", Body("""{"messages": [{"role": "user", "content": "Use get_plays for screen 9."}]}"""), Ct))).GetProperty("id").GetString()!;
        var runId = (await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs", Body($$"""{"assistant_id": "{{assistant}}"}"""), Ct))).GetProperty("id").GetString()!;
        JsonElement run;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(50, Ct);
            run = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}", Ct));
        }
        while (run.GetProperty("status").GetString() is "queued" or "in_progress" && DateTime.UtcNow < deadline);
        Assert.Equal("requires_action", run.GetProperty("status").GetString());
        var call = run.GetProperty("required_action").GetProperty("submit_tool_outputs").GetProperty("tool_calls")[0];
        Assert.InRange(run.GetProperty("expires_at").GetInt64(), Now + 500, Now + 601); // ten minutes
        var notYet = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs/{runId}/cancel", null, Ct), HttpStatusCode.Conflict);
        Assert.Equal("not_cancellable", notYet.GetProperty("error").GetProperty("code").GetString());
        var wrong = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs/{runId}/submit_tool_outputs", Body("""{"tool_outputs": [{"tool_call_id": "call_other", "output": "1"}]}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("tool_outputs", wrong.GetProperty("error").GetProperty("param").GetString());

        await fixture.Database.ExecuteAsync($"UPDATE assistant_runs SET expires_at = now() - interval '1 second' WHERE id = '{Guid.ParseExact(runId["run_".Length..], "N")}'");
        var expired = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}", Ct));
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        var calls = Assert.Single((await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}/steps", Ct))).GetProperty("data").EnumerateArray());
        Assert.Equal(("tool_calls", "expired"), (calls.GetProperty("type").GetString(), calls.GetProperty("status").GetString()));
        Assert.Equal(call.GetProperty("id").GetString(), calls.GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, calls.GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("output").ValueKind);
        Assert.Equal(JsonValueKind.Null, expired.GetProperty("required_action").ValueKind);
        var late = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs/{runId}/submit_tool_outputs",
            Body($$"""{"tool_outputs": [{"tool_call_id": "{{call.GetProperty("id").GetString()}}", "output": "41"}]}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Contains("expired", late.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/messages", Body("""{"role": "user", "content": "Never mind."}"""), Ct));
    }

    [Fact]
    public async Task Truncation_last_messages_and_max_prompt_tokens_bound_the_context()
    {
        using var client = await ClientAsync();
        var messages = Enumerable.Range(0, 20).Select(i => new { role = "user", content = $"Screen {i} played the spring campaign {i * 3} times today." }).ToList();
        var thread = (await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads", new { messages }, Ct))).GetProperty("id").GetString()!;

        async Task<JsonElement> RunAsync(string body)
        {
            var run = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs", Body(body), Ct));
            var id = run.GetProperty("id").GetString();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (run.GetProperty("status").GetString() is "queued" or "in_progress" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Ct);
                run = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{id}", Ct));
            }
            Assert.Equal("completed", run.GetProperty("status").GetString());
            return run;
        }

        var last = await RunAsync("""{"truncation_strategy": {"type": "last_messages", "last_messages": 1}}""");
        Assert.Equal("last_messages", last.GetProperty("truncation_strategy").GetProperty("type").GetString());
        Assert.Equal(1, last.GetProperty("truncation_strategy").GetProperty("last_messages").GetInt32());
        var bounded = await RunAsync("""{"max_prompt_tokens": 300}""");
        Assert.Equal(300, bounded.GetProperty("max_prompt_tokens").GetInt32());
        var all = await RunAsync("{}");
        long Prompt(JsonElement run) => run.GetProperty("usage").GetProperty("prompt_tokens").GetInt64();
        Assert.True(Prompt(last) < Prompt(bounded) && Prompt(bounded) < Prompt(all), $"last_messages 1: {Prompt(last)}, max_prompt_tokens 300: {Prompt(bounded)}, auto: {Prompt(all)}");
        Assert.True(Prompt(bounded) <= 300 + 100, $"{Prompt(bounded)} prompt tokens for a bound of 300");

        var invalid = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs", Body("""{"truncation_strategy": {"type": "last_messages"}}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("truncation_strategy", invalid.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_working_run_cancels_within_two_seconds_and_deleting_its_thread_ends_a_stream_with_an_error_event()
    {
        var marker = $"hang-{Guid.NewGuid():N}";
        var aborted = 0;
        var handler = fixture.Vendor.Handler;
        fixture.Vendor.Handler = async (context, request) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(1), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref aborted);
            }
        };
        try
        {
            var admin = await fixture.CreateUserAsync("admin");
            await fixture.SetOpenAiKeyAsync(admin);
            using var client = fixture.CreateClient(admin.Token);
            var assistant = (await JsonAsync(await client.PostAsync("/api/v1/assistants", Body("""{"model": "openai/gpt-4o-mini"}"""), Ct))).GetProperty("id").GetString();
            var thread = (await JsonAsync(await client.PostAsync("/api/v1/threads", Body($$"""{"messages": [{"role": "user", "content": "{{marker}} one"}]}"""), Ct))).GetProperty("id").GetString()!;
            var runId = (await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs", Body($$"""{"assistant_id": "{{assistant}}"}"""), Ct))).GetProperty("id").GetString()!;
            await WaitUntilAsync(() => fixture.Vendor.Requests.Any(r => r.Body.Contains($"{marker} one", StringComparison.Ordinal)));

            var working = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}", Ct));
            Assert.Equal("in_progress", working.GetProperty("status").GetString());
            var step = Assert.Single((await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}/steps", Ct))).GetProperty("data").EnumerateArray());
            Assert.Equal(("message_creation", "in_progress"), (step.GetProperty("type").GetString(), step.GetProperty("status").GetString()));
            Assert.Equal($"msg_{runId["run_".Length..]}", step.GetProperty("step_details").GetProperty("message_creation").GetProperty("message_id").GetString());

            var started = DateTime.UtcNow;
            var cancelling = await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/runs/{runId}/cancel", null, Ct));
            Assert.Equal("cancelling", cancelling.GetProperty("status").GetString());
            JsonElement run;
            do
            {
                await Task.Delay(20, Ct);
                run = await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}", Ct));
            }
            while (run.GetProperty("status").GetString() == "cancelling" && DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
            Assert.Equal("cancelled", run.GetProperty("status").GetString());
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"Cancelling took {(DateTime.UtcNow - started).TotalSeconds:0.00} s.");
            Assert.InRange(run.GetProperty("cancelled_at").GetInt64(), Now - 10, Now + 1);
            await WaitUntilAsync(() => Volatile.Read(ref aborted) == 1);
            var cancelledStep = (await JsonAsync(await client.GetAsync($"/api/v1/threads/{thread}/runs/{runId}/steps/{step.GetProperty("id").GetString()}", Ct)));
            Assert.Equal("cancelled", cancelledStep.GetProperty("status").GetString());
            Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE status = 'cancelled' AND subject_id = $1", Guid.ParseExact(runId["run_".Length..], "N")));

            // A streamed run whose thread is deleted meanwhile: the stream says so with an error event, and the run's vendor call stops.
            await JsonAsync(await client.PostAsync($"/api/v1/threads/{thread}/messages", Body($$"""{"role": "user", "content": "{{marker}} two"}"""), Ct));
            using var streamRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/threads/{thread}/runs") { Content = Body($$"""{"assistant_id": "{{assistant}}", "stream": true}""") };
            using var response = await client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, Ct);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var events = new List<(string Event, string Data)>();
            await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync(Ct)).EnumerateAsync(Ct))
            {
                events.Add((item.EventType, item.Data));
                if (item.EventType == "thread.run.in_progress")
                {
                    await WaitUntilAsync(() => fixture.Vendor.Requests.Any(r => r.Body.Contains($"{marker} two", StringComparison.Ordinal)));
                    await JsonAsync(await client.DeleteAsync($"/api/v1/threads/{thread}", Ct));
                }
            }
            Assert.Equal(["thread.run.created", "thread.run.queued", "thread.run.in_progress", "error"], events.Select(e => e.Event));
            var error = JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("error");
            Assert.Equal("not_found", error.GetProperty("code").GetString());
            Assert.Contains("deleted", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            await WaitUntilAsync(() => Volatile.Read(ref aborted) == 2);
        }
        finally
        {
            fixture.Vendor.Handler = handler;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s.");
            await Task.Delay(20, Ct);
        }
    }
}
