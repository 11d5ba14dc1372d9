using System.Diagnostics;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiPrompts.Core.Jobs;

/// <summary>
/// The enqueuing side of the job engine. A job row is added to the caller's unit of work, so it commits
/// with the domain row that needs it; after the commit, <see cref="WakeWorkersAsync"/> tells idle workers.
/// </summary>
public sealed partial class JobScheduler(ISubscriber redis, TimeProvider time, ILogger<JobScheduler> logger)
{
    /// <summary>A job row for the unit of work; with a <paramref name="charge"/>, its insert is admitted against the caller's budgets.</summary>
    public Job Create(string kind, Guid subjectId, int maxAttempts, Budgets.JobCharge? charge = null)
    {
        var now = time.GetUtcNow();
        return new Job
        {
            UserId = charge?.UserId,
            ApiKeyId = charge?.ApiKeyId,
            ReservedCost = charge?.Cost,
            ReservedTokens = charge?.Tokens,
            Id = Guid.CreateVersion7(now),
            Kind = kind,
            SubjectId = subjectId,
            Status = JobStatus.Queued,
            MaxAttempts = maxAttempts,
            RunAfter = now,
            CreatedAt = now,
            UpdatedAt = now,
            TraceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null,
        };
    }

    /// <summary>Best effort: without Redis, workers find the job at their next poll.</summary>
    public Task WakeWorkersAsync(CancellationToken cancellationToken) => PublishAsync(JobChannels.Wake, "1", cancellationToken);

    /// <summary>Tells the worker running the job to stop it now; the heartbeat would find out within a second anyway.</summary>
    public Task SignalCancelAsync(Guid jobId, CancellationToken cancellationToken) => PublishAsync(JobChannels.Cancel, jobId.ToString(), cancellationToken);

    private async Task PublishAsync(string channel, string message, CancellationToken cancellationToken)
    {
        try
        {
            await redis.PublishAsync(RedisChannel.Literal(channel), message).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            LogPublishFailed(logger, channel, ex.Message);
        }
    }

    [LoggerMessage(EventId = 4020, Level = LogLevel.Debug, Message = "Could not publish to {Channel}; workers will poll: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string channel, string reason);
}
