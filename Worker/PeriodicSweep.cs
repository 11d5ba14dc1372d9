namespace AiPrompts.Worker;

/// <summary>
/// Housekeeping the Worker does on a timer once the database schema is current: a pass at start, then one every
/// <see cref="Interval"/>. A pass that fails is logged and runs again at the next tick; stopping the host ends it.
/// </summary>
internal abstract partial class PeriodicSweep(SchemaGate schema, TimeProvider time, ILogger logger) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    protected ILogger Logger { get; } = logger;

    /// <summary>What the sweep is called in its log lines.</summary>
    protected abstract string Name { get; }

    protected abstract TimeSpan Interval { get; }

    protected abstract Task SweepAsync(CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await schema.Ready.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(Interval, Time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(Logger, Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 3400, Level = LogLevel.Warning, Message = "The {Sweep} failed; it runs again at the next interval: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string sweep, string reason);
}
