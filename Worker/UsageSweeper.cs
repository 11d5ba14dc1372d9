using AiPrompts.Core.Usage;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Every <c>Usage:SweepInterval</c>: makes the raw usage rows' monthly partitions ahead of the clock, then applies the
/// usage retention (<c>Usage:RawRetention</c>, <c>Usage:RollupRetention</c>).
/// </summary>
internal sealed partial class UsageSweeper(UsageRetention retention, SchemaGate schema, IOptions<UsageRetentionOptions> options, TimeProvider time, ILogger<UsageSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await schema.Ready.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await retention.EnsurePartitionsAsync(time.GetUtcNow(), stoppingToken);
                var (rows, rollups) = await retention.SweepAsync(time.GetUtcNow(), stoppingToken);
                if (rows + rollups > 0)
                {
                    LogSwept(logger, rows, rollups);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "Usage retention: deleted {Rows} raw usage rows and {Rollups} rollup rows")]
    private static partial void LogSwept(ILogger logger, long rows, long rollups);

    [LoggerMessage(EventId = 3412, Level = LogLevel.Warning, Message = "The usage sweep failed; it runs again at the next interval: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
