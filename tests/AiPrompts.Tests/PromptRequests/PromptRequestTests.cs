using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.PromptRequests;

/// <summary>Prompt requests through the Api, run by a real Worker process against real Postgres and Redis.</summary>
public sealed class PromptRequestTests(PromptRequestTests.Fixture fixture) : IClassFixture<PromptRequestTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

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

    private static async Task<(Guid Id, HttpResponseMessage Response)> SubmitAsync(HttpClient client, object body, string? idempotencyKey = null, string? prefer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }
        var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return (JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("id").GetGuid(), response);
    }

    /// <summary>An OpenAI chat stream of these pieces, with usage in the last chunk.</summary>
    private static async Task StreamAsync(HttpContext context, TimeSpan pause, params string[] pieces)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        foreach (var piece in pieces)
        {
            var chunk = JsonSerializer.Serialize(new { id = "c1", @object = "chat.completion.chunk", model = "gpt-4o-mini", choices = new[] { new { index = 0, delta = new { content = piece }, finish_reason = (string?)null } } });
            await context.Response.WriteAsync($"data: {chunk}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, context.RequestAborted);
            }
        }
        await context.Response.WriteAsync("""
            data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

            data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}

            data: [DONE]


            """, context.RequestAborted);
    }

    private IEnumerable<RecordedRequest> VendorCalls(string marker) => fixture.Vendor.Requests.Where(r => r.Body.Contains(marker, StringComparison.Ordinal));

    private async Task<HttpClient> OpenAiUserAsync(string role = "user", string? language = null)
    {
        var user = await fixture.CreateUserAsync(role);
        await fixture.SetOpenAiKeyAsync(user);
        return fixture.CreateClient(user.Token, language);
    }

    [Fact]
    public async Task Prefer_wait_answers_with_the_result_when_it_is_ready_in_time()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var (id, response) = await SubmitAsync(client, new { promptType = "code", promptText = "Write hello world in C#" }, prefer: "wait=10");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("wait=10", response.Headers.GetValues("Preference-Applied").Single());
        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("data");
        Assert.Equal("completed", data.GetProperty("status").GetString());
        Assert.Equal(id, data.GetProperty("id").GetGuid());
        Assert.Equal("content", data.GetProperty("section").GetString());
    }

    [Fact]
    public async Task Bad_input_and_refused_keys_get_clear_errors_and_write_nothing()
    {
        var user = await fixture.CreateUserAsync("admin");
        using var client = fixture.CreateClient(user.Token, "th");

        var unknownType = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "poetry", promptText = "x" }, Ct);
        var problem = await Problem.ReadAsync(unknownType, HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", problem.Code);
        Assert.Contains("promptType", problem.Root.GetProperty("errors").EnumerateObject().Select(p => p.Name));

        var badMetadata = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "x", metadata = new[] { 1, 2 }, purpose = new { code = "Not A Code" } }, Ct);
        var errors = (await Problem.ReadAsync(badMetadata, HttpStatusCode.BadRequest)).Root.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("metadata", errors);
        Assert.Contains("purpose.code", errors);

        // OpenAI without any key: refused at submit with the catalogue's readable message, in Thai.
        var noKey = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "x", provider = "openai", model = "gpt-4o-mini" }, Ct);
        var refusal = await Problem.ReadAsync(noKey, HttpStatusCode.BadRequest);
        Assert.Equal("ai_key_missing", refusal.Code);
        Assert.Contains("OpenAI", refusal.UserMessage);
        Assert.Matches("[\\u0E00-\\u0E7F]", refusal.UserMessage!);

        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task The_same_idempotency_key_replays_the_first_request_and_a_different_body_is_refused()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var key = Guid.NewGuid().ToString();
        var body = new { promptType = "text", promptText = "idempotent hello" };

        var (first, _) = await SubmitAsync(client, body, key);
        var (second, replay) = await SubmitAsync(client, body, key);
        Assert.Equal(first, second);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());

        // Ten at once with a fresh key: one request.
        var burstKey = Guid.NewGuid().ToString();
        var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SubmitAsync(client, body, burstKey)));
        Assert.Single(ids.Select(i => i.Id).Distinct());

        using var conflict = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests") { Content = JsonContent.Create(new { promptType = "text", promptText = "something else" }) };
        conflict.Headers.Add("Idempotency-Key", key);
        var refused = await client.SendAsync(conflict, Ct);
        Assert.Equal("idempotency_key_reused", (await Problem.ReadAsync(refused, HttpStatusCode.UnprocessableEntity)).Code);

        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Users_see_only_their_own_requests_and_a_super_admin_sees_everyone()
    {
        var alice = await fixture.CreateUserAsync("user");
        var bob = await fixture.CreateUserAsync("admin");
        using var aliceClient = fixture.CreateClient(alice.Token);
        using var bobClient = fixture.CreateClient(bob.Token);
        using var root = fixture.CreateClient(await fixture.AdminTokenAsync());

        var (aliceRequest, _) = await SubmitAsync(aliceClient, new { promptType = "text", promptText = "alice's secret question" });
        var (bobRequest, _) = await SubmitAsync(bobClient, new { promptType = "report", promptText = "bob's report" });

        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/v1/prompt-requests/{aliceRequest}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.PostAsync($"/api/v1/prompt-requests/{aliceRequest}/cancel", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/v1/prompt-requests/{aliceRequest}/events", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/v1/prompt-requests/{Guid.NewGuid()}", Ct)).StatusCode);

        var bobsList = await DataAsync(await bobClient.GetAsync("/api/v1/prompt-requests", Ct));
        Assert.Equal([bobRequest], bobsList.EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.Forbidden, (await bobClient.GetAsync($"/api/v1/prompt-requests?userId={alice.Id}", Ct)).StatusCode);

        var all = await DataAsync(await root.GetAsync("/api/v1/prompt-requests?limit=100", Ct));
        var allIds = all.EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(aliceRequest, allIds);
        Assert.Contains(bobRequest, allIds);
        var alicesOnly = await DataAsync(await root.GetAsync($"/api/v1/prompt-requests?userId={alice.Id}", Ct));
        Assert.Equal([aliceRequest], alicesOnly.EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
        Assert.Equal("alice's secret question", (await DataAsync(await root.GetAsync($"/api/v1/prompt-requests/{aliceRequest}", Ct))).GetProperty("promptText").GetString());
    }

    [Fact]
    public async Task Lists_are_newest_first_keyset_paginated_and_filtered()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var ids = new List<Guid>();
        foreach (var type in new[] { "text", "code", "text", "report", "text" })
        {
            ids.Add((await SubmitAsync(client, new { promptType = type, promptText = $"list {type}" })).Id);
        }
        foreach (var id in ids)
        {
            await JobsFactory.WaitForFinalAsync(client, id);
        }

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            using var page = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/prompt-requests?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}", Ct));
            var data = page.RootElement.GetProperty("data");
            Assert.True(data.GetArrayLength() <= 2);
            seen.AddRange(data.EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
            cursor = page.RootElement.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Reverse(ids), seen);

        var texts = await DataAsync(await client.GetAsync("/api/v1/prompt-requests?type=text&status=completed", Ct));
        Assert.Equal(3, texts.GetArrayLength());
        Assert.All(texts.EnumerateArray(), r => Assert.Equal("completed", r.GetProperty("status").GetString()));
        Assert.Equal(0, (await DataAsync(await client.GetAsync("/api/v1/prompt-requests?status=failed", Ct))).GetArrayLength());
        Assert.Equal(5, (await DataAsync(await client.GetAsync("/api/v1/prompt-requests?provider=local&model=local-text", Ct))).GetArrayLength());
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Equal(0, (await DataAsync(await client.GetAsync($"/api/v1/prompt-requests?from={future}", Ct))).GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/prompt-requests?status=done", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/prompt-requests?cursor=not-a-cursor", Ct)).StatusCode);
    }

    [Fact]
    public async Task Store_false_leaves_no_prompt_or_response_text_in_Postgres_and_keeps_them_in_Redis_for_a_while()
    {
        var marker = $"unstored-{Guid.NewGuid():N}";
        var answer = $"answer-{Guid.NewGuid():N}";
        fixture.Vendor.Handler = (context, request) => StreamAsync(context, TimeSpan.Zero, answer);
        using var client = await OpenAiUserAsync();

        var (id, _) = await SubmitAsync(client, new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini", store = false });
        var done = await JobsFactory.WaitForFinalAsync(client, id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(marker, done.GetProperty("promptText").GetString());
        Assert.Equal(answer, done.GetProperty("response").GetProperty("text").GetString());
        Assert.True(done.GetProperty("retainedUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(30));
        // The trace it was submitted in (its job's traceparent): what the console shows to find its spans and logs.
        var traceParent = await fixture.Database.ScalarAsync<string>("SELECT j.trace_parent FROM jobs j JOIN prompt_requests r ON r.job_id = j.id WHERE r.id = $1", id);
        Assert.Matches("^[0-9a-f]{32}$", done.GetProperty("traceId").GetString());
        Assert.Equal(traceParent.Split('-')[1], done.GetProperty("traceId").GetString());

        foreach (var needle in new[] { marker, answer })
        {
            Assert.Empty(await TextColumnsContainingAsync(needle));
        }
        // The usage row is kept, with the tokens the vendor reported.
        Assert.Equal(14L, await fixture.Database.ScalarAsync<long>("SELECT input_tokens + output_tokens FROM usage_events WHERE subject_id = $1", id));
    }

    /// <summary>Every text, json and array column of every table that contains the needle.</summary>
    private async Task<List<string>> TextColumnsContainingAsync(string needle)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync(Ct);
        var columns = new List<(string Table, string Column)>();
        await using (var list = new Npgsql.NpgsqlCommand("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'ARRAY', 'bytea')", connection))
        await using (var reader = await list.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        var found = new List<string>();
        foreach (var (table, column) in columns)
        {
            await using var probe = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE position($1 in encode(convert_to(\"{column}\"::text, 'UTF8'), 'escape')) > 0", connection);
            probe.Parameters.Add(new Npgsql.NpgsqlParameter { Value = needle });
            if ((long)(await probe.ExecuteScalarAsync(Ct))! > 0)
            {
                found.Add($"{table}.{column}");
            }
        }
        return found;
    }

    [Fact]
    public async Task Transient_vendor_failures_are_retried_and_the_fifth_attempt_succeeds_with_a_usage_row_per_attempt()
    {
        var marker = $"flaky-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = (context, request) => Interlocked.Increment(ref calls) <= 4
            ? FakeVendor.JsonAsync(context, 503, """{"error":{"message":"The server is overloaded","type":"server_error"}}""")
            : StreamAsync(context, TimeSpan.Zero, "finally");
        using var client = await OpenAiUserAsync();

        var (id, _) = await SubmitAsync(client, new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini" });
        var done = await JobsFactory.WaitForFinalAsync(client, id);

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(5, done.GetProperty("attempts").GetInt32());
        Assert.Equal("finally", done.GetProperty("response").GetProperty("text").GetString());
        Assert.Equal(5, done.GetProperty("response").GetProperty("attempt").GetInt32());
        Assert.Equal(5, VendorCalls(marker).Count());
        Assert.Equal(4L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE subject_id = $1 AND status = 'failed' AND error_code = 'vendor_unavailable'", id));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE subject_id = $1 AND status = 'succeeded' AND attempt = 5 AND key_source = 'personal'", id));
    }

    [Fact]
    public async Task An_invalid_key_fails_after_exactly_one_call_with_a_readable_message()
    {
        var marker = $"badkey-{Guid.NewGuid():N}";
        fixture.Vendor.Handler = (context, request) => FakeVendor.JsonAsync(context, 401,
            """{"error":{"message":"Incorrect API key provided: sk-test-***","type":"invalid_request_error","code":"invalid_api_key"}}""");
        using var client = await OpenAiUserAsync(language: "th");

        var (id, _) = await SubmitAsync(client, new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini" });
        var done = await JobsFactory.WaitForFinalAsync(client, id);

        Assert.Equal("failed", done.GetProperty("status").GetString());
        var error = done.GetProperty("error");
        Assert.Equal("vendor_invalid_key", error.GetProperty("code").GetString());
        Assert.Matches("[\\u0E00-\\u0E7F]", error.GetProperty("userMessage").GetString()!);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("recoveryAction").GetString()));
        Assert.Single(VendorCalls(marker));
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("response").ValueKind);
    }

    [Fact]
    public async Task A_rate_limit_with_Retry_After_waits_at_least_that_long()
    {
        var marker = $"limited-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = (context, request) => Interlocked.Increment(ref calls) == 1
            ? FakeVendor.JsonAsync(context, 429, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", new Dictionary<string, string> { ["Retry-After"] = "2" })
            : StreamAsync(context, TimeSpan.Zero, "ok");
        using var client = await OpenAiUserAsync();

        var (id, _) = await SubmitAsync(client, new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini" });
        var done = await JobsFactory.WaitForFinalAsync(client, id);

        Assert.Equal("completed", done.GetProperty("status").GetString());
        var attempts = await fixture.Database.ScalarAsync<string>(
            "SELECT string_agg(to_char(created_at, 'HH24:MI:SS.US') || ' ' || status, ', ' ORDER BY attempt) FROM usage_events WHERE subject_id = $1", id);
        var started = await fixture.Database.ScalarAsync<double>(
            "SELECT extract(epoch FROM (SELECT max(created_at) FROM usage_events WHERE subject_id = $1) - (SELECT min(created_at) FROM usage_events WHERE subject_id = $1))", id);
        Assert.True(started >= 2.0, $"The retry came {started:0.000} s after the 429 ({attempts}).");
        Assert.Equal(2, VendorCalls(marker).Count());
    }

    [Fact]
    public async Task Cancel_stops_a_queued_request_before_it_runs_and_aborts_running_ones_within_two_seconds()
    {
        var marker = $"hang-{Guid.NewGuid():N}";
        var aborted = 0;
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
        using var client = await OpenAiUserAsync();

        // The worker runs 4 at once: 4 hang at the vendor, the fifth waits in the queue.
        var running = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            running.Add((await SubmitAsync(client, new { promptType = "text", promptText = $"{marker} {i}", provider = "openai", model = "gpt-4o-mini" })).Id);
        }
        await WaitUntilAsync(() => VendorCalls(marker).Count() == 4);
        var (queued, _) = await SubmitAsync(client, new { promptType = "text", promptText = $"{marker} queued", provider = "openai", model = "gpt-4o-mini" });

        var cancelQueued = await client.PostAsync($"/api/v1/prompt-requests/{queued}/cancel", null, Ct);
        var queuedBody = await DataAsync(cancelQueued);
        Assert.Equal(HttpStatusCode.OK, cancelQueued.StatusCode);
        Assert.Equal("cancelled", queuedBody.GetProperty("status").GetString());
        Assert.Equal("cancelled", queuedBody.GetProperty("error").GetProperty("code").GetString());

        foreach (var id in running)
        {
            var started = DateTime.UtcNow;
            var cancel = await client.PostAsync($"/api/v1/prompt-requests/{id}/cancel", null, Ct);
            var body = await DataAsync(cancel);
            var final = body.GetProperty("status").GetString() == "cancelled" ? body : await JobsFactory.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(5));
            Assert.Equal("cancelled", final.GetProperty("status").GetString());
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"Cancelling took {(DateTime.UtcNow - started).TotalSeconds:0.00} s.");
        }
        await WaitUntilAsync(() => Volatile.Read(ref aborted) == 4);

        // The queued one never reached the vendor; cancelled ones write a usage row marked cancelled.
        Assert.DoesNotContain(VendorCalls(marker), r => r.Body.Contains("queued", StringComparison.Ordinal));
        Assert.Equal(4L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE status = 'cancelled' AND subject_id = ANY($1)", running.ToArray()));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/v1/prompt-requests/{(await SubmitAsync(client, new { promptType = "text", promptText = "done soon" }, prefer: "wait=10")).Id}/cancel", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task Events_stream_the_status_the_text_as_it_arrives_and_the_result()
    {
        var marker = $"sse-{Guid.NewGuid():N}";
        string[] pieces = ["Once ", "upon ", "a ", "time", "."];
        fixture.Vendor.Handler = (context, request) => StreamAsync(context, TimeSpan.FromMilliseconds(150), pieces);
        using var client = await OpenAiUserAsync();
        var (id, _) = await SubmitAsync(client, new { promptType = "text", promptText = marker, provider = "openai", model = "gpt-4o-mini" });

        using var response = await client.GetAsync($"/api/v1/prompt-requests/{id}/events", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string Event, JsonElement Data)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync(Ct)).EnumerateAsync(Ct))
        {
            events.Add((item.EventType, JsonDocument.Parse(item.Data).RootElement.Clone()));
            if (item.EventType == "result")
            {
                break;
            }
        }

        var statuses = events.Where(e => e.Event == "status").Select(e => e.Data.GetProperty("status").GetString()).ToList();
        Assert.Contains("generating", statuses);
        Assert.Equal("completed", statuses[^1]);
        var deltas = events.Where(e => e.Event == "delta").Select(e => e.Data).ToList();
        Assert.True(deltas.Count >= 2, $"The text came in {deltas.Count} piece(s); it should stream.");
        var offset = 0;
        foreach (var delta in deltas)
        {
            Assert.Equal(offset, delta.GetProperty("offset").GetInt32());
            offset += delta.GetProperty("text").GetString()!.Length;
        }
        Assert.Equal(string.Concat(pieces), string.Concat(deltas.Select(d => d.GetProperty("text").GetString())));
        var result = events[^1];
        Assert.Equal("result", result.Event);
        Assert.Equal(string.Concat(pieces), result.Data.GetProperty("response").GetProperty("text").GetString());

        // Following a finished request: its status and its result at once.
        using var again = await client.GetAsync($"/api/v1/prompt-requests/{id}/events", Ct);
        var text = await again.Content.ReadAsStringAsync(Ct);
        Assert.Contains("event: status", text);
        Assert.Contains("event: result", text);
    }

    [Fact]
    public async Task With_Redis_cut_requests_are_still_accepted_run_and_answered()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        fixture.RedisProxy.Cut();
        try
        {
            var ids = new List<Guid>();
            for (var i = 0; i < 3; i++)
            {
                ids.Add((await SubmitAsync(client, new { promptType = "text", promptText = $"no redis {i}", store = true })).Id);
            }
            foreach (var id in ids)
            {
                var done = await JobsFactory.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(20));
                Assert.Equal("completed", done.GetProperty("status").GetString());
                Assert.False(string.IsNullOrEmpty(done.GetProperty("response").GetProperty("text").GetString()));
            }
            // Not stored: it runs and completes, but its text has nowhere to live while Redis is away.
            var (unstored, response) = await SubmitAsync(client, new { promptType = "text", promptText = "no redis, waiting", store = false }, prefer: "wait=15");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var detail = await DataAsync(await client.GetAsync($"/api/v1/prompt-requests/{unstored}", Ct));
            Assert.Equal("completed", detail.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, detail.GetProperty("response").GetProperty("text").ValueKind);
            Assert.Equal(JsonValueKind.Null, detail.GetProperty("promptText").ValueKind);
        }
        finally
        {
            fixture.RedisProxy.Restore();
        }
        await fixture.WaitForRedisAsync();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(20, Ct);
        }
    }
}
