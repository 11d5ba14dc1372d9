using AiPrompts.Core.Usage;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Every <c>Usage:SweepInterval</c>: makes the raw usage rows' monthly partitions ahead of the clock, then applies the
/// usage retention (<c>Usage:RawRetention</c>, <c>Usage:RollupRetention</c>).
/// </summary>
internal sealed partial class UsageSweeper(UsageRetention retention, SchemaGate schema, IOptions<UsageRetentionOptions> options, TimeProvider time, ILogger<UsageSweeper> logger)
    : PeriodicSweep(schema, time, logger)
{
    protected override string Name => "usage sweep";

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task SweepAsync(CancellationToken stoppingToken)
    {
        var now = Time.GetUtcNow();
        await retention.EnsurePartitionsAsync(now, stoppingToken);
        var (rows, rollups) = await retention.SweepAsync(now, stoppingToken);
        if (rows + rollups > 0)
        {
            LogSwept(Logger, rows, rollups);
        }
    }

    [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "Usage retention: deleted {Rows} raw usage rows and {Rollups} rollup rows")]
    private static partial void LogSwept(ILogger logger, long rows, long rollups);
}
