using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace AiPrompts.Core.Jobs;

/// <summary>
/// One worker process's side of the job engine. It claims jobs in batches (FOR UPDATE SKIP LOCKED), runs
/// up to <see cref="JobOptions.Concurrency"/> at once, extends their leases with one heartbeat query,
/// rescues jobs whose worker died (in the same claim query), retries transient failures with backoff,
/// and stops attempts that are cancelled, whose lease was lost, or that outlive the shutdown grace.
/// An idle runner is woken through Redis when a job is enqueued and otherwise polls once per
/// <see cref="JobOptions.IdlePollInterval"/> (one query), or once per <see cref="JobOptions.PollInterval"/> while its
/// Redis subscription is down.
/// </summary>
public sealed partial class JobRunner
{
    private readonly JobStore _store;
    private readonly JobEvents _events;
    private readonly ISubscriber _redis;
    private readonly JobOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobRunner> _logger;
    private readonly Dictionary<string, IJobHandler> _handlers;
    private readonly ConcurrentDictionary<Guid, RunningJob> _running = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _nextDueTicks = long.MaxValue;
    private volatile bool _saturated;

    public JobRunner(JobStore store, JobEvents events, IEnumerable<IJobHandler> handlers, ISubscriber redis, IOptions<JobOptions> options, TimeProvider time, ILogger<JobRunner> logger)
    {
        _store = store;
        _events = events;
        _redis = redis;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
        Owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>This runner's lease owner name: host, process id and a random suffix.</summary>
    public string Owner { get; }

    public int RunningCount => _running.Count;

    /// <summary>Runs until <paramref name="stoppingToken"/> fires, then drains: in-flight jobs get the grace period, then are released.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _ = SubscribeAsync();
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatLoopAsync(heartbeatStop.Token);
        LogStarted(_logger, Owner, _options.Concurrency);
        try
        {
            await DispatchLoopAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await DrainAsync();
        await heartbeatStop.CancelAsync();
        await heartbeat;
        await UnsubscribeAsync();
        LogStopped(_logger, Owner);
    }

    /// <summary>Wakes the dispatcher now (a job was enqueued, or a slot freed up).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Spans of job runs.</summary>
    public static readonly ActivitySource Source = new("AiPrompts.Jobs");

    private static readonly RedisChannel WakeChannel = RedisChannel.Literal(JobChannels.Wake);
    private static readonly RedisChannel CancelChannel = RedisChannel.Literal(JobChannels.Cancel);

    /// <summary>
    /// Subscribes once: StackExchange.Redis keeps both subscriptions and renews them after every reconnect,
    /// also when Redis is down now (the runner polls meanwhile).
    /// </summary>
    private async Task SubscribeAsync()
    {
        await SubscribeQuietlyAsync(WakeChannel, OnWake);
        await SubscribeQuietlyAsync(CancelChannel, OnCancel);
    }

    private async Task SubscribeQuietlyAsync(RedisChannel channel, Action<RedisChannel, RedisValue> handler)
    {
        try
        {
            await _redis.SubscribeAsync(channel, handler);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
        }
    }

    private async Task UnsubscribeAsync()
    {
        try
        {
            await _redis.UnsubscribeAsync(WakeChannel, OnWake);
            await _redis.UnsubscribeAsync(CancelChannel, OnCancel);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
        }
    }

    private void OnWake(RedisChannel channel, RedisValue message) => Wake();

    private void OnCancel(RedisChannel channel, RedisValue message)
    {
        if (Guid.TryParse((string?)message, out var id) && _running.TryGetValue(id, out var running))
        {
            running.Stop(StopReason.Cancelled);
        }
    }

    private async Task DispatchLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var free = _options.Concurrency - _running.Count;
            if (free <= 0)
            {
                _saturated = true;
                await WaitForWorkAsync(_options.PollInterval, stoppingToken);
                continue;
            }
            _saturated = false;
            var requested = Math.Min(free, _options.ClaimBatchSize);
            IReadOnlyList<ClaimedJob> claimed;
            try
            {
                claimed = await _store.ClaimAsync(Owner, requested, _time.GetUtcNow(), _options.LeaseDuration, stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                LogClaimFailed(_logger, ex.Message);
                await WaitForWorkAsync(_options.PollInterval, stoppingToken);
                continue;
            }
            foreach (var job in claimed)
            {
                Start(job);
            }
            if (claimed.Count < requested)
            {
                await WaitForWorkAsync(UntilNextDue(), stoppingToken);
            }
        }
    }

    private TimeSpan UntilNextDue()
    {
        var poll = IdlePoll();
        var due = Interlocked.Read(ref _nextDueTicks);
        if (due == long.MaxValue)
        {
            return poll;
        }
        var wait = new DateTimeOffset(due, TimeSpan.Zero) - _time.GetUtcNow();
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < poll ? wait : poll;
    }

    /// <summary>The idle poll: the long one while Redis's wake-ups can reach this runner, the short one while they cannot.</summary>
    private TimeSpan IdlePoll()
    {
        try
        {
            return _redis.IsConnected(WakeChannel) ? Max(_options.IdlePollInterval, _options.PollInterval) : _options.PollInterval;
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is ObjectDisposedException)
        {
            return _options.PollInterval;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        if (timeout > TimeSpan.Zero)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timer.CancelAfter(timeout);
            try
            {
                await _wake.Reader.WaitToReadAsync(timer.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
        _wake.Reader.TryRead(out _);
        if (Interlocked.Read(ref _nextDueTicks) <= _time.GetUtcNow().UtcTicks)
        {
            Interlocked.Exchange(ref _nextDueTicks, long.MaxValue);
        }
    }

    private void Start(ClaimedJob job)
    {
        var running = new RunningJob(new JobContext(job, Owner));
        _running[job.Id] = running;
        if (job.PreviousOwner is { } previous)
        {
            LogRescued(_logger, job.Id, job.Attempt, previous);
        }
        running.Task = Task.Run(async () =>
        {
            // The job's span continues the trace of the request that enqueued it (Api → Postgres → Worker → vendor).
            ActivityContext.TryParse(job.TraceParent, null, out var parent);
            using var activity = Source.StartActivity($"job {job.Kind}", ActivityKind.Consumer, parent);
            activity?.SetTag("aiprompts.job.id", job.Id);
            activity?.SetTag("aiprompts.job.attempt", job.Attempt);
            try
            {
                await RunJobAsync(running);
            }
            finally
            {
                _running.TryRemove(job.Id, out _);
                running.Dispose();
                if (_saturated)
                {
                    Wake();
                }
            }
        }, CancellationToken.None);
    }

    private async Task RunJobAsync(RunningJob running)
    {
        var context = running.Context;
        var job = context.Job;
        if (!_handlers.TryGetValue(job.Kind, out var handler))
        {
            LogUnknownKind(_logger, job.Id, job.Kind);
            await TryApplyAsync(context, JobTransition.Final(JobStatus.Failed, _time.GetUtcNow(), JobError.Of(ErrorCode.InternalError, $"No handler for job kind '{job.Kind}'.")), []);
            return;
        }

        JobOutcome outcome;
        if (job.Attempt > job.MaxAttempts)
        {
            // Claimed again after its worker died on the last attempt: it ends with what it last reported.
            outcome = JobOutcome.Fail(JobError.Of(ErrorCode.AttemptsExhausted,
                $"The job was interrupted on its last attempt; last error: {job.LastErrorCode ?? "none"}."));
        }
        else
        {
            await NotifyAsync(handler, context, JobStatus.Running);
            var started = _time.GetTimestamp();
            try
            {
                outcome = await handler.RunAsync(context, running.Token);
            }
            catch (OperationCanceledException) when (context.StopReason != StopReason.None)
            {
                outcome = JobOutcome.Stopped();
            }
#pragma warning disable CA1031 // Whatever a handler throws, the job must end in a recorded state, never stuck running.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                outcome = Unexpected(job, ex);
            }
            var elapsed = _time.GetElapsedTime(started);
            LogAttemptEnded(_logger, job.Id, job.Attempt, outcome.Kind, outcome.Error?.Code, elapsed.TotalMilliseconds);
        }

        running.Finishing();
        if (context.StopReason == StopReason.LeaseLost)
        {
            LogLeaseLost(_logger, job.Id, job.Attempt);
            return;
        }

        var now = _time.GetUtcNow();
        var transition = outcome.Kind switch
        {
            JobOutcomeKind.Succeeded => JobTransition.Final(JobStatus.Succeeded, now, null),
            JobOutcomeKind.Failed => JobTransition.Final(JobStatus.Failed, now, outcome.Error),
            JobOutcomeKind.Retry when context.IsLastAttempt => JobTransition.Final(JobStatus.Failed, now, outcome.Error),
            JobOutcomeKind.Retry => Retry(context, outcome, now),
            JobOutcomeKind.Stopped when context.StopReason == StopReason.Cancelled =>
                JobTransition.Final(JobStatus.Cancelled, now, JobError.Of(ErrorCode.Cancelled, "Cancelled while running.")),
            // Shutting down (or a handler that stopped by itself): back to the queue, and the attempt does not count.
            _ => JobTransition.Requeue(now, now, null, giveBackAttempt: true),
        };
        var writes = JobStatus.IsFinal(transition.Status) ? [.. outcome.Writes, .. handler.FinalWrites(context)] : outcome.Writes;
        if (await TryApplyAsync(context, transition, writes))
        {
            if (transition.Status == JobStatus.Queued && context.StopReason == StopReason.ShuttingDown)
            {
                LogReleased(_logger, job.Id);
            }
            await NotifyAsync(handler, context, transition.Status);
        }
    }

    private JobTransition Retry(JobContext context, JobOutcome outcome, DateTimeOffset now)
    {
        var delay = Backoff.Delay(context.Attempt, _options.RetryBaseDelay, _options.RetryMaxDelay, outcome.RetryAfter, Random.Shared.NextDouble());
        var due = now + delay;
        // Wake this runner when the retry is due, rather than at the next poll.
        long current;
        while (due.UtcTicks < (current = Interlocked.Read(ref _nextDueTicks)) && Interlocked.CompareExchange(ref _nextDueTicks, due.UtcTicks, current) != current)
        {
        }
        Wake(); // the dispatcher recomputes how long to wait
        LogRetryScheduled(_logger, context.Job.Id, context.Attempt, outcome.Error?.Code, delay.TotalMilliseconds);
        return JobTransition.Requeue(now, due, outcome.Error, giveBackAttempt: false);
    }

    private JobOutcome Unexpected(ClaimedJob job, Exception ex)
    {
        // A database that cannot be reached is a reason to try again, also when EF Core wraps the driver's exception.
        var transient = ex is TimeoutException or HttpRequestException || Data.DatabaseOutage.Find(ex) is not null || ex.IsRedisFailure();
        LogUnexpected(_logger, ex, job.Id, job.Attempt, transient);
        var message = SecretMasker.Apply($"{ex.GetType().Name}: {ex.Message}");
        return transient
            ? JobOutcome.Retry(JobError.Of(ErrorCode.ServiceUnavailable, message), null)
            : JobOutcome.Fail(JobError.Of(ErrorCode.InternalError, message));
    }

    /// <summary>
    /// Applies a state change. A database that cannot be reached (a restart, a dropped connection) is retried with
    /// backoff for up to one lease: the heartbeat keeps the lease while the outcome waits, so when Postgres returns the
    /// outcome is written once and the job is not run again. A lost lease is logged, not retried.
    /// </summary>
    private async Task<bool> TryApplyAsync(JobContext context, JobTransition transition, IReadOnlyList<NpgsqlBatchCommand> writes)
    {
        var started = _time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _store.ApplyAsync(context.Job, context.Owner, transition, attempt == 1 ? writes : [.. writes.Select(Clone)], timeout.Token);
                return true;
            }
            catch (JobLeaseLostException)
            {
                LogLeaseLost(_logger, context.Job.Id, context.Job.Attempt);
                return false;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && _time.GetElapsedTime(started) < _options.LeaseDuration)
            {
                LogApplyRetry(_logger, context.Job.Id, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt * attempt)), _time);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
            {
                // The lease runs out and another worker (or this one) rescues the job.
                LogApplyFailed(_logger, ex, context.Job.Id);
                return false;
            }
        }
    }

    private static NpgsqlBatchCommand Clone(NpgsqlBatchCommand command)
    {
        var copy = new NpgsqlBatchCommand(command.CommandText);
        foreach (NpgsqlParameter parameter in command.Parameters)
        {
            copy.Parameters.Add(parameter.Clone());
        }
        return copy;
    }

    /// <summary>
    /// A committed status change, on the job's channel (whoever waits for the job or streams it hears it now rather than
    /// at their next look at the database), then to the handler for anything else. Best effort.
    /// </summary>
    private async Task NotifyAsync(IJobHandler handler, JobContext context, string status)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _events.PublishStatusAsync(context.Job.Id, status, context.Attempt, timeout.Token);
            await handler.OnStatusChangedAsync(context, status, timeout.Token);
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is OperationCanceledException or TimeoutException || Data.DatabaseOutage.Find(ex) is not null)
        {
            // Notifications are best effort: clients fall back to reading the database.
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                // Jobs whose outcome is being written keep their lease too: a write that waits for the database to
                // come back must not find its job rescued and run again meanwhile.
                var running = _running.Values.ToList();
                if (running.Count == 0)
                {
                    continue;
                }
                try
                {
                    var held = await _store.HeartbeatAsync(Owner, [.. running.Select(r => r.Context.Job.Id)], _time.GetUtcNow(), _options.LeaseDuration, stop);
                    var byId = held.ToDictionary(h => h.Id);
                    foreach (var job in running)
                    {
                        if (!byId.TryGetValue(job.Context.Job.Id, out var state) || state.Attempt != job.Context.Attempt)
                        {
                            job.Stop(StopReason.LeaseLost);
                        }
                        else if (state.CancelRequested)
                        {
                            job.Stop(StopReason.Cancelled);
                        }
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    LogHeartbeatFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task DrainAsync()
    {
        var pending = _running.Values.Select(r => r.Task).Where(t => t is not null).Cast<Task>().ToArray();
        if (pending.Length == 0)
        {
            return;
        }
        LogDraining(_logger, pending.Length, _options.ShutdownGrace.TotalSeconds);
        var all = Task.WhenAll(pending);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace, _time)) != all)
        {
            foreach (var running in _running.Values)
            {
                running.Stop(StopReason.ShuttingDown);
            }
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10), _time));
        }
    }

    private sealed class RunningJob(JobContext context) : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private int _finishing;

        public JobContext Context { get; } = context;

        public Task? Task { get; set; }

        public CancellationToken Token => _cts.Token;

        public bool IsFinishing => Volatile.Read(ref _finishing) == 1;

        public void Finishing() => Volatile.Write(ref _finishing, 1);

        public void Stop(StopReason reason)
        {
            if (IsFinishing || !Context.TrySetStopReason(reason))
            {
                return;
            }
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _cts.Dispose();
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Job runner {Owner} started: {Concurrency} jobs at once")]
    private static partial void LogStarted(ILogger logger, string owner, int concurrency);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Job runner {Owner} stopped")]
    private static partial void LogStopped(ILogger logger, string owner);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Claiming jobs failed: {Reason}")]
    private static partial void LogClaimFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Job {JobId} rescued on attempt {Attempt}: its lease held by {PreviousOwner} expired")]
    private static partial void LogRescued(ILogger logger, Guid jobId, int attempt, string previousOwner);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Job {JobId} has kind {Kind}, which no handler runs")]
    private static partial void LogUnknownKind(ILogger logger, Guid jobId, string kind);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Debug, Message = "Job {JobId} attempt {Attempt}: {Outcome} {Code} in {Milliseconds:0.0} ms")]
    private static partial void LogAttemptEnded(ILogger logger, Guid jobId, int attempt, JobOutcomeKind outcome, string? code, double milliseconds);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: the lease was lost to another worker; this attempt's result is discarded")]
    private static partial void LogLeaseLost(ILogger logger, Guid jobId, int attempt);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} failed with {Code}; retrying in {Milliseconds:0} ms")]
    private static partial void LogRetryScheduled(ILogger logger, Guid jobId, int attempt, string? code, double milliseconds);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt} threw (transient: {Transient})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, Guid jobId, int attempt, bool transient);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Writing the outcome of job {JobId} failed, retrying: {Reason}")]
    private static partial void LogApplyRetry(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Error, Message = "Writing the outcome of job {JobId} failed; the job will be rescued when its lease expires")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, Guid jobId);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Heartbeat failed: {Reason}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information, Message = "Shutting down: waiting up to {Seconds} s for {Count} running jobs")]
    private static partial void LogDraining(ILogger logger, int count, double seconds);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Information, Message = "Job {JobId} released to the queue at shutdown")]
    private static partial void LogReleased(ILogger logger, Guid jobId);
}

/// <summary>The Redis channels of the job engine. Messages are hints: the database is always the truth.</summary>
public static class JobChannels
{
    public const string Wake = "jobs:wake";
    public const string Cancel = "jobs:cancel";
}
