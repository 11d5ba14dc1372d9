using AiPrompts.Core.Budgets;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Gives back budget reservations that no job insert took over within <c>Budgets:ReservationTimeout</c> (the Api that made
/// them died between the admission and the insert), every <c>Budgets:SweepInterval</c>: one statement.
/// </summary>
internal sealed partial class BudgetSweeper(BudgetReservations reservations, SchemaGate schema, IOptions<BudgetOptions> options, TimeProvider time, ILogger<BudgetSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await schema.Ready.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                var expired = await reservations.ExpireAsync(time.GetUtcNow() - options.Value.ReservationTimeout, stoppingToken);
                if (expired > 0)
                {
                    LogExpired(logger, expired, options.Value.ReservationTimeout.TotalSeconds);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 3421, Level = LogLevel.Warning, Message = "Gave back {Count} budget reservations that no job took over within {Seconds} s (an Api stopped between admitting and saving a job)")]
    private static partial void LogExpired(ILogger logger, int count, double seconds);

    [LoggerMessage(EventId = 3422, Level = LogLevel.Warning, Message = "The budget reservation sweep failed; it runs again at the next interval: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
