using System.Threading.Channels;
using AiPrompts.Core.Data;
using AiPrompts.Core.Usage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// Writes the ends of gateway calls off the request's path: a call's answer does not wait for its usage row. Ends are
/// written in batches (one transaction for all that arrived meanwhile), retried while the database cannot be reached, and
/// drained at shutdown. One that is never written (the process was killed) leaves its begin record, which the Worker's
/// sweep counts, so the call is still recorded.
/// </summary>
public sealed partial class GatewayUsageRecorder(GatewayCalls calls, TimeProvider time, ILogger<GatewayUsageRecorder> logger) : BackgroundService
{
    private const int MaxBatch = 512;

    private readonly Channel<(Guid CallId, UsageEvent? Usage)> _ended = Channel.CreateUnbounded<(Guid, UsageEvent?)>(new() { SingleReader = true });

    private long _pending;

    /// <summary>Ends not written yet.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Queues the end of a call: its usage row (none when it never reached the vendor), written with the removal of its begin record.</summary>
    public void Record(Guid callId, UsageEvent? usage)
    {
        Interlocked.Increment(ref _pending);
        if (!_ended.Writer.TryWrite((callId, usage)))
        {
            Interlocked.Decrement(ref _pending); // stopped: the begin record stays for the sweep
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(Guid, UsageEvent?)>(MaxBatch);
        try
        {
            while (await _ended.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteAvailableAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: what is queued is written while the host allows (its shutdown timeout).
        _ended.Writer.TryComplete();
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await WriteAvailableAsync(batch, drain.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException || DatabaseOutage.Find(ex) is not null)
        {
            LogNotDrained(logger, Pending);
        }
    }

    private async Task WriteAvailableAsync(List<(Guid, UsageEvent?)> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _ended.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            if (batch.Count == 0)
            {
                return;
            }
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await calls.EndAsync(batch, cancellationToken);
                    Interlocked.Add(ref _pending, -batch.Count);
                    break;
                }
                catch (Exception ex) when (DatabaseOutage.Find(ex) is not null && !cancellationToken.IsCancellationRequested)
                {
                    LogRetrying(logger, batch.Count, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt * attempt)), time, cancellationToken);
                }
            }
        }
    }

    [LoggerMessage(EventId = 4601, Level = LogLevel.Warning, Message = "The database cannot be reached; {Count} gateway call ends wait to be written (attempt {Attempt})")]
    private static partial void LogRetrying(ILogger logger, int count, int attempt);

    [LoggerMessage(EventId = 4602, Level = LogLevel.Warning, Message = "Stopped with {Count} gateway call ends unwritten; the Worker's sweep counts those calls at their estimate")]
    private static partial void LogNotDrained(ILogger logger, long count);
}
