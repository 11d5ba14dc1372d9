using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Core.Vendors;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Jobs;

/// <summary>
/// One cancellation for every surface: a prompt request's cancel, a run's cancel, and a conversation's deletion end
/// their jobs in the same state (<c>cancelled</c>) with the same code (<c>cancelled</c>), whether the job was still
/// queued or already running; and no vendor client a job asked for is left undisposed once the jobs have ended.
/// The engine runs in the test's process here, so that its vendor client factory can be looked into.
/// </summary>
public sealed class JobCancellationTests(JobCancellationTests.Fixture fixture) : IClassFixture<JobCancellationTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        // Long enough that a running job is still running when the test cancels it.
        protected override IReadOnlyDictionary<string, string?> JobSettings =>
            base.JobSettings.Append(new("Vendors:LocalLatency", "00:00:03")).ToDictionary();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, params HttpStatusCode[] expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected.Contains(response.StatusCode), $"{(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The jobs of a prompt request, of a run, and of a conversation message's first step.</summary>
    private sealed record Started(Guid PromptRequest, Guid PromptRequestJob, string Thread, string Run, Guid RunJob, string Conversation, Guid StepJob);

    private async Task<Started> StartOneOfEachAsync(HttpClient client)
    {
        var request = await JsonAsync(await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = "a secret prompt", store = false }, Ct), HttpStatusCode.Accepted);
        var requestId = request.GetProperty("data").GetProperty("id").GetGuid();
        var thread = await JsonAsync(await client.PostAsJsonAsync("/api/v1/threads", new { messages = new[] { new { role = "user", content = "hello" } } }, Ct), HttpStatusCode.OK);
        var threadId = thread.GetProperty("id").GetString()!;
        var run = await JsonAsync(await client.PostAsJsonAsync($"/api/v1/threads/{threadId}/runs", new { }, Ct), HttpStatusCode.OK);
        var runId = run.GetProperty("id").GetString()!;
        var conversation = await JsonAsync(await client.PostAsJsonAsync("/v1/conversations", new { }, Ct), HttpStatusCode.Created);
        var conversationId = conversation.GetProperty("id").GetString()!;
        var message = await JsonAsync(await client.PostAsJsonAsync($"/v1/conversations/{conversationId}/messages", new { content = "tell me about cats" }, Ct), HttpStatusCode.Accepted);
        var step = Guid.ParseExact(message.GetProperty("request_id").GetString()!, "N");
        return new Started(
            requestId, await JobOfAsync("SELECT job_id FROM prompt_requests WHERE id = $1", requestId),
            threadId, runId, await JobOfAsync("SELECT job_id FROM assistant_runs WHERE id = $1", Guid.ParseExact(runId["run_".Length..], "N")),
            conversationId, await JobOfAsync("SELECT job_id FROM studio_requests WHERE id = $1", step));
    }

    private async Task<Guid> JobOfAsync(string sql, Guid id) => Guid.Parse(await fixture.Database.ScalarAsync<string>($"SELECT ({sql})::text", id));

    private static async Task CancelEachAsync(HttpClient client, Started started)
    {
        await JsonAsync(await client.PostAsync($"/api/v1/prompt-requests/{started.PromptRequest}/cancel", null, Ct), HttpStatusCode.OK, HttpStatusCode.Accepted);
        await JsonAsync(await client.PostAsync($"/api/v1/threads/{started.Thread}/runs/{started.Run}/cancel", null, Ct), HttpStatusCode.OK);
        await JsonAsync(await client.DeleteAsync($"/v1/conversations/{started.Conversation}", Ct), HttpStatusCode.NoContent);
    }

    /// <summary>Each job's state and code, once it has ended.</summary>
    private async Task<IReadOnlyList<string>> EndsAsync(params Guid[] jobs)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE id = ANY($1) AND status IN ('queued', 'running')", jobs) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The cancelled jobs did not end.");
            await Task.Delay(100, Ct);
        }
        var ends = await fixture.Database.ScalarAsync<string>(
            "SELECT string_agg(status || '/' || coalesce(last_error_code, '-'), ',' ORDER BY array_position($1, id)) FROM jobs WHERE id = ANY($1)", jobs);
        return ends.Split(',');
    }

    [Fact]
    public async Task Queued_jobs_cancelled_from_every_surface_end_cancelled_with_the_code_cancelled()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var started = await StartOneOfEachAsync(client); // no Worker runs: all three stay queued

        await CancelEachAsync(client, started);

        Assert.Equal(["cancelled/cancelled", "cancelled/cancelled", "cancelled/cancelled"], await EndsAsync(started.PromptRequestJob, started.RunJob, started.StepJob));
        var request = await JsonAsync(await client.GetAsync($"/api/v1/prompt-requests/{started.PromptRequest}", Ct), HttpStatusCode.OK);
        Assert.Equal("cancelled", request.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("cancelled", request.GetProperty("data").GetProperty("error").GetProperty("code").GetString());
        var run = await JsonAsync(await client.GetAsync($"/api/v1/threads/{started.Thread}/runs/{started.Run}", Ct), HttpStatusCode.OK);
        Assert.Equal("cancelled", run.GetProperty("status").GetString());
        // What the request's handler writes with every final state came with this one too: the unstored text is gone.
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests WHERE id = $1 AND prompt_text IS NOT NULL", started.PromptRequest));
    }

    [Fact]
    public async Task Running_jobs_cancelled_from_every_surface_end_the_same_way_and_leave_no_vendor_client_open()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        await using var worker = InProcessWorker.Start(fixture);
        var vendors = worker.Services.GetRequiredService<VendorClientFactory>();

        var started = await StartOneOfEachAsync(client);
        var jobs = new[] { started.PromptRequestJob, started.RunJob, started.StepJob };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = 'running'", jobs) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "The jobs did not start.");
            await Task.Delay(50, Ct);
        }
        while (vendors.OpenClients < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The jobs did not reach their vendor calls: {vendors.OpenClients} clients open.");
            await Task.Delay(20, Ct);
        }
        Assert.Equal(3, vendors.OpenClients); // each is in its (slow) vendor call

        await CancelEachAsync(client, started);

        Assert.Equal(["cancelled/cancelled", "cancelled/cancelled", "cancelled/cancelled"], await EndsAsync(jobs));
        Assert.Equal(3, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE job_id = ANY($1) AND status = 'cancelled'", jobs));

        // Jobs of every kind that end by themselves (a request, a run, a refinement and its answer, an image) close theirs too.
        var finished = await StartOneOfEachAsync(client);
        var image = await client.PostAsJsonAsync("/v1/image/generate", new { refined_prompt = "a red bicycle", size = "256x256" }, Ct);
        await JsonAsync(image, HttpStatusCode.OK, HttpStatusCode.Accepted);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The jobs did not finish.");
            await Task.Delay(100, Ct);
        }
        Assert.Equal(["succeeded/-", "succeeded/-"], await EndsAsync(finished.PromptRequestJob, finished.RunJob));
        Assert.Equal(5, await fixture.Database.ScalarAsync<long>(
            "SELECT count(DISTINCT subject_type) FROM usage_events WHERE user_id = $1 AND status = 'succeeded'", user.Id));
        Assert.Equal(0, vendors.OpenClients);
    }
}
