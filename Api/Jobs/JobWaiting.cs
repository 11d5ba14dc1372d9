using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Jobs;

/// <summary>
/// A job's channel (or a topic's), subscribed without waiting long for Redis: when Redis does not confirm within a
/// moment the caller goes on from the database (polling), and the subscription is used from whenever it does confirm
/// (its handler is live from then on), or cleaned up at the end if it never does.
/// </summary>
internal sealed class QuickSubscription(Task<IAsyncDisposable> subscribing) : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(250);

    /// <summary>Whether Redis delivers the channel's events now.</summary>
    public bool IsLive => subscribing.IsCompletedSuccessfully;

    public static async Task<QuickSubscription> StartAsync(JobEvents events, Guid id, Func<JobEvent, ValueTask> handler, bool topic = false)
    {
        var subscribing = events.SubscribeAsync(id, handler, CancellationToken.None, topic);
        await Task.WhenAny(subscribing, Task.Delay(Patience));
        return new QuickSubscription(subscribing);
    }

    public async ValueTask DisposeAsync()
    {
        if (subscribing.IsCompletedSuccessfully)
        {
            await subscribing.Result.DisposeAsync();
        }
        else if (!subscribing.IsCompleted)
        {
            _ = subscribing.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default);
        }
    }
}

/// <summary>
/// The one way the Api waits for a job to end, whatever surface asked for it: told through Redis by the engine's status
/// event on the job's channel, checked in the database (the only source while Redis is away). Start it before the job
/// is saved, so that a fast end is not missed.
/// </summary>
internal sealed class JobWaiter : IAsyncDisposable
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Guid _jobId;
    private QuickSubscription? _subscription;

    private JobWaiter(Guid jobId) => _jobId = jobId;

    public static async Task<JobWaiter> StartAsync(JobEvents events, Guid jobId)
    {
        var waiter = new JobWaiter(jobId);
        waiter._subscription = await QuickSubscription.StartAsync(events, jobId, e =>
        {
            if (e.IsFinal)
            {
                waiter._finished.TrySetResult();
            }
            return ValueTask.CompletedTask;
        });
        return waiter;
    }

    /// <summary>
    /// True when the job is final within <paramref name="wait"/>. <paramref name="lookFirst"/>: the job may have ended
    /// before the subscription began (it was saved first), so the database is read before waiting.
    /// </summary>
    public async Task<bool> WaitAsync(AppDbContext db, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken, bool lookFirst = false)
    {
        var started = time.GetTimestamp();
        if (lookFirst && await IsFinalAsync(db, cancellationToken))
        {
            return true;
        }
        // With Redis the database is a safety net; without it, the only source.
        while (true)
        {
            var poll = _subscription?.IsLive == true ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(250);
            var remaining = wait - time.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.WhenAny(_finished.Task, Task.Delay(remaining < poll ? remaining : poll, time, cancellationToken));
            }
            if (_finished.Task.IsCompleted || await IsFinalAsync(db, cancellationToken))
            {
                return true;
            }
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
        }
    }

    private async Task<bool> IsFinalAsync(AppDbContext db, CancellationToken cancellationToken) =>
        JobStatus.IsFinal(await db.Jobs.AsNoTracking().Where(j => j.Id == _jobId).Select(j => j.Status).FirstAsync(cancellationToken));

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }
}

/// <summary>RFC 7240 <c>Prefer: wait=N</c>: how long a create may wait for its job before it answers 202.</summary>
internal static class PreferWait
{
    /// <summary>The wait asked for, bounded by <paramref name="max"/>; <paramref name="whenAbsent"/> (zero) when none is asked for.</summary>
    public static TimeSpan Of(HttpRequest request, TimeSpan max, TimeSpan whenAbsent = default)
    {
        foreach (var header in request.Headers["Prefer"])
        {
            foreach (var part in (header ?? "").Split([',', ';'], StringSplitOptions.TrimEntries))
            {
                if (part.StartsWith("wait=", StringComparison.OrdinalIgnoreCase) && int.TryParse(part.AsSpan(5), out var seconds) && seconds >= 0)
                {
                    var wait = TimeSpan.FromSeconds(seconds);
                    return wait < max ? wait : max;
                }
            }
        }
        return whenAbsent;
    }
}
