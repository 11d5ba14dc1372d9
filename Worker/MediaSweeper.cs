using AiPrompts.Core.Media;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Deletes the images whose retention ended (those the request chose not to store), every
/// <c>Media:SweepInterval</c>: one indexed statement, the bytes cascading with the record. Reads refuse an
/// expired file before it is swept, so the sweep only frees the space.
/// </summary>
internal sealed partial class MediaSweeper(IServiceScopeFactory scopes, SchemaGate schema, IOptions<MediaOptions> options, TimeProvider time, ILogger<MediaSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await schema.Ready.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var deleted = await scope.ServiceProvider.GetRequiredService<IMediaStore>().DeleteExpiredAsync(time.GetUtcNow(), stoppingToken);
                if (deleted > 0)
                {
                    LogSwept(logger, deleted);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Deleted {Count} expired media files")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Warning, Message = "The media sweep failed; it runs again at the next interval: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
