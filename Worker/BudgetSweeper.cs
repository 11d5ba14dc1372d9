using AiPrompts.Core.Budgets;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Gives back budget reservations that no job insert took over within <c>Budgets:ReservationTimeout</c> (the Api that made
/// them died between the admission and the insert), every <c>Budgets:SweepInterval</c>: one statement.
/// </summary>
internal sealed partial class BudgetSweeper(BudgetReservations reservations, SchemaGate schema, IOptions<BudgetOptions> options, TimeProvider time, ILogger<BudgetSweeper> logger)
    : PeriodicSweep(schema, time, logger)
{
    protected override string Name => "budget reservation sweep";

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task SweepAsync(CancellationToken stoppingToken)
    {
        var expired = await reservations.ExpireAsync(Time.GetUtcNow() - options.Value.ReservationTimeout, stoppingToken);
        if (expired > 0)
        {
            LogExpired(Logger, expired, options.Value.ReservationTimeout.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 3421, Level = LogLevel.Warning, Message = "Gave back {Count} budget reservations that no job took over within {Seconds} s (an Api stopped between admitting and saving a job)")]
    private static partial void LogExpired(ILogger logger, int count, double seconds);
}
