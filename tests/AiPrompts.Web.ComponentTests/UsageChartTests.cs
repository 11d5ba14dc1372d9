using System.Globalization;
using AiPrompts.Web.Usage;

namespace AiPrompts.Web.ComponentTests;

/// <summary>The usage chart's bars.</summary>
public sealed class UsageChartTests : ConsoleComponents
{
    private static UsageTotals Totals(long calls, long tokens, decimal cost) => new(calls, calls, 0, tokens, 0, cost, null, null);

    private static readonly UsageReport ByDay = new(
        new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero), ["day"], Totals(5, 500, 0.5m),
        [new(new Dictionary<string, string?> { ["day"] = "2026-12-02" }, Totals(2, 200, 0.2m)), new(new Dictionary<string, string?> { ["day"] = "2026-12-04" }, Totals(3, 300, 0.3m))]);

    [Fact]
    public void By_day_every_day_of_the_window_is_a_bar_and_an_idle_day_is_zero()
    {
        var bars = UsageBars.Of(ByDay, "day", UsageMeasure.Calls, CultureInfo.GetCultureInfo("en-US"), k => k ?? "");
        Assert.Equal(["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"], bars.Select(b => b.Key));
        Assert.Equal([0m, 2m, 0m, 3m], bars.Select(b => b.Value));
        Assert.Equal("Dec 2", bars[1].Label);
        Assert.Equal([0m, 200m, 0m, 300m], UsageBars.Of(ByDay, "day", UsageMeasure.Tokens, CultureInfo.InvariantCulture, k => k ?? "").Select(b => b.Value));
    }

    [Fact]
    public void By_anything_else_the_groups_are_the_bars_largest_first_with_their_names()
    {
        var report = ByDay with
        {
            GroupBy = ["model"],
            Groups = [new(new Dictionary<string, string?> { ["model"] = "small" }, Totals(1, 10, 0.01m)), new(new Dictionary<string, string?> { ["model"] = "large" }, Totals(4, 40, 0.4m))],
        };
        var bars = UsageBars.Of(report, "model", UsageMeasure.Cost, CultureInfo.InvariantCulture, k => k!.ToUpperInvariant());
        Assert.Equal([("large", "LARGE", 0.4m), ("small", "SMALL", 0.01m)], bars.Select(b => (b.Key, b.Label, b.Value)));
    }

    [Fact]
    public void The_chart_draws_bars_in_proportion_and_says_so_when_nothing_was_used()
    {
        var chart = Render<UsageChart>(p => p
            .Add(c => c.Bars, [new Bar("a", "A", 1), new Bar("b", "B", 4)])
            .Add(c => c.Title, "Calls by day")
            .Add(c => c.Empty, "Nothing used.")
            .Add(c => c.Format, v => v.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(["block-size: 25%", "block-size: 100%"], chart.FindAll(".bar-fill").Select(b => b.GetAttribute("style")));

        chart.Render(p => p.Add(c => c.Bars, [new Bar("a", "A", 0)]));
        Assert.Equal("Nothing used.", chart.Find(".empty").TextContent);
        Assert.Empty(chart.FindAll(".bar"));
    }
}
