using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Usage;

/// <summary>GET /api/v1/usage and /usage/events over usage rows in the real database.</summary>
public sealed class UsageApiTests(UsageApiTests.Fixture fixture) : IClassFixture<UsageApiTests.Fixture>
{
    public sealed class Fixture : ApiFactory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Window = "from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z";

    private async Task AddAsync(Guid user, string at, string provider, string section, string status, long input, long output, decimal? cost, decimal? vendorCost)
    {
        await fixture.Database.ExecuteAsync("""
            INSERT INTO usage_events (id, user_id, subject_type, section, provider_id, model_id, key_source, input_tokens, output_tokens, cost, vendor_cost, duration_ms, status, created_at)
            VALUES (gen_random_uuid(), $1, 'prompt_request', $2, $3, 'm-1', 'personal', $4, $5, $6, $7, 100, $8, $9)
            """, user, section, provider, input, output, cost, vendorCost, status, DateTimeOffset.Parse(at, CultureInfo.InvariantCulture));
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Totals_are_the_sums_of_their_rows_across_a_month_boundary_in_JSON_and_CSV_and_a_user_sees_only_their_own()
    {
        var user = await fixture.CreateUserAsync("user");
        var other = await fixture.CreateUserAsync("user");
        await AddAsync(user.Id, "2026-11-30T23:59:59.999Z", "openai", "content", "succeeded", 100, 50, 0.001m, null);
        await AddAsync(user.Id, "2026-12-01T00:00:00Z", "openrouter", "chat", "succeeded", 10, 5, 0.0002m, 0.00025m);
        await AddAsync(user.Id, "2026-12-01T12:00:00Z", "openrouter", "chat", "failed", 0, 0, null, null);
        await AddAsync(other.Id, "2026-12-01T08:00:00Z", "openai", "chat", "succeeded", 1000, 1000, 1m, null);
        using var client = fixture.CreateClient(user.Token);

        var report = await JsonAsync(await client.GetAsync($"/api/v1/usage?{Window}&groupBy=month", Ct));
        var groups = report.GetProperty("groups");
        Assert.Equal(["2026-11", "2026-12"], groups.EnumerateArray().Select(g => g.GetProperty("group").GetProperty("month").GetString()));
        var november = groups[0].GetProperty("totals");
        Assert.Equal((1L, 100L, 50L, 0.001m), (november.GetProperty("calls").GetInt64(), november.GetProperty("inputTokens").GetInt64(), november.GetProperty("outputTokens").GetInt64(), november.GetProperty("cost").GetDecimal()));
        var december = groups[1].GetProperty("totals");
        Assert.Equal((2L, 1L, 1L), (december.GetProperty("calls").GetInt64(), december.GetProperty("succeeded").GetInt64(), december.GetProperty("failed").GetInt64()));
        Assert.Equal((0.0002m, 0.00025m, 0.00005m), (december.GetProperty("cost").GetDecimal(), december.GetProperty("vendorCost").GetDecimal(), december.GetProperty("costDifference").GetDecimal()));

        // The totals are the sum of the groups, and of the rows themselves; the other user's row is not in them.
        var totals = report.GetProperty("totals");
        Assert.Equal(3L, totals.GetProperty("calls").GetInt64());
        Assert.Equal(groups.EnumerateArray().Sum(g => g.GetProperty("totals").GetProperty("cost").GetDecimal()), totals.GetProperty("cost").GetDecimal());
        Assert.Equal(await fixture.Database.ScalarAsync<long>("SELECT sum(input_tokens + output_tokens) FROM usage_events WHERE user_id = $1", user.Id),
            totals.GetProperty("inputTokens").GetInt64() + totals.GetProperty("outputTokens").GetInt64());

        // A window of whole UTC days is read from the rollups, any other from the rows: the same figures.
        Assert.Equal("rollups", report.GetProperty("source").GetString());
        var fromRows = await JsonAsync(await client.GetAsync("/api/v1/usage?from=2026-11-01T00:00:00.001Z&to=2026-12-31T23:59:59Z&groupBy=month", Ct));
        Assert.Equal("events", fromRows.GetProperty("source").GetString());
        Assert.Equal(report.GetProperty("totals").GetRawText(), fromRows.GetProperty("totals").GetRawText());
        Assert.Equal(report.GetProperty("groups").GetRawText(), fromRows.GetProperty("groups").GetRawText());

        // Any dimensions at once, and filters on them.
        var byDay = await JsonAsync(await client.GetAsync($"/api/v1/usage?{Window}&groupBy=day,provider", Ct));
        Assert.Equal(["2026-11-30/openai", "2026-12-01/openrouter"], byDay.GetProperty("groups").EnumerateArray()
            .Select(g => $"{g.GetProperty("group").GetProperty("day").GetString()}/{g.GetProperty("group").GetProperty("provider").GetString()}"));
        var failedOnly = await JsonAsync(await client.GetAsync($"/api/v1/usage?{Window}&status=failed&provider=openrouter", Ct));
        Assert.Equal(1L, failedOnly.GetProperty("totals").GetProperty("calls").GetInt64());

        // CSV on Accept: text/csv, one line per group.
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/usage?{Window}&groupBy=month,section");
        csvRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var csvResponse = await client.SendAsync(csvRequest, Ct);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var lines = (await csvResponse.Content.ReadAsStringAsync(Ct)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();
        Assert.Equal(["month", "section", "calls", "succeeded", "failed", "inputTokens", "outputTokens", "cost", "vendorCost", "costDifference", "durationMs", "cachedInputTokens", "reasoningTokens"], lines[0]);
        Assert.Equal(["2026-11", "content", "1", "1", "0", "100", "50", "0.00100000", "", "", "100", "0", "0"], lines[1]);
        Assert.Equal(["2026-12", "chat", "2", "1", "1", "10", "5", "0.00020000", "0.00025000", "0.00005000", "200", "0", "0"], lines[2]);

        // Someone else's usage: refused to a user, open to a super admin.
        await JsonAsync(await client.GetAsync($"/api/v1/usage?{Window}&userId={other.Id}", Ct), HttpStatusCode.Forbidden);
        using var admin = fixture.CreateClient((await fixture.CreateUserAsync("super_admin")).Token);
        var theirs = await JsonAsync(await admin.GetAsync($"/api/v1/usage?{Window}&userId={other.Id}", Ct));
        Assert.Equal((1L, 1m), (theirs.GetProperty("totals").GetProperty("calls").GetInt64(), theirs.GetProperty("totals").GetProperty("cost").GetDecimal()));

        // Raw rows deleted (retention): the rollups keep the totals, the rows are gone.
        await fixture.Database.ExecuteAsync("DELETE FROM usage_events WHERE user_id = $1", user.Id);
        var kept = await JsonAsync(await client.GetAsync($"/api/v1/usage?{Window}", Ct));
        Assert.Equal(3L, kept.GetProperty("totals").GetProperty("calls").GetInt64());
        var rowsGone = await JsonAsync(await client.GetAsync("/api/v1/usage?from=2026-11-01T00:00:00.001Z&to=2026-12-31T23:59:59Z", Ct));
        Assert.Equal(0L, rowsGone.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task The_request_and_token_limits_are_the_configured_ones_and_need_a_caller()
    {
        using var client = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token);
        var limits = (await JsonAsync(await client.GetAsync("/api/v1/usage/limits", Ct))).GetProperty("data");
        // This factory's settings (ApiFactory: high limits so the suite is never throttled).
        Assert.Equal((60, 1_000_000, 2_000_000_000L, 1_000_000, 2_000_000_000L), (limits.GetProperty("windowSeconds").GetInt32(),
            limits.GetProperty("requestsPerUser").GetInt32(), limits.GetProperty("tokensPerUser").GetInt64(),
            limits.GetProperty("requestsPerApiKey").GetInt32(), limits.GetProperty("tokensPerApiKey").GetInt64()));
        using var anonymous = fixture.CreateClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/usage/limits", Ct)).StatusCode);
    }

    [Fact]
    public async Task Raw_rows_page_newest_first_and_bad_queries_are_field_errors()
    {
        var user = await fixture.CreateUserAsync("user");
        await AddAsync(user.Id, "2026-12-02T10:00:00Z", "openai", "chat", "succeeded", 1, 1, 0.1m, null);
        await AddAsync(user.Id, "2026-12-02T11:00:00Z", "openai", "chat", "succeeded", 2, 2, 0.2m, null);
        await AddAsync(user.Id, "2026-12-02T12:00:00Z", "openai", "chat", "succeeded", 3, 3, 0.3m, null);
        using var client = fixture.CreateClient(user.Token);

        var first = await JsonAsync(await client.GetAsync($"/api/v1/usage/events?{Window}&limit=2", Ct));
        Assert.Equal([3L, 2L], first.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("inputTokens").GetInt64()));
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await JsonAsync(await client.GetAsync($"/api/v1/usage/events?{Window}&limit=2&cursor={cursor}", Ct));
        Assert.Equal([1L], second.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("inputTokens").GetInt64()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);

        var bad = await JsonAsync(await client.GetAsync("/api/v1/usage?groupBy=day,colour&status=lost&from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", Ct), HttpStatusCode.BadRequest);
        Assert.All(["groupBy", "status", "from"], field => Assert.True(bad.GetProperty("errors").TryGetProperty(field, out _), field));
        await JsonAsync(await client.GetAsync("/api/v1/usage/events?limit=0&cursor=nope", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Raw_rows_are_partitioned_by_month_a_month_without_its_partition_moves_into_it_when_made_and_retention_drops_whole_months()
    {
        // The migration made the partitions of this month and the two after it; rows of other months go to the default partition.
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'usage_events'::regclass"));
        Assert.Equal(3L, await fixture.Database.ScalarAsync<long>("""
            SELECT count(to_regclass('usage_events_p' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i), 'YYYYMM')))
            FROM generate_series(0, 2) AS i
            """));
        var user = await fixture.CreateUserAsync("user");
        await AddAsync(user.Id, "2024-03-01T00:00:00Z", "openai", "chat", "succeeded", 10, 10, 0.5m, null);
        await AddAsync(user.Id, "2024-03-31T23:59:59.999Z", "openai", "chat", "succeeded", 20, 20, 0.25m, null);
        await AddAsync(user.Id, "2024-04-01T00:00:00Z", "openai", "chat", "succeeded", 30, 30, 0.125m, null);
        Assert.Equal(3L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events_default WHERE user_id = $1", user.Id));
        using var client = fixture.CreateClient(user.Token);
        const string window = "from=2024-01-01T00:00:00Z&to=2024-12-31T23:59:59Z";
        var before = await JsonAsync(await client.GetAsync($"/api/v1/usage?{window}&groupBy=month", Ct));
        Assert.Equal("events", before.GetProperty("source").GetString());

        // Making March's partition (as the Worker's sweep does for the months ahead) moves March's rows out of the default one,
        // to the millisecond of the boundary; nothing is counted twice.
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        var retention = new AiPrompts.Core.Usage.UsageRetention(dataSource, Microsoft.Extensions.Options.Options.Create(
            new AiPrompts.Core.Usage.UsageRetentionOptions { RawRetention = TimeSpan.FromDays(30) }));
        await retention.EnsurePartitionsAsync(DateTimeOffset.Parse("2024-03-15T00:00:00Z", CultureInfo.InvariantCulture), Ct);
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events_p202403 WHERE user_id = $1", user.Id));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events_p202404 WHERE user_id = $1", user.Id));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events_default WHERE user_id = $1", user.Id));
        var after = await JsonAsync(await client.GetAsync($"/api/v1/usage?{window}&groupBy=month", Ct));
        Assert.Equal(before.GetProperty("groups").GetRawText(), after.GetProperty("groups").GetRawText());
        Assert.Equal((3L, 0.875m), (after.GetProperty("totals").GetProperty("calls").GetInt64(), after.GetProperty("totals").GetProperty("cost").GetDecimal()));

        // One row per job attempt, in a month's partition as anywhere.
        var job = Guid.NewGuid();
        const string attemptRow = """
            INSERT INTO usage_events (id, user_id, job_id, attempt, subject_type, section, provider_id, model_id, key_source, input_tokens, output_tokens, duration_ms, status, created_at)
            VALUES (gen_random_uuid(), $1, $2, 1, 'prompt_request', 'chat', 'openai', 'm-1', 'personal', 1, 1, 1, 'succeeded', '2024-03-10T00:00:00Z')
            """;
        await fixture.Database.ExecuteAsync(attemptRow, user.Id, job);
        var duplicate = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => fixture.Database.ExecuteAsync(attemptRow, user.Id, job));
        Assert.Equal(Npgsql.PostgresErrorCodes.UniqueViolation, duplicate.SqlState);

        // Retention (30 days before May 15: April 15) drops the months that ended before its cut-off whole (March, with its 3
        // rows) and deletes row by row in the month it falls in (April 1's row); the rollups keep every total.
        var (rows, _) = await retention.SweepAsync(DateTimeOffset.Parse("2024-05-15T00:00:00Z", CultureInfo.InvariantCulture), Ct);
        Assert.True(rows >= 4, $"{rows} rows deleted");
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'usage_events_p202403'"));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'usage_events_p202404'"));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
        var kept = await JsonAsync(await client.GetAsync("/api/v1/usage?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", Ct));
        Assert.Equal("rollups", kept.GetProperty("source").GetString());
        Assert.Equal(4L, kept.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task Retention_deletes_old_raw_rows_in_batches_and_keeps_their_rollups_until_the_rollups_own_retention()
    {
        var user = await fixture.CreateUserAsync("user");
        for (var i = 0; i < 7; i++)
        {
            await AddAsync(user.Id, $"2025-06-0{i + 1}T10:00:00Z", "openai", "chat", "succeeded", 10, 10, 0.5m, null);
        }
        await AddAsync(user.Id, "2026-12-01T10:00:00Z", "openai", "chat", "succeeded", 1, 1, 0.25m, null);
        using var client = fixture.CreateClient(user.Token);
        const string year = "from=2025-01-01T00:00:00Z&to=2027-01-01T00:00:00Z";
        var before = await JsonAsync(await client.GetAsync($"/api/v1/usage?{year}", Ct));
        Assert.Equal((8L, 3.75m), (before.GetProperty("totals").GetProperty("calls").GetInt64(), before.GetProperty("totals").GetProperty("cost").GetDecimal()));

        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        var now = DateTimeOffset.Parse("2026-12-04T00:00:00Z", CultureInfo.InvariantCulture);
        var rawOnly = new AiPrompts.Core.Usage.UsageRetention(dataSource, Microsoft.Extensions.Options.Options.Create(
            new AiPrompts.Core.Usage.UsageRetentionOptions { RawRetention = TimeSpan.FromDays(365), SweepBatchSize = 3 }));
        var (rows, rollups) = await rawOnly.SweepAsync(now, Ct);
        Assert.True(rows >= 7, $"{rows} rows deleted");
        Assert.Equal(0L, rollups);
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
        var kept = await JsonAsync(await client.GetAsync($"/api/v1/usage?{year}", Ct));
        Assert.Equal(before.GetProperty("totals").GetRawText(), kept.GetProperty("totals").GetRawText());

        var both = new AiPrompts.Core.Usage.UsageRetention(dataSource, Microsoft.Extensions.Options.Options.Create(
            new AiPrompts.Core.Usage.UsageRetentionOptions { RawRetention = TimeSpan.FromDays(365), RollupRetention = TimeSpan.FromDays(365) }));
        Assert.True((await both.SweepAsync(now, Ct)).Rollups >= 7);
        var after = await JsonAsync(await client.GetAsync($"/api/v1/usage?{year}", Ct));
        Assert.Equal((1L, 0.25m), (after.GetProperty("totals").GetProperty("calls").GetInt64(), after.GetProperty("totals").GetProperty("cost").GetDecimal()));
    }
}
