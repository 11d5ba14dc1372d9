using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AiPrompts.Tests.Health;

/// <summary>
/// Postgres killed (SIGKILL, the server and all its processes) while submits run on several connections, then started
/// again: every answer is a 2xx or a 503 with Retry-After (never a 500), in each surface's own error shape and the
/// caller's language; every accepted request completes once Postgres is back; none reaches the vendor twice or is
/// answered twice. The Api, a real Worker process and a Postgres server of this test's own.
/// </summary>
public sealed class DatabaseOutageTests(DatabaseOutageTests.Fixture fixture) : IClassFixture<DatabaseOutageTests.Fixture>
{
    public sealed class Fixture : JobsFactory
    {
        public PostgresServerProcess Postgres { get; private set; } = null!;

        protected override async Task<string> PostgresAdminAsync()
        {
            Postgres = await PostgresServerProcess.StartNewAsync();
            return Postgres.AdminConnectionString;
        }

        protected override IReadOnlyDictionary<string, string?> JobSettings => new Dictionary<string, string?>
        {
            ["Jobs:Concurrency"] = "16",
            // Longer than the outage with its restart: an outcome waiting for Postgres keeps its lease.
            ["Jobs:LeaseDuration"] = "00:00:20",
            ["Jobs:HeartbeatInterval"] = "00:00:00.500",
            ["Jobs:PollInterval"] = "00:00:00.500",
            ["Jobs:IdlePollInterval"] = "00:00:00.500",
            ["Jobs:RetryBaseDelay"] = "00:00:00.050",
            ["Jobs:RetryMaxDelay"] = "00:00:00.200",
            ["PromptRequests:MaxAttempts"] = "20",
            // The load's log lines are not what this test reads.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
        };

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Postgres.DisposeAsync();
            GC.SuppressFinalize(this);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Submits_while_Postgres_is_killed_get_2xx_or_503_and_every_accepted_one_completes_once_after_it_returns()
    {
        var calls = new ConcurrentDictionary<string, int>();
        fixture.Vendor.Handler = async (context, request) =>
        {
            using var body = JsonDocument.Parse(request.Body);
            var prompt = body.RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;
            calls.AddOrUpdate(prompt, 1, (_, n) => n + 1);
            await Task.Delay(20, context.RequestAborted);
            await FakeVendor.ChatStreamAsync(context, "answer");
        };
        var user = await fixture.CreateUserAsync("user");
        await fixture.SetOpenAiKeyAsync(user);
        await using var worker = await fixture.StartWorkerAsync();

        var answers = new ConcurrentBag<(int Status, string? RetryAfter, Guid? Id, string Body)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var marker = Guid.NewGuid().ToString("N");
        var load = Enumerable.Range(0, 6).Select(loop => Task.Run(async () =>
        {
            using var client = fixture.CreateClient(user.Token);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await client.PostAsJsonAsync("/api/v1/prompt-requests",
                    new { promptType = "text", promptText = $"{marker} {loop}-{i}", provider = "openai", model = "gpt-4o-mini", store = true }, CancellationToken.None);
                var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                Guid? id = response.IsSuccessStatusCode ? JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("id").GetGuid() : null;
                answers.Add(((int)response.StatusCode, response.Headers.RetryAfter?.ToString(), id, text));
                if (!response.IsSuccessStatusCode)
                {
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }, CancellationToken.None)).ToList();

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        await fixture.Postgres.KillAsync();

        // While it is down, a read answers 503 too: problem+json in the caller's language, and OpenAI's shape on the Assistants surface.
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        using (var thai = fixture.CreateClient(user.Token, "th"))
        {
            using var list = await thai.GetAsync("/api/v1/prompt-requests", Ct);
            var problem = await Problem.ReadAsync(list, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("service_unavailable", problem.Code);
            Assert.Equal("th", list.Content.Headers.ContentLanguage.Single());
            Assert.NotNull(list.Headers.RetryAfter);

            using var thread = await thai.GetAsync("/api/v1/threads/thread_0193a000000070008000000000000001", Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, thread.StatusCode);
            using var error = JsonDocument.Parse(await thread.Content.ReadAsStringAsync(Ct));
            Assert.Equal("service_unavailable", error.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal("server_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        await fixture.Postgres.StartAsync();
        var acceptedBefore = answers.Count(a => a.Id is not null);

        // Submits go on until some are accepted again after the restart.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (answers.Count(a => a.Id is not null) < acceptedBefore + 20)
        {
            Assert.True(DateTime.UtcNow < deadline, "No submit was accepted after Postgres came back.");
            await Task.Delay(100, Ct);
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var wrong = answers.Where(a => a.Status is not (StatusCodes.Status202Accepted or StatusCodes.Status503ServiceUnavailable)).ToList();
        Assert.True(wrong.Count == 0, $"Answers other than 202 or 503: {string.Join("; ", wrong.Take(5).Select(a => $"{a.Status} {a.Body}"))}");
        var unavailable = answers.Where(a => a.Status == StatusCodes.Status503ServiceUnavailable).ToList();
        Assert.NotEmpty(unavailable);
        Assert.All(unavailable, a =>
        {
            Assert.Equal("2", a.RetryAfter);
            Assert.Equal("service_unavailable", JsonDocument.Parse(a.Body).RootElement.GetProperty("code").GetString());
        });

        // Every accepted request completes, with one response, one successful usage row and one vendor call.
        var accepted = answers.Where(a => a.Id is not null).Select(a => a.Id!.Value).ToArray();
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM prompt_requests r JOIN jobs j ON j.id = r.job_id WHERE r.id = ANY($1) AND j.status = 'succeeded'", accepted) < accepted.Length)
        {
            if (DateTime.UtcNow >= deadline)
            {
                var stuck = await fixture.Database.ScalarAsync<string>("""
                    SELECT coalesce(string_agg(j.status || ' attempt ' || j.attempt || ' ' || coalesce(j.last_error_code, '-') || ' ' || coalesce(j.lease_owner, '-'), '; '), '')
                    FROM prompt_requests r JOIN jobs j ON j.id = r.job_id WHERE r.id = ANY($1) AND j.status <> 'succeeded'
                    """, accepted);
                Assert.Fail($"Accepted requests did not all complete after Postgres came back: {stuck}\nWorker:\n{string.Join('\n', worker.Output.TakeLast(60))}");
            }
            await Task.Delay(200, Ct);
        }
        Assert.Equal(accepted.Length, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_responses WHERE prompt_request_id = ANY($1)", accepted));
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT prompt_request_id FROM prompt_responses WHERE prompt_request_id = ANY($1) GROUP BY 1 HAVING count(*) > 1) twice", accepted));
        Assert.Equal(accepted.Length, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events WHERE subject_id = ANY($1) AND status = 'succeeded'", accepted));
        var texts = await fixture.Database.ScalarAsync<string>("SELECT coalesce(string_agg(prompt_text, E'\\n'), '') FROM prompt_requests WHERE id = ANY($1)", accepted);
        var reachedTwice = texts.Split('\n').Where(t => calls.GetValueOrDefault(t) > 1).ToList();
        Assert.True(reachedTwice.Count == 0, $"Reached the vendor twice: {string.Join(", ", reachedTwice.Take(5))}");
    }
}
