using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AiPrompts.Tests.PromptRequests;

/// <summary>
/// The job engine when Worker processes die (SIGKILL), freeze (SIGSTOP) or are asked to stop (SIGTERM):
/// nothing lost, nothing left generating, no result written twice. Real processes, Postgres and Redis.
/// </summary>
public sealed class JobEngineResilienceTests(JobEngineResilienceTests.Fixture fixture) : IClassFixture<JobEngineResilienceTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        protected override IReadOnlyDictionary<string, string?> JobSettings => new Dictionary<string, string?>
        {
            ["Jobs:Concurrency"] = "32",
            ["Jobs:LeaseDuration"] = "00:00:02",
            ["Jobs:HeartbeatInterval"] = "00:00:00.300",
            ["Jobs:PollInterval"] = "00:00:00.500",
            ["Jobs:IdlePollInterval"] = "00:00:00.500",
            ["Jobs:RetryBaseDelay"] = "00:00:00.050",
            ["Jobs:RetryMaxDelay"] = "00:00:00.200",
            ["Jobs:ShutdownGrace"] = "00:00:04", // the short jobs (1 s) finish within it even on a loaded machine
            ["PromptRequests:MaxAttempts"] = "20",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AnswerAsync(HttpContext context, string text, TimeSpan delay)
    {
        await Task.Delay(delay, context.RequestAborted);
        await FakeVendor.ChatStreamAsync(context, text);
    }

    private async Task<(HttpClient Client, TestUser User)> OpenAiUserAsync()
    {
        var user = await fixture.CreateUserAsync("user");
        await fixture.SetOpenAiKeyAsync(user);
        return (fixture.CreateClient(user.Token), user);
    }

    private static async Task<Guid> SubmitAsync(HttpClient client, string text)
    {
        var response = await client.PostAsJsonAsync("/api/v1/prompt-requests", new { promptType = "text", promptText = text, provider = "openai", model = "gpt-4o-mini", store = true }, Ct);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return body.RootElement.GetProperty("data").GetProperty("id").GetGuid();
    }

    private Task<long> CountAsync(string sql, params object[] args) => fixture.Database.ScalarAsync<long>(sql, args);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Two_thousand_jobs_survive_five_SIGKILLs_with_none_lost_none_generating_and_nothing_written_twice()
    {
        var marker = $"kill-{Guid.NewGuid():N}";
        fixture.Vendor.Handler = (context, request) => AnswerAsync(context, "done", TimeSpan.FromMilliseconds(25));
        var (client, user) = await OpenAiUserAsync();
        using var _ = client;

        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForAsync(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct },
            async (i, _) => ids.Add(await SubmitAsync(client, $"{marker} {i}")));
        Assert.Equal(2000, ids.Distinct().Count());

        for (var kill = 0; kill < 5; kill++)
        {
            var worker = await fixture.StartWorkerAsync();
            await WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM jobs WHERE status = 'running'") > 0, TimeSpan.FromSeconds(10), "jobs running");
            await Task.Delay(Random.Shared.Next(100, 400), Ct);
            worker.Signal("KILL");
            Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(5)));
            await worker.DisposeAsync();
        }
        var generatingAfterKills = await CountAsync("SELECT count(*) FROM jobs WHERE status = 'running'");

        await using (var last = await fixture.StartWorkerAsync())
        {
            await WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM jobs j JOIN prompt_requests r ON r.job_id = j.id WHERE r.user_id = $1 AND j.status <> 'succeeded'", user.Id) == 0,
                TimeSpan.FromMinutes(2), "every job to complete");
        }

        Assert.True(generatingAfterKills > 0, "The kills should have left jobs mid-flight for the rescue to find.");
        Assert.True(await CountAsync("SELECT count(*) FROM jobs j JOIN prompt_requests r ON r.job_id = j.id WHERE r.user_id = $1 AND j.attempt > 1", user.Id) > 0,
            "Some jobs should have been rescued and run again.");
        Assert.Equal(2000L, await CountAsync("SELECT count(*) FROM prompt_requests r JOIN jobs j ON j.id = r.job_id WHERE r.user_id = $1 AND j.status = 'succeeded'", user.Id));
        Assert.Equal(2000L, await CountAsync("SELECT count(*) FROM prompt_responses p JOIN prompt_requests r ON r.id = p.prompt_request_id WHERE r.user_id = $1", user.Id));
        Assert.Equal(2000L, await CountAsync("SELECT count(DISTINCT p.prompt_request_id) FROM prompt_responses p JOIN prompt_requests r ON r.id = p.prompt_request_id WHERE r.user_id = $1", user.Id));
        Assert.Equal(2000L, await CountAsync("SELECT count(*) FROM usage_events WHERE user_id = $1 AND status = 'succeeded'", user.Id));
        Assert.Equal(2000L, await CountAsync("SELECT count(DISTINCT subject_id) FROM usage_events WHERE user_id = $1 AND status = 'succeeded'", user.Id));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM (SELECT job_id, attempt FROM usage_events WHERE user_id = $1 GROUP BY 1, 2 HAVING count(*) > 1) d", user.Id));
    }

    [Fact]
    public async Task An_assistant_run_survives_a_Worker_SIGKILL_and_completes_once_with_one_message()
    {
        var marker = $"run-kill-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = (context, request) => request.Body.Contains(marker, StringComparison.Ordinal) && Interlocked.Increment(ref calls) == 1
            ? AnswerAsync(context, "never delivered", TimeSpan.FromSeconds(30))
            : AnswerAsync(context, "the rescued answer", TimeSpan.Zero);
        var admin = await fixture.CreateUserAsync("super_admin");
        using var adminClient = fixture.CreateClient(admin.Token);
        var made = await adminClient.PostAsJsonAsync("/api/v1/assistants", new { model = "openai/gpt-4o-mini", name = "signage analyst", shared = true }, Ct);
        var madeText = await made.Content.ReadAsStringAsync(Ct);
        Assert.True(made.IsSuccessStatusCode, madeText);
        var assistant = JsonDocument.Parse(madeText).RootElement.GetProperty("id").GetString();
        var (client, user) = await OpenAiUserAsync();
        using var _ = client;
        var thread = (await (await client.PostAsJsonAsync("/api/v1/threads", new { messages = new[] { new { role = "user", content = marker } } }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();

        string runId;
        await using (var doomed = await fixture.StartWorkerAsync())
        {
            var run = await client.PostAsJsonAsync($"/api/v1/threads/{thread}/runs", new { assistant_id = assistant }, Ct);
            runId = (await run.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
            await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 1), TimeSpan.FromSeconds(10), "the first worker to call the vendor");
            doomed.Signal("KILL");
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        var status = "";
        await using (var rescuer = await fixture.StartWorkerAsync())
        {
            await WaitUntilAsync(async () =>
            {
                status = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/threads/{thread}/runs/{runId}", Ct)).GetProperty("status").GetString()!;
                return status is not ("queued" or "in_progress");
            }, TimeSpan.FromSeconds(30), "the rescued run to end");
        }
        Assert.Equal("completed", status);
        var runGuid = Guid.ParseExact(runId["run_".Length..], "N");
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM thread_messages WHERE run_id = $1 AND role = 'assistant'", runGuid));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM thread_messages WHERE run_id = $1 AND text = 'the rescued answer'", runGuid));
        Assert.Equal(2L, await CountAsync("SELECT attempt FROM jobs j JOIN assistant_runs r ON r.job_id = j.id WHERE r.id = $1", runGuid));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM usage_events WHERE subject_id = $1 AND status = 'succeeded' AND attempt = 2", runGuid));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM (SELECT attempt FROM usage_events WHERE subject_id = $1 GROUP BY 1 HAVING count(*) > 1) d", runGuid));
        Assert.Equal(user.Id, await fixture.Database.ScalarAsync<Guid>("SELECT user_id FROM usage_events WHERE subject_id = $1", runGuid));
    }

    [Fact]
    public async Task A_worker_frozen_past_its_lease_cannot_overwrite_the_result_of_the_worker_that_rescued_the_job()
    {
        var marker = $"freeze-{Guid.NewGuid():N}";
        var calls = 0;
        fixture.Vendor.Handler = (context, request) => request.Body.Contains(marker, StringComparison.Ordinal) && Interlocked.Increment(ref calls) == 1
            ? AnswerAsync(context, "from the frozen worker", TimeSpan.FromSeconds(3))
            : AnswerAsync(context, "from the rescuer", TimeSpan.Zero);
        var (client, user) = await OpenAiUserAsync();
        using var _ = client;

        await using var frozen = await fixture.StartWorkerAsync();
        var id = await SubmitAsync(client, marker);
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref calls) == 1), TimeSpan.FromSeconds(10), "the first worker to call the vendor");
        frozen.Signal("STOP");
        try
        {
            await using var rescuer = await fixture.StartWorkerAsync();
            var done = await JobsFactory.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(20));
            Assert.Equal("completed", done.GetProperty("status").GetString());
            Assert.Equal("from the rescuer", done.GetProperty("response").GetProperty("text").GetString());
            Assert.Equal(2, done.GetProperty("response").GetProperty("attempt").GetInt32());
        }
        finally
        {
            frozen.Signal("CONT");
        }

        // The frozen worker wakes with a finished vendor answer and a lost lease: it writes nothing.
        await WaitUntilAsync(() => Task.FromResult(frozen.Output.Any(l => l.Contains("lease was lost", StringComparison.Ordinal))), TimeSpan.FromSeconds(15), "the frozen worker to notice");
        await Task.Delay(500, Ct);
        Assert.False(frozen.HasExited);
        var after = await JobsFactory.WaitForFinalAsync(client, id);
        Assert.Equal("from the rescuer", after.GetProperty("response").GetProperty("text").GetString());
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM prompt_responses WHERE prompt_request_id = $1", id));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM prompt_responses WHERE response_text LIKE '%frozen%'"));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM usage_events WHERE subject_id = $1", id));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM usage_events WHERE subject_id = $1 AND attempt = 2 AND status = 'succeeded'", id));
    }

    [Fact]
    public async Task SIGTERM_lets_short_jobs_finish_releases_long_ones_and_leaves_nothing_generating()
    {
        var marker = $"term-{Guid.NewGuid():N}";
        fixture.Vendor.Handler = (context, request) => !request.Body.Contains(marker, StringComparison.Ordinal)
            ? AnswerAsync(context, "other", TimeSpan.Zero)
            : request.Body.Contains("short", StringComparison.Ordinal)
                ? AnswerAsync(context, "short answer", TimeSpan.FromSeconds(1))
                : AnswerAsync(context, "long answer", TimeSpan.FromSeconds(60));
        var (client, user) = await OpenAiUserAsync();
        using var _ = client;

        var worker = await fixture.StartWorkerAsync();
        var shorts = new List<Guid>();
        var longs = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            shorts.Add(await SubmitAsync(client, $"{marker} short {i}"));
            longs.Add(await SubmitAsync(client, $"{marker} long {i}"));
        }
        await WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM jobs j JOIN prompt_requests r ON r.job_id = j.id WHERE r.user_id = $1 AND j.status = 'running'", user.Id) == 6,
            TimeSpan.FromSeconds(10), "all six to run");

        worker.Signal("TERM");
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(15)), "The worker did not stop.");
        await worker.DisposeAsync();

        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM jobs WHERE status = 'running'"));
        foreach (var id in shorts)
        {
            Assert.Equal("completed", (await JobsFactory.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(1))).GetProperty("status").GetString());
        }
        Assert.Equal(3L, await CountAsync("SELECT count(*) FROM jobs j JOIN prompt_requests r ON r.job_id = j.id WHERE r.id = ANY($1) AND j.status = 'queued' AND j.lease_owner IS NULL", longs.ToArray()));
        Assert.Equal(3L, await CountAsync("SELECT count(*) FROM usage_events WHERE subject_id = ANY($1) AND status = 'interrupted'", longs.ToArray()));

        // Another worker picks the released ones up.
        fixture.Vendor.Handler = (context, request) => AnswerAsync(context, "after restart", TimeSpan.Zero);
        await using var next = await fixture.StartWorkerAsync();
        foreach (var id in longs)
        {
            var done = await JobsFactory.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(20));
            Assert.Equal("after restart", done.GetProperty("response").GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task A_worker_whose_lease_was_taken_writes_nothing_and_the_rescuer_finishes_the_job()
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        var store = new AiPrompts.Core.Jobs.JobStore(dataSource);
        var id = Guid.CreateVersion7();
        var kind = $"fence-{id:N}";
        await fixture.Database.ExecuteAsync("""
            INSERT INTO jobs (id, kind, subject_id, status, attempt, max_attempts, run_after, cancel_requested, created_at, updated_at, budget_scopes)
            VALUES ($1, $2, $1, 'queued', 0, 5, '2020-01-01T00:00:00Z', false, now(), now(), 0)
            """, id, kind);
        var now = DateTimeOffset.UtcNow;
        // Claims from the year 2020's point of view, so only this test's job is due; the first lease ends at once.
        var early = DateTimeOffset.Parse("2020-01-01T00:00:01Z", System.Globalization.CultureInfo.InvariantCulture);
        var first = Assert.Single(await store.ClaimAsync("first", 1, early, TimeSpan.FromSeconds(1), Ct));
        var second = Assert.Single(await store.ClaimAsync("second", 1, early.AddSeconds(5), TimeSpan.FromMinutes(1), Ct));
        Assert.Equal((id, 1, id, 2, "first"), (first.Id, first.Attempt, second.Id, second.Attempt, second.PreviousOwner));

        // The first worker's late outcome: refused as a whole, its other writes included.
        var write = AiPrompts.Core.Jobs.JobStore.Command("UPDATE jobs SET last_error_message = 'written by the late worker' WHERE id = $1", id);
        await Assert.ThrowsAsync<AiPrompts.Core.Jobs.JobLeaseLostException>(() =>
            store.ApplyAsync(first, "first", AiPrompts.Core.Jobs.JobTransition.Final("succeeded", now, null), [write], Ct));
        Assert.Equal("running/second/", await fixture.Database.ScalarAsync<string>(
            "SELECT status || '/' || lease_owner || '/' || coalesce(last_error_message, '') FROM jobs WHERE id = $1", id));

        // The rescuer's outcome applies, with its writes; the same outcome again is refused (the lease ended with it).
        var retry = AiPrompts.Core.Jobs.JobTransition.Requeue(now, now.AddMinutes(1), AiPrompts.Core.Jobs.JobError.Of(AiPrompts.Core.Errors.ErrorCode.ServiceUnavailable, "try later"), giveBackAttempt: false);
        await store.ApplyAsync(second, "second", retry, [AiPrompts.Core.Jobs.JobStore.Command("UPDATE jobs SET trace_parent = 'rescued' WHERE id = $1", id)], Ct);
        Assert.Equal("queued//service_unavailable/try later/rescued", await fixture.Database.ScalarAsync<string>(
            "SELECT status || '/' || coalesce(lease_owner, '') || '/' || last_error_code || '/' || last_error_message || '/' || trace_parent FROM jobs WHERE id = $1", id));
        await Assert.ThrowsAsync<AiPrompts.Core.Jobs.JobLeaseLostException>(() =>
            store.ApplyAsync(second, "second", AiPrompts.Core.Jobs.JobTransition.Final("succeeded", now, null), [], Ct));
    }
}
