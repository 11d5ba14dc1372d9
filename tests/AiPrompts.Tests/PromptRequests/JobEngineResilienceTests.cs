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
            ["Jobs:RetryBaseDelay"] = "00:00:00.050",
            ["Jobs:RetryMaxDelay"] = "00:00:00.200",
            ["Jobs:ShutdownGrace"] = "00:00:02",
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
}
