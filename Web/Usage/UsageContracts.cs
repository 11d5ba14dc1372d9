using System.Globalization;

namespace AiPrompts.Web.Usage;

/// <summary>The Api's usage report (<c>GET /api/v1/usage</c>): totals, and per group when grouped.</summary>
public sealed record UsageReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<string> GroupBy, UsageTotals Totals, IReadOnlyList<UsageGroup> Groups);

public sealed record UsageGroup(IReadOnlyDictionary<string, string?> Group, UsageTotals Totals);

/// <summary>Vendor calls, tokens, the cost computed from the catalogue's prices and the cost the vendor reported.</summary>
public sealed record UsageTotals(long Calls, long Succeeded, long Failed, long InputTokens, long OutputTokens, decimal Cost, decimal? VendorCost, decimal? CostDifference);

/// <summary>A budget that applies to me, with each limit's state (<c>GET /api/v1/budgets/me</c>).</summary>
public sealed record BudgetState(string AppliesTo, BudgetInfo Budget, IReadOnlyList<BudgetLimit> Limits);

public sealed record BudgetInfo(Guid Id, string Scope, Guid? UserId, Guid? ApiKeyId, string? Role, decimal? CostPerDay, decimal? CostPerMonth, long? TokensPerDay, int SoftPercent);

public sealed record BudgetLimit(string Limit, decimal Ceiling, decimal Used, decimal Reserved, decimal Remaining, bool SoftReached, bool Reached, DateTimeOffset ResetsAt)
{
    /// <summary>Used and reserved, as a share of the ceiling (0 to 1).</summary>
    public double Share => Ceiling <= 0 ? 1 : (double)Math.Min(1, (Used + Reserved) / Ceiling);
}

/// <summary>One bar of a chart: its label and value.</summary>
public sealed record Bar(string Key, string Label, decimal Value);

/// <summary>What the chart measures.</summary>
public enum UsageMeasure
{
    Calls,
    Tokens,
    Cost,
}

/// <summary>The bars of a usage chart: by day every day of the window (an idle day is a zero bar, not a gap), by anything else the groups, largest first.</summary>
public static class UsageBars
{
    public static IReadOnlyList<Bar> Of(UsageReport report, string groupBy, UsageMeasure measure, CultureInfo culture, Func<string?, string> name)
    {
        var values = report.Groups.ToDictionary(g => g.Group.GetValueOrDefault(groupBy) ?? "", g => Value(g.Totals, measure), StringComparer.Ordinal);
        if (groupBy != "day")
        {
            return [.. values.OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal).Select(v => new Bar(v.Key, name(v.Key), v.Value))];
        }
        var bars = new List<Bar>();
        for (var day = DateOnly.FromDateTime(report.From.UtcDateTime); day < DateOnly.FromDateTime(report.To.UtcDateTime); day = day.AddDays(1))
        {
            var key = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            bars.Add(new Bar(key, day.ToString(ShortMonthDay(culture), culture), values.GetValueOrDefault(key)));
        }
        return bars;
    }

    /// <summary>The culture's month-and-day pattern with the month abbreviated ("Dec 5", "5 دسامبر"…), so a day's label is short.</summary>
    public static string ShortMonthDay(CultureInfo culture) => culture.DateTimeFormat.MonthDayPattern.Replace("MMMM", "MMM", StringComparison.Ordinal);

    public static decimal Value(UsageTotals totals, UsageMeasure measure) => measure switch
    {
        UsageMeasure.Calls => totals.Calls,
        UsageMeasure.Tokens => totals.InputTokens + totals.OutputTokens,
        _ => totals.Cost,
    };
}

/// <summary>The rate limits every call counts against, per user and per API key (<c>GET /api/v1/usage/limits</c>).</summary>
public sealed record RequestLimits(int WindowSeconds, int RequestsPerUser, long TokensPerUser, int RequestsPerApiKey, long TokensPerApiKey);
