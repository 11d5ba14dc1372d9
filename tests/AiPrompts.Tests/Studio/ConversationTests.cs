using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using SkiaSharp;

namespace AiPrompts.Tests.Studio;

/// <summary>
/// The Vietnamese document's conversation service: a user message's intent, refined prompt and image (or
/// answer) worked out by Worker processes as a chain of jobs, on the local models, which here take 1.5 s a call
/// so that a Worker can be killed in the middle of one.
/// </summary>
public sealed class ConversationTests(ConversationTests.Fixture fixture) : IClassFixture<ConversationTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        protected override IReadOnlyDictionary<string, string?> JobSettings =>
            base.JobSettings.Append(new("Vendors:LocalLatency", "00:00:01.500")).ToDictionary();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Reads the conversation's event stream until <paramref name="messageId"/> is no longer PROCESSING; every event seen.</summary>
    private static async Task<List<JsonElement>> ReadEventsUntilSettledAsync(HttpClient client, string conversation, string messageId, TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout);
        using var response = await client.GetAsync($"/v1/conversations/{conversation}/events", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var seen = new List<JsonElement>();
        string? name = null;
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is "ready" or "ping")
            {
                Assert.True(name == "ping" || seen.Count == 0, "ready comes first");
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                Assert.Equal("message", name);
                var message = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                seen.Add(message);
                if (message.GetProperty("id").GetString() == messageId && message.GetProperty("status").GetString() != "PROCESSING")
                {
                    return seen;
                }
            }
        }
        throw new InvalidOperationException("The stream ended first.");
    }

    [Fact]
    public async Task A_user_message_becomes_a_DONE_message_with_a_served_png_though_the_Worker_is_killed_mid_pipeline()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var conversation = await JsonAsync(await client.PostAsync("/v1/conversations", Body("""{"metadata": {"app": "photofun"}}"""), Ct), HttpStatusCode.Created);
        var conversationId = conversation.GetProperty("id").GetString()!;
        Assert.Matches("^thread_[0-9a-f]{32}$", conversationId);

        // No Worker yet: the message is accepted and PROCESSING, with the id of the background task.
        var posted = await JsonAsync(await client.PostAsync($"/v1/conversations/{conversationId}/messages", Body("""
            {"content": "Generate an image of a red lantern over Hoi An at night", "style": "watercolor", "lang": "vi", "topic": "travel", "size": "256x192"}
            """), Ct), HttpStatusCode.Accepted);
        Assert.Equal(("user", "PROCESSING", conversationId), (posted.GetProperty("role").GetString(), posted.GetProperty("status").GetString(), posted.GetProperty("conversation_id").GetString()));
        Assert.Equal("Generate an image of a red lantern over Hoi An at night", posted.GetProperty("content").GetString());
        Assert.Matches("^[0-9a-f]{32}$", posted.GetProperty("request_id").GetString());
        Assert.Equal(JsonValueKind.Null, posted.GetProperty("intent").ValueKind);
        var messageId = posted.GetProperty("id").GetString()!;
        var messageGuid = Guid.ParseExact(messageId["msg_".Length..], "N");

        // A Worker refines it, queues the image and starts drawing it; it is killed while it draws.
        await using (var doomed = await fixture.StartWorkerAsync())
        {
            await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<long>(
                "SELECT count(*) FROM jobs j JOIN studio_requests r ON r.job_id = j.id WHERE r.message_id = $1 AND r.kind = 'image_generate' AND j.status = 'running'", messageGuid) == 1,
                TimeSpan.FromSeconds(30), "the image step to be running");
            doomed.Signal("KILL");
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        var midway = await JsonAsync(await client.GetAsync($"/v1/conversations/{conversationId}/messages/{messageId}", Ct));
        Assert.Equal(("PROCESSING", "generateImage"), (midway.GetProperty("status").GetString(), midway.GetProperty("intent").GetString()));

        // Another Worker rescues the step; the event stream shows the message until it is DONE.
        List<JsonElement> events;
        await using (var rescuer = await fixture.StartWorkerAsync())
        {
            events = await ReadEventsUntilSettledAsync(client, conversationId, messageId, TimeSpan.FromSeconds(60));
        }
        var done = events[^1];
        Assert.Equal("DONE", done.GetProperty("status").GetString());
        Assert.Equal("generateImage", done.GetProperty("intent").GetString());
        Assert.Contains("red lantern", done.GetProperty("refined_prompt").GetString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error").ValueKind);
        Assert.Contains(events, e => e.GetProperty("id").GetString() == messageId && e.GetProperty("status").GetString() == "PROCESSING");

        // The image URL serves a valid PNG of the size asked for, to an <img src> with no credentials.
        var png = await fixture.CreateClient(null).GetByteArrayAsync(done.GetProperty("image_url").GetString(), Ct);
        using (var codec = SKCodec.Create(new MemoryStream(png)))
        {
            Assert.Equal((SKEncodedImageFormat.Png, 256, 192), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
        }

        // Done once: the image step ran twice (the kill, the rescue), one picture was kept, one usage row per step.
        var imageRequest = Guid.ParseExact(done.GetProperty("request_id").GetString()!, "N");
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT j.attempt FROM jobs j JOIN studio_requests r ON r.job_id = j.id WHERE r.id = $1", imageRequest));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM media_files WHERE owner_user_id = $1", user.Id));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events u JOIN studio_requests r ON r.id = u.subject_id WHERE r.message_id = $1 AND u.section = 'content' AND u.status = 'succeeded'", messageGuid));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events u JOIN studio_requests r ON r.id = u.subject_id WHERE r.message_id = $1 AND u.section = 'image' AND u.status = 'succeeded'", messageGuid));
        // The steps are one trace: the image job continues the trace of the refinement, which continues the request's.
        Assert.Equal((2L, 1L), (await fixture.Database.ScalarAsync<long>(
            "SELECT count(j.trace_parent) FROM jobs j JOIN studio_requests r ON r.job_id = j.id WHERE r.message_id = $1", messageGuid), await fixture.Database.ScalarAsync<long>(
            "SELECT count(DISTINCT split_part(j.trace_parent, '-', 2)) FROM jobs j JOIN studio_requests r ON r.job_id = j.id WHERE r.message_id = $1", messageGuid)));
        // The image request is the image service's own: it can be polled there too.
        var polled = await JsonAsync(await client.GetAsync($"/v1/image/generate/{done.GetProperty("request_id").GetString()}", Ct));
        Assert.Equal(png, Convert.FromBase64String(polled.GetProperty("image_base64").GetString()!));
    }

    [Fact]
    public async Task A_chat_intent_gets_a_text_answer_and_the_conversation_is_the_owners_alone()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var conversationId = (await JsonAsync(await client.PostAsync("/v1/conversations", Body("{}"), Ct), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var posted = await JsonAsync(await client.PostAsync($"/v1/conversations/{conversationId}/messages", Body("""{"content": "Hello, how are you today?", "lang": "en"}"""), Ct), HttpStatusCode.Accepted);
        var messageId = posted.GetProperty("id").GetString()!;

        await using (var worker = await fixture.StartWorkerAsync())
        {
            await ReadEventsUntilSettledAsync(client, conversationId, messageId, TimeSpan.FromSeconds(60));
        }
        var messages = (await JsonAsync(await client.GetAsync($"/v1/conversations/{conversationId}/messages", Ct))).GetProperty("data");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal(("user", "DONE", "chat"), (messages[0].GetProperty("role").GetString(), messages[0].GetProperty("status").GetString(), messages[0].GetProperty("intent").GetString()));
        Assert.Equal(JsonValueKind.Null, messages[0].GetProperty("image_url").ValueKind);
        Assert.Equal(("assistant", "DONE"), (messages[1].GetProperty("role").GetString(), messages[1].GetProperty("status").GetString()));
        Assert.Contains("local-text", messages[1].GetProperty("content").GetString());
        var conversation = await JsonAsync(await client.GetAsync($"/v1/conversations/{conversationId}", Ct));
        Assert.Equal(2, conversation.GetProperty("messages").GetArrayLength());

        // One store of conversations: the Assistants surface reads the same thread.
        var thread = await JsonAsync(await client.GetAsync($"/api/v1/threads/{conversationId}/messages?order=asc", Ct));
        Assert.Equal("Hello, how are you today?", thread.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());

        // Anyone else: 404 for the conversation, its messages, its events and a new message, and nothing is added.
        using var stranger = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token);
        foreach (var path in (string[])[$"/v1/conversations/{conversationId}", $"/v1/conversations/{conversationId}/messages",
            $"/v1/conversations/{conversationId}/messages/{messageId}", $"/v1/conversations/{conversationId}/events"])
        {
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(path, Ct)).StatusCode);
        }
        await JsonAsync(await stranger.PostAsync($"/v1/conversations/{conversationId}/messages", Body("""{"content": "mine now"}"""), Ct), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/v1/conversations/{conversationId}", Ct)).StatusCode);
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM thread_messages WHERE thread_id = $1", Guid.ParseExact(conversationId["thread_".Length..], "N")));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/conversations/{conversationId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/conversations/{conversationId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_step_that_fails_ends_the_message_FAILED_with_the_reason_in_the_callers_language()
    {
        var root = await fixture.CreateUserAsync("super_admin");
        using var admin = fixture.CreateClient(root.Token);
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("th");
        var conversationId = (await JsonAsync(await client.PostAsync("/v1/conversations", Body("{}"), Ct), HttpStatusCode.Created)).GetProperty("id").GetString()!;

        // Bad input first: refused, nothing added.
        var refused = await JsonAsync(await client.PostAsync($"/v1/conversations/{conversationId}/messages", Body("""{"content": "", "size": "1x1"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.True(refused.GetProperty("errors").TryGetProperty("content", out _));
        Assert.True(refused.GetProperty("errors").TryGetProperty("size", out _));

        // The image section now uses a vendor model this user has no key for: the image step refuses at run time.
        await JsonAsync(await admin.PutAsJsonAsync("/api/v1/ai/sections/image", new { provider = "openai", model = "gpt-image-1" }, Ct));
        try
        {
            var posted = await JsonAsync(await client.PostAsync($"/v1/conversations/{conversationId}/messages", Body("""{"content": "Generate an image of a lotus pond"}"""), Ct), HttpStatusCode.Accepted);
            await using var worker = await fixture.StartWorkerAsync();
            var failed = (await ReadEventsUntilSettledAsync(client, conversationId, posted.GetProperty("id").GetString()!, TimeSpan.FromSeconds(60)))[^1];
            Assert.Equal(("FAILED", "generateImage"), (failed.GetProperty("status").GetString(), failed.GetProperty("intent").GetString()));
            Assert.Equal("ai_key_missing", failed.GetProperty("error").GetProperty("code").GetString());
            Assert.Matches(@"\p{IsThai}", failed.GetProperty("error").GetProperty("message").GetString());
            Assert.Equal(JsonValueKind.Null, failed.GetProperty("image_url").ValueKind);
        }
        finally
        {
            await JsonAsync(await admin.PutAsJsonAsync("/api/v1/ai/sections/image", new { provider = "local", model = "local-image" }, Ct));
        }
    }
}
