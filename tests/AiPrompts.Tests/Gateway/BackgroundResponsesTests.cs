using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiPrompts.Core.Gateway;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Responses;
using StackExchange.Redis;

#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
#pragma warning disable MEAI001 // Background responses (continuation tokens) are experimental in Microsoft.Extensions.AI.

namespace AiPrompts.Tests.Gateway;

/// <summary>
/// Background responses (<c>background: true</c>) on the job engine, with the official OpenAI .NET SDK and the Node SDK:
/// answered at once as queued, polled to completion, streamed as they are made and resumed after any sequence number
/// (from the Worker's event log while it is kept, made again from the stored response after), cancelled while they run
/// (the vendor call stopped, its usage row <c>cancelled</c>), and their owner's alone. The local model takes two seconds
/// before it answers, as a vendor would, so that a response can be caught running.
/// </summary>
public sealed class BackgroundResponsesTests(BackgroundResponsesTests.Fixture fixture) : IClassFixture<BackgroundResponsesTests.Fixture>
{
    public sealed class Fixture : WorkerFactory
    {
        public Fixture() => UseKestrel(0);

        private readonly List<WorkerProcess> _spares = [];

        protected override IReadOnlyDictionary<string, string?> JobSettings =>
            base.JobSettings.Append(new("Vendors:LocalLatency", "00:00:02")).ToDictionary();

        /// <summary>A second Worker beside the fixture's, stopped with the fixture.</summary>
        public async Task<WorkerProcess> StartSpareWorkerAsync()
        {
            var spare = await StartWorkerAsync();
            _spares.Add(spare);
            return spare;
        }

        public override async ValueTask DisposeAsync()
        {
            foreach (var spare in _spares)
            {
                await spare.DisposeAsync();
            }
            await base.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<(TestUser User, string Key)> CallerAsync() => OpenAICallers.CreateAsync(fixture, "admin", null, Ct);

    private ResponsesClient Sdk(string key) => OpenAICallers.Sdk(fixture, key).GetResponsesClient();

    private static async Task<ResponseResult> PollAsync(ResponsesClient responses, string id, Func<ResponseResult, bool> until)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            ResponseResult now = await responses.GetResponseAsync(id, timeout.Token);
            if (until(now))
            {
                return now;
            }
            await Task.Delay(50, timeout.Token);
        }
    }

    [Fact]
    public async Task A_background_response_is_answered_queued_then_polled_to_completion_with_its_usage_recorded()
    {
        var (user, key) = await CallerAsync();
        var responses = Sdk(key);

        ResponseResult queued = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Plan the lobby screen rotation")])
        {
            BackgroundModeEnabled = true,
            Instructions = "Answer in one line.",
            Metadata = { ["purpose"] = "signage.plan" },
        }, Ct);
        Assert.StartsWith("resp_", queued.Id, StringComparison.Ordinal);
        Assert.True(queued.BackgroundModeEnabled);
        Assert.Equal(ResponseStatus.Queued, queued.Status);
        Assert.Empty(queued.OutputItems);

        var running = await PollAsync(responses, queued.Id, r => r.Status != ResponseStatus.Queued);
        var done = running.Status == ResponseStatus.Completed ? running : await PollAsync(responses, queued.Id, r => r.Status == ResponseStatus.Completed);
        Assert.Contains("Plan the lobby screen rotation", done.GetOutputText(), StringComparison.Ordinal);
        Assert.True(done.Usage.InputTokenCount > 0 && done.Usage.OutputTokenCount > 0);

        // One vendor call, one usage row: the job's, with the purpose, the tokens the answer reports, and the API key.
        var rows = await fixture.Database.QueryAsync(
            "SELECT subject_type, status, input_tokens, output_tokens, coalesce(purpose, ''), api_key_id IS NOT NULL FROM usage_events WHERE user_id = $1",
            r => (Type: r.GetString(0), Status: r.GetString(1), Input: r.GetInt64(2), Output: r.GetInt64(3), Purpose: r.GetString(4), Keyed: r.GetBoolean(5)), user.Id);
        var row = Assert.Single(rows);
        Assert.Equal(("gateway_response", "succeeded", (long)done.Usage.InputTokenCount, (long)done.Usage.OutputTokenCount, "signage.plan", true), row);

        // Its input items and its place in a chain are those of any stored response.
        var items = new List<ResponseItem>();
        await foreach (var item in responses.GetResponseInputItemsAsync(done.Id, Ct))
        {
            items.Add(item);
        }
        Assert.Equal("Plan the lobby screen rotation", Assert.IsType<MessageResponseItem>(Assert.Single(items), exactMatch: false).Content[0].Text);
        ResponseResult next = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("And at night?")])
        {
            PreviousResponseId = done.Id,
        }, Ct);
        Assert.Equal(ResponseStatus.Completed, next.Status);
        Assert.Equal(done.Id, next.PreviousResponseId);
        Assert.True(next.Usage.InputTokenCount > done.Usage.InputTokenCount, "the chain is part of the next turn's input");
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_polls_a_background_response_with_its_continuation_token()
    {
        var (_, key) = await CallerAsync();
        using IChatClient chat = Sdk(key).AsIChatClient("local/local-text");

        // The first answer is a token to poll with, until the response is done. (Its streamed variant cannot run here:
        // Microsoft.Extensions.AI.OpenAI 10.11 calls a streaming method whose signature OpenAI 2.15 changed.)
        var response = await chat.GetResponseAsync("Plan the atrium screens", new ChatOptions { AllowBackgroundResponses = true }, Ct);
        Assert.NotNull(response.ContinuationToken);
        var polls = 0;
        while (response.ContinuationToken is { } token)
        {
            Assert.True(++polls < 600, "the response never ended");
            await Task.Delay(50, Ct);
            response = await chat.GetResponseAsync([], new ChatOptions { ContinuationToken = token }, Ct);
        }
        Assert.Contains("Plan the atrium screens", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_background_response_streams_as_it_is_made_and_its_stream_resumes_after_any_sequence_number()
    {
        var (_, key) = await CallerAsync();
        var responses = Sdk(key);
        var first = new List<StreamingResponseUpdate>();
        await foreach (var update in await responses.CreateResponseStreamingAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Describe the night lobby layout in detail")])
        {
            BackgroundModeEnabled = true,
            StreamingEnabled = true,
        }, Ct))
        {
            first.Add(update);
        }
        Assert.Equal(Enumerable.Range(0, first.Count), first.Select(u => u.SequenceNumber));
        var created = Assert.IsType<StreamingResponseCreatedUpdate>(first[0]);
        Assert.True(created.Response.BackgroundModeEnabled);
        Assert.IsType<StreamingResponseInProgressUpdate>(first[1]);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(first[^1]);
        var text = string.Concat(first.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(d => d.Delta));
        Assert.Equal(completed.Response.GetOutputText(), text);
        Assert.Contains("night lobby layout", text, StringComparison.Ordinal);
        var id = completed.Response.Id;

        // Resumed after event 3: the same events from 4 on, as they were sent.
        var resumed = new List<StreamingResponseUpdate>();
        await foreach (var update in await responses.GetResponseStreamingAsync(new GetResponseOptions(id) { StartingAfter = 3, StreamingEnabled = true }, Ct))
        {
            resumed.Add(update);
        }
        Assert.Equal(first.Skip(4).Select(u => (u.SequenceNumber, u.GetType())), resumed.Select(u => (u.SequenceNumber, u.GetType())));
        Assert.Equal(string.Concat(first.Skip(4).OfType<StreamingResponseOutputTextDeltaUpdate>().Select(d => d.Delta)),
            string.Concat(resumed.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(d => d.Delta)));

        // Once the events are no longer kept, the stream is made again from the stored response: the same kinds, in order,
        // numbered from 0, the text whole.
        await fixture.Services.GetRequiredService<IDatabase>().KeyDeleteAsync(ResponseEventLog.Key(id));
        var replayed = new List<StreamingResponseUpdate>();
        await foreach (var update in await responses.GetResponseStreamingAsync(new GetResponseOptions(id) { StreamingEnabled = true }, Ct))
        {
            replayed.Add(update);
        }
        Assert.Equal(Enumerable.Range(0, replayed.Count), replayed.Select(u => u.SequenceNumber));
        Assert.Equal(first.Select(u => u.GetType()).Distinct(), replayed.Select(u => u.GetType()).Distinct());
        Assert.Equal(text, ((StreamingResponseOutputTextDeltaUpdate)Assert.Single(replayed, u => u is StreamingResponseOutputTextDeltaUpdate)).Delta);
        Assert.Equal(text, ((StreamingResponseCompletedUpdate)replayed[^1]).Response.GetOutputText());
    }

    [Fact]
    public async Task A_running_background_response_is_cancelled_its_vendor_call_stopped_and_recorded_as_cancelled()
    {
        var (user, key) = await CallerAsync();
        var responses = Sdk(key);
        ResponseResult queued = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Write the long lobby report")])
        {
            BackgroundModeEnabled = true,
        }, Ct);
        await PollAsync(responses, queued.Id, r => r.Status == ResponseStatus.InProgress);

        // Someone else's cancel is a 404 and changes nothing.
        var (_, strangerKey) = await CallerAsync();
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => Sdk(strangerKey).CancelResponseAsync(queued.Id, Ct))).Status);

        ResponseResult cancelled = await responses.CancelResponseAsync(queued.Id, Ct);
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        Assert.Equal(ResponseStatus.Cancelled, (await responses.GetResponseAsync(queued.Id, Ct)).Value.Status);
        // Cancelling again answers the response as it is.
        Assert.Equal(ResponseStatus.Cancelled, (await responses.CancelResponseAsync(queued.Id, Ct)).Value.Status);

        // The vendor call was under way: one usage row, cancelled; nothing was answered or added.
        Assert.Equal("cancelled", Assert.Single(await fixture.Database.QueryAsync("SELECT status FROM usage_events WHERE user_id = $1", r => r.GetString(0), user.Id)));
        Assert.Empty((await responses.GetResponseAsync(queued.Id, Ct)).Value.OutputItems);

        // A response made on the data path has no job to cancel: a 400 in OpenAI's shape.
        ResponseResult plain = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("hi")]), Ct);
        using var http = fixture.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var refused = await http.PostAsync($"/openai/v1/responses/{plain.Id}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_Worker_killed_mid_response_loses_nothing_another_finishes_it_and_its_stream_goes_on_numbering()
    {
        var (user, key) = await CallerAsync();
        var responses = Sdk(key);
        var spare = await fixture.StartSpareWorkerAsync();
        ResponseResult queued = await responses.CreateResponseAsync(new CreateResponseOptions("local/local-text", [ResponseItem.CreateUserMessageItem("Summarise the kiosk uptime")])
        {
            BackgroundModeEnabled = true,
        }, Ct);
        await PollAsync(responses, queued.Id, r => r.Status == ResponseStatus.InProgress);
        var owner = await fixture.Database.ScalarAsync<string>("SELECT j.lease_owner FROM jobs j JOIN gateway_responses r ON r.job_id = j.id WHERE r.id = $1", queued.Id);
        var holder = new[] { fixture.Worker, spare }.Single(w => owner.Contains($":{w.Pid}:", StringComparison.Ordinal));
        holder.Signal("KILL");
        Assert.True(await holder.WaitForExitAsync(TimeSpan.FromSeconds(10)));

        // The other Worker rescues the job once its lease runs out, and answers it.
        var done = await PollAsync(responses, queued.Id, r => r.Status is not (ResponseStatus.Queued or ResponseStatus.InProgress));
        Assert.Equal(ResponseStatus.Completed, done.Status);
        Assert.Contains("Summarise the kiosk uptime", done.GetOutputText(), StringComparison.Ordinal);
        Assert.Equal(2, await fixture.Database.ScalarAsync<int>("SELECT j.attempt FROM jobs j JOIN gateway_responses r ON r.job_id = j.id WHERE r.id = $1", queued.Id));
        Assert.Equal("succeeded", Assert.Single(await fixture.Database.QueryAsync("SELECT status FROM usage_events WHERE user_id = $1 AND status = 'succeeded'", r => r.GetString(0), user.Id)));

        // One stream: the first attempt's opening events, then the second's, numbered on, ending with the response as answered.
        var events = new List<StreamingResponseUpdate>();
        await foreach (var update in await responses.GetResponseStreamingAsync(new GetResponseOptions(done.Id) { StreamingEnabled = true }, Ct))
        {
            events.Add(update);
        }
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(u => u.SequenceNumber));
        Assert.Single(events.OfType<StreamingResponseCreatedUpdate>());
        Assert.Equal(done.GetOutputText(), Assert.IsType<StreamingResponseCompletedUpdate>(events[^1]).Response.GetOutputText());
    }

    [Fact]
    public async Task A_background_response_that_is_not_stored_or_has_a_bad_flag_is_refused_and_nothing_is_queued()
    {
        var (user, key) = await CallerAsync();
        using var http = fixture.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var body in (string[])[
            """{"model":"local/local-text","input":"hi","background":true,"store":false}""",
            """{"model":"local/local-text","input":"hi","background":"yes"}""",
            """{"model":"nowhere/none","input":"hi","background":true}"""])
        {
            var answer = await http.PostAsync("/openai/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            Assert.True(answer.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{body}: {answer.StatusCode}");
            Assert.True(JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Ct)).RootElement.TryGetProperty("error", out _));
        }
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE user_id = $1", user.Id));
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM gateway_responses WHERE user_id = $1", user.Id));
        Assert.Equal(400, (await Assert.ThrowsAsync<ClientResultException>(() => Sdk(key).GetResponseAsync(new GetResponseOptions("resp_x") { StartingAfter = -5, StreamingEnabled = false }, Ct))).Status);
    }

    [Fact]
    public async Task The_Node_SDK_runs_polls_resumes_and_cancels_background_responses()
    {
        var (_, key) = await CallerAsync();
        var seen = await NodeSdk.RunAsync("background.mjs", [fixture.ClientOptions.BaseAddress.ToString(), key], Ct);
        Assert.Equal("queued", seen.GetProperty("queued").GetString());
        Assert.Equal("completed", seen.GetProperty("polled").GetString());
        Assert.Contains("Plan the garden screens", seen.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(seen.GetProperty("text").GetString(), seen.GetProperty("resumedText").GetString());
        Assert.Equal(3, seen.GetProperty("resumedFrom").GetInt32());
        Assert.Equal("response.completed", seen.GetProperty("resumedLast").GetString());
        Assert.Equal("cancelled", seen.GetProperty("cancelled").GetString());
    }
}
