using AiPrompts.Core.Media;
using Microsoft.Extensions.Options;

namespace AiPrompts.Worker;

/// <summary>
/// Deletes the images whose retention ended (those the request chose not to store), every
/// <c>Media:SweepInterval</c>: one indexed statement, the bytes cascading with the record. Reads refuse an
/// expired file before it is swept, so the sweep only frees the space.
/// </summary>
internal sealed partial class MediaSweeper(IServiceScopeFactory scopes, SchemaGate schema, IOptions<MediaOptions> options, TimeProvider time, ILogger<MediaSweeper> logger)
    : PeriodicSweep(schema, time, logger)
{
    protected override string Name => "media sweep";

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task SweepAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var deleted = await scope.ServiceProvider.GetRequiredService<IMediaStore>().DeleteExpiredAsync(Time.GetUtcNow(), stoppingToken);
        if (deleted > 0)
        {
            LogSwept(Logger, deleted);
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Deleted {Count} expired media files")]
    private static partial void LogSwept(ILogger logger, int count);
}
