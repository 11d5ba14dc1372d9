using System.Data.Common;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Usage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Api.Usage;

/// <summary>One group of usage: its keys (only those grouped by) and what its vendor calls used and cost.</summary>
public sealed record UsageGroup(IReadOnlyDictionary<string, string?> Group, UsageTotals Totals);

/// <summary>
/// Vendor calls (one row per attempt), how they ended, tokens, the cost computed from the catalogue's prices,
/// the cost the vendor reported (where it does, e.g. OpenRouter) and the difference where both are known.
/// </summary>
public sealed record UsageTotals(
    long Calls, long Succeeded, long Failed, long InputTokens, long OutputTokens, decimal Cost, decimal? VendorCost, decimal? CostDifference, long DurationMs,
    long CachedInputTokens, long ReasoningTokens);

/// <summary><c>Source</c>: <c>rollups</c> when the window is whole UTC days (read from the daily rollups), else <c>events</c> (the rows).</summary>
public sealed record UsageReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<string> GroupBy, string Source, UsageTotals Totals, IReadOnlyList<UsageGroup> Groups);

/// <summary>The rate limits: requests and tokens a user, and each API key, may use per window.</summary>
public sealed record RequestLimitsResponse(int WindowSeconds, int RequestsPerUser, long TokensPerUser, int RequestsPerApiKey, long TokensPerApiKey);

public sealed record UsageRow(
    Guid Id, DateTimeOffset CreatedAt, Guid? UserId, string SubjectType, Guid? SubjectId, Guid? JobId, int? Attempt, string Section, string Provider, string Model,
    string KeySource, long InputTokens, long OutputTokens, decimal? Cost, decimal? VendorCost, int DurationMs, string Status, string? ErrorCode,
    Guid? ApiKeyId, string? Purpose, long CachedInputTokens, long ReasoningTokens);

/// <summary>
/// <c>GET /api/v1/usage</c>: the usage rows every vendor call writes, added up by any of the time buckets and
/// dimensions, filtered by time and the same dimensions; JSON, or CSV on <c>Accept: text/csv</c>. A window of
/// whole UTC days is read from <c>usage_rollups</c> (kept exact by a trigger as rows are written), so a year
/// of totals is a few rows per day; any other window from the rows.
/// <c>GET /api/v1/usage/events</c>: the rows themselves, newest first, keyset-paged. Everyone reads their own
/// usage; a super admin reads everyone's and may filter by <c>userId</c>.
/// </summary>
internal static class UsageApi
{
    /// <summary>What may be grouped by: the name in the query and the response, and its SQL over the rows and over the rollups (nothing else reaches the SQL).</summary>
    private static readonly Dictionary<string, (string Events, string Rollups)> Dimensions = new(StringComparer.Ordinal)
    {
        ["day"] = ("to_char(date_trunc('day', created_at, 'UTC'), 'YYYY-MM-DD')", "to_char(day, 'YYYY-MM-DD')"),
        ["week"] = ("to_char(date_trunc('week', created_at, 'UTC'), 'YYYY-MM-DD')", "to_char(date_trunc('week', day), 'YYYY-MM-DD')"),
        ["month"] = ("to_char(date_trunc('month', created_at, 'UTC'), 'YYYY-MM')", "to_char(day, 'YYYY-MM')"),
        ["user"] = ("user_id::text", "user_id::text"),
        ["apiKey"] = ("api_key_id::text", "api_key_id::text"),
        ["purpose"] = ("purpose", "purpose"),
        ["provider"] = ("provider_id", "provider_id"),
        ["model"] = ("model_id", "model_id"),
        ["section"] = ("section", "section"),
        ["keySource"] = ("key_source", "key_source"),
        ["status"] = ("status", "status"),
        ["subjectType"] = ("subject_type", "subject_type"),
    };

    private const string EventTotals = """
        count(*), count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'failed'),
        coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, coalesce(sum(cost), 0), sum(vendor_cost),
        sum(vendor_cost - cost) FILTER (WHERE vendor_cost IS NOT NULL AND cost IS NOT NULL), coalesce(sum(duration_ms), 0)::bigint,
        coalesce(sum(cached_input_tokens), 0)::bigint, coalesce(sum(reasoning_tokens), 0)::bigint
        """;

    private const string RollupTotals = """
        coalesce(sum(calls), 0)::bigint, coalesce(sum(calls) FILTER (WHERE status = 'succeeded'), 0)::bigint, coalesce(sum(calls) FILTER (WHERE status = 'failed'), 0)::bigint,
        coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, coalesce(sum(cost), 0), sum(vendor_cost),
        sum(cost_difference), coalesce(sum(duration_ms), 0)::bigint,
        coalesce(sum(cached_input_tokens), 0)::bigint, coalesce(sum(reasoning_tokens), 0)::bigint
        """;

    private const int MaxGroups = 10_000;
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/usage").WithTags("Usage").RequireScope(ApiKeyScopes.Prompts);
        group.MapGet("/", ReportAsync).WithName("GetUsage").Produces<UsageReport>(StatusCodes.Status200OK, "application/json", "text/csv")
            .WithSummary("Usage totals grouped by any of day, week, month, user, apiKey, purpose, provider, model, section, keySource, status, subjectType (groupBy=a,b), filtered by from/to and the same fields; CSV on Accept: text/csv");
        group.MapGet("/events", EventsAsync).WithName("ListUsageEvents")
            .WithSummary("The usage rows themselves (one per vendor call attempt), newest first, keyset-paged (limit, cursor) with the same filters");
        group.MapGet("/limits", Limits).WithName("GetRequestLimits")
            .WithSummary("The request and token limits per window that every call counts against: per user and per API key (RateLimits settings)");
        return app;
    }

    internal static Ok<DataEnvelope<RequestLimitsResponse>> Limits(IOptionsMonitor<RequestRateLimitOptions> options)
    {
        var limits = options.CurrentValue;
        return TypedResults.Ok(DataEnvelope.Of(new RequestLimitsResponse(
            (int)limits.Window.TotalSeconds, limits.UserPermitLimit, limits.UserTokenLimit, limits.ApiKeyPermitLimit, limits.ApiKeyTokenLimit)));
    }

    /// <summary>The filters both endpoints take, checked.</summary>
    internal sealed record Filter(DateTimeOffset From, DateTimeOffset To, Guid? UserId, string[] Providers, string[] Models, string[] Sections, string[] KeySources, string[] Statuses, string[] SubjectTypes,
        Guid? ApiKeyId = null, string[]? Purposes = null);

    internal static async Task<Results<Ok<UsageReport>, FileContentHttpResult, ValidationProblem, ProblemHttpResult>> ReportAsync(
        HttpContext http, ClaimsPrincipal principal, AppDbContext db, TimeProvider time, CancellationToken cancellationToken,
        string? groupBy = null, DateTimeOffset? from = null, DateTimeOffset? to = null, Guid? userId = null, string? provider = null, string? model = null,
        string? section = null, string? keySource = null, string? status = null, string? subjectType = null, Guid? apiKeyId = null, string? purpose = null)
    {
        var errors = new Dictionary<string, string[]>();
        string[] keys = Split(groupBy);
        if (keys.Except(Dimensions.Keys).ToArray() is { Length: > 0 } unknown)
        {
            errors["groupBy"] = [$"Unknown grouping: {string.Join(", ", unknown)}. Known: {string.Join(", ", Dimensions.Keys)}."];
        }
        else if (keys.Distinct(StringComparer.Ordinal).Count() != keys.Length)
        {
            errors["groupBy"] = ["Each grouping is named once."];
        }
        var filter = Check(principal, time, errors, from, to, userId, provider, model, section, keySource, status, subjectType, out var refusal)! with
        {
            ApiKeyId = apiKeyId, Purposes = Split(purpose),
        };
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (refusal is not null)
        {
            return refusal;
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var rollups = IsWholeDay(filter!.From) && IsWholeDay(filter.To);
            var (where, parameters) = Where(filter, rollups);
            var totals = (await QueryAsync(connection, rollups, [], where, parameters, cancellationToken)).Single().Totals;
            var groups = keys.Length == 0 ? [] : await QueryAsync(connection, rollups, keys, where, parameters, cancellationToken);
            var report = new UsageReport(filter.From, filter.To, keys, rollups ? "rollups" : "events", totals, groups);
            return WantsCsv(http.Request)
                ? TypedResults.File(Encoding.UTF8.GetBytes(Csv(report)), "text/csv; charset=utf-8", "usage.csv")
                : TypedResults.Ok(report);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    internal static async Task<Results<Ok<PageEnvelope<UsageRow>>, ValidationProblem, ProblemHttpResult>> EventsAsync(
        ClaimsPrincipal principal, AppDbContext db, TimeProvider time, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null, Guid? userId = null, string? provider = null, string? model = null,
        string? section = null, string? keySource = null, string? status = null, string? subjectType = null, int? limit = null, string? cursor = null,
        Guid? apiKeyId = null, string? purpose = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = Paging.Read(limit, cursor, errors);
        var filter = Check(principal, time, errors, from, to, userId, provider, model, section, keySource, status, subjectType, out var refusal);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (refusal is not null)
        {
            return refusal;
        }
        var f = filter! with { ApiKeyId = apiKeyId, Purposes = Split(purpose) };
        var query = db.UsageEvents.AsNoTracking().Where(u => u.CreatedAt >= f.From && u.CreatedAt < f.To);
        if (f.UserId is { } owner)
        {
            query = query.Where(u => u.UserId == owner);
        }
        query = In(query, f.Providers, u => u.ProviderId);
        query = In(query, f.Models, u => u.ModelId);
        query = In(query, f.Sections, u => u.Section);
        query = In(query, f.KeySources, u => u.KeySource);
        query = In(query, f.Statuses, u => u.Status);
        query = In(query, f.SubjectTypes, u => u.SubjectType);
        if (f.ApiKeyId is { } key)
        {
            query = query.Where(u => u.ApiKeyId == key);
        }
        if (f.Purposes is { Length: > 0 } purposes)
        {
            query = query.Where(u => u.Purpose != null && purposes.Contains(u.Purpose));
        }
        var (rows, next) = Paging.Cut(await query.Window(page, u => u.CreatedAt, u => u.Id).ToListAsync(cancellationToken), page, u => (u.CreatedAt, u.Id));
        return TypedResults.Ok(new PageEnvelope<UsageRow>([.. rows.Select(u => new UsageRow(u.Id, u.CreatedAt, u.UserId, u.SubjectType, u.SubjectId, u.JobId, u.Attempt,
            u.Section, u.ProviderId, u.ModelId, u.KeySource, u.InputTokens, u.OutputTokens, u.Cost, u.VendorCost, u.DurationMs, u.Status, u.ErrorCode,
            u.ApiKeyId, u.Purpose, u.CachedInputTokens, u.ReasoningTokens))], next));
    }

    private static IQueryable<UsageEvent> In(IQueryable<UsageEvent> query, string[] values, System.Linq.Expressions.Expression<Func<UsageEvent, string>> field)
    {
        if (values.Length == 0)
        {
            return query;
        }
        var parameter = field.Parameters[0];
        var contains = System.Linq.Expressions.Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [typeof(string)],
            System.Linq.Expressions.Expression.Constant(values), field.Body);
        return query.Where(System.Linq.Expressions.Expression.Lambda<Func<UsageEvent, bool>>(contains, parameter));
    }

    /// <summary>The window (default: the last 30 days) and the filters; only a super admin reads another user's usage.</summary>
    private static Filter? Check(ClaimsPrincipal principal, TimeProvider time, Dictionary<string, string[]> errors, DateTimeOffset? from, DateTimeOffset? to, Guid? userId,
        string? provider, string? model, string? section, string? keySource, string? status, string? subjectType, out ProblemHttpResult? refusal)
    {
        refusal = null;
        // Postgres keeps instants in UTC; any offset the caller wrote is the same instant.
        var until = (to ?? time.GetUtcNow()).ToUniversalTime();
        var since = from?.ToUniversalTime() ?? (until.UtcTicks > DefaultRange.Ticks ? until - DefaultRange : DateTimeOffset.MinValue);
        if (since >= until)
        {
            errors["from"] = ["from must be before to."];
        }
        if (Split(status).Except([UsageStatus.Succeeded, UsageStatus.Failed, UsageStatus.Cancelled, UsageStatus.Interrupted]).ToArray() is { Length: > 0 } unknown)
        {
            errors["status"] = [$"Unknown status: {string.Join(", ", unknown)}. Known: succeeded, failed, cancelled, interrupted."];
        }
        if (!principal.MayList(userId, Visibility.Overseen))
        {
            refusal = ApiProblem.Of(ErrorCode.Forbidden, detail: "Only a super admin can read other users' usage.");
        }
        var owner = principal.ListedOwner(userId, Visibility.Overseen);
        return new Filter(since, until, owner, Split(provider), Split(model), Split(section), Split(keySource), Split(status), Split(subjectType));
    }

    private static string[] Split(string? list) =>
        list is null ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsWholeDay(DateTimeOffset instant) => instant.UtcTicks % TimeSpan.TicksPerDay == 0;

    private static (string Sql, List<NpgsqlParameter> Parameters) Where(Filter filter, bool rollups)
    {
        var parameters = new List<NpgsqlParameter>
        {
            new() { Value = filter.From, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new() { Value = filter.To, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        };
        var sql = new StringBuilder(rollups ? "day >= ($1 AT TIME ZONE 'UTC')::date AND day < ($2 AT TIME ZONE 'UTC')::date" : "created_at >= $1 AND created_at < $2");
        if (filter.UserId is { } user)
        {
            parameters.Add(new() { Value = user, NpgsqlDbType = NpgsqlDbType.Uuid });
            sql.Append(CultureInfo.InvariantCulture, $" AND user_id = ${parameters.Count}");
        }
        if (filter.ApiKeyId is { } key)
        {
            parameters.Add(new() { Value = key, NpgsqlDbType = NpgsqlDbType.Uuid });
            sql.Append(CultureInfo.InvariantCulture, $" AND api_key_id = ${parameters.Count}");
        }
        foreach (var (column, values) in (ReadOnlySpan<(string, string[])>)[("provider_id", filter.Providers), ("model_id", filter.Models), ("section", filter.Sections),
            ("key_source", filter.KeySources), ("status", filter.Statuses), ("subject_type", filter.SubjectTypes), ("purpose", filter.Purposes ?? [])])
        {
            if (values.Length > 0)
            {
                parameters.Add(new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                sql.Append(CultureInfo.InvariantCulture, $" AND {column} = ANY(${parameters.Count})");
            }
        }
        return (sql.ToString(), parameters);
    }

    private static async Task<List<UsageGroup>> QueryAsync(NpgsqlConnection connection, bool rollups, string[] keys, string where, List<NpgsqlParameter> parameters, CancellationToken cancellationToken)
    {
        var columns = keys.Select(k => rollups ? Dimensions[k].Rollups : Dimensions[k].Events).ToArray();
        var select = columns.Length == 0 ? "" : string.Join(", ", columns) + ", ";
        var group = columns.Length == 0 ? "" : $" GROUP BY {string.Join(", ", columns)} ORDER BY {string.Join(", ", columns)} LIMIT {MaxGroups}";
        await using var command = new NpgsqlCommand($"""
            SELECT {select}{(rollups ? RollupTotals : EventTotals)}
            FROM {(rollups ? "usage_rollups" : "usage_events")} WHERE {where}{group}
            """, connection);
        command.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray());
        var result = new List<UsageGroup>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (var i = 0; i < keys.Length; i++)
            {
                values[keys[i]] = reader.IsDBNull(i) ? null : reader.GetString(i);
            }
            var n = keys.Length;
            result.Add(new UsageGroup(values, new UsageTotals(reader.GetInt64(n), reader.GetInt64(n + 1), reader.GetInt64(n + 2), reader.GetInt64(n + 3), reader.GetInt64(n + 4),
                reader.GetDecimal(n + 5), Nullable(reader, n + 6), Nullable(reader, n + 7), reader.GetInt64(n + 8), reader.GetInt64(n + 9), reader.GetInt64(n + 10))));
        }
        return result;
    }

    private static decimal? Nullable(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDecimal(ordinal);

    private static bool WantsCsv(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    /// <summary>RFC 4180: one header line, one line per group (the totals when nothing is grouped), invariant numbers.</summary>
    internal static string Csv(UsageReport report)
    {
        var csv = new StringBuilder();
        string[] metrics = ["calls", "succeeded", "failed", "inputTokens", "outputTokens", "cost", "vendorCost", "costDifference", "durationMs", "cachedInputTokens", "reasoningTokens"];
        csv.AppendJoin(',', report.GroupBy.Concat(metrics).Select(Quote)).Append("\r\n");
        IEnumerable<UsageGroup> rows = report.GroupBy.Count == 0 ? [new UsageGroup(new Dictionary<string, string?>(), report.Totals)] : report.Groups;
        foreach (var row in rows)
        {
            var t = row.Totals;
            object?[] values = [.. report.GroupBy.Select(k => row.Group[k]), t.Calls, t.Succeeded, t.Failed, t.InputTokens, t.OutputTokens, t.Cost, t.VendorCost, t.CostDifference, t.DurationMs, t.CachedInputTokens, t.ReasoningTokens];
            csv.AppendJoin(',', values.Select(v => Quote(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""))).Append("\r\n");
        }
        return csv.ToString();
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
