using AiPrompts.Core.Gateway;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Counts the gateway calls that began more than <c>Gateway:AbandonedAfter</c> ago and never ended (the Api that made them
/// died during the call): a usage row each at the call's estimate, and their budget holds given back. One statement every
/// <c>Gateway:SweepInterval</c>.
/// </summary>
internal sealed partial class GatewaySweeper(GatewayCalls calls, SchemaGate schema, IOptions<GatewayOptions> options, TimeProvider time, ILogger<GatewaySweeper> logger)
    : PeriodicSweep(schema, time, logger)
{
    protected override string Name => "gateway call sweep";

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task SweepAsync(CancellationToken stoppingToken)
    {
        var now = Time.GetUtcNow();
        var lost = await calls.ExpireAsync(now - options.Value.AbandonedAfter, now, stoppingToken);
        if (lost > 0)
        {
            LogLost(Logger, lost);
        }
    }

    [LoggerMessage(EventId = 3431, Level = LogLevel.Warning, Message = "Counted {Count} gateway calls whose Api stopped during the call, at their estimate")]
    private static partial void LogLost(ILogger logger, int count);
}
