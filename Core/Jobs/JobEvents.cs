using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Core.Caching;
using StackExchange.Redis;

namespace AiPrompts.Core.Jobs;

/// <summary>An event on a job's channel: a status change (the engine's words), or a piece of text one attempt streamed, at an offset.</summary>
public sealed record JobEvent(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status,
    int Attempt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Offset,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text)
{
    public const string StatusType = "status";
    public const string DeltaType = "delta";
    public const string ChangedType = "changed";

    public bool IsFinal => Type == StatusType && Status is { } status && JobStatus.IsFinal(status);

    public static JobEvent? Parse(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<JobEvent>(payload, JobEvents.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The job engine's Redis side for the Api's waiting and streaming, whatever surface asked for the job: each job's
/// channel (<c>jobs:{id}</c>) carries its status changes, published by the engine after each committed change, and the
/// text its attempts stream (kept so far under <c>jobs:{id}:partial:{attempt}</c>, so a late follower catches up). A
/// topic channel (<c>jobs:topic:{id}</c>) tells the followers of something several jobs work on (a conversation) that
/// it changed. All of it is a hint: the database stays the truth, and every follower polls it too.
/// </summary>
public sealed class JobEvents(ISubscriber subscriber, IDatabase redis)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly TimeSpan PartialTtl = TimeSpan.FromMinutes(15);

    // KEYS[1] the attempt's partial text, KEYS[2] the channel; ARGV: offset, text, ttl (ms), event.
    private const string AppendAndPublish = """
        if tonumber(ARGV[1]) == 0 then
            redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        else
            redis.call('APPEND', KEYS[1], ARGV[2])
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        return redis.call('PUBLISH', KEYS[2], ARGV[4])
        """;

    public static string Channel(Guid jobId) => $"jobs:{jobId}";

    public static string TopicChannel(Guid topicId) => $"jobs:topic:{topicId}";

    public static string PartialKey(Guid jobId, int attempt) => $"jobs:{jobId}:partial:{attempt}";

    /// <summary>
    /// Subscribes to one job's events (or, with <paramref name="topic"/>, a topic's), delivered one at a time in the
    /// order they were published (a delta's offset follows the one before it). Dispose the result to unsubscribe.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(Guid id, Func<JobEvent, ValueTask> handler, CancellationToken cancellationToken, bool topic = false)
    {
        var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(topic ? TopicChannel(id) : Channel(id))).WaitAsync(cancellationToken);
        queue.OnMessage(async message =>
        {
            if (JobEvent.Parse((string)message.Message!) is { } e)
            {
                await handler(e);
            }
        });
        return new Subscription(queue);
    }

    /// <summary>A job's new status, in the engine's words (<see cref="JobStatus"/>).</summary>
    public Task PublishStatusAsync(Guid jobId, string status, int attempt, CancellationToken cancellationToken) =>
        subscriber.PublishAsync(RedisChannel.Literal(Channel(jobId)), Serialize(new JobEvent(JobEvent.StatusType, status, attempt, null, null)))
            .WaitAsync(cancellationToken);

    /// <summary>Tells a topic's followers that something under it changed: they read it again.</summary>
    public Task PublishChangedAsync(Guid topicId, CancellationToken cancellationToken) =>
        subscriber.PublishAsync(RedisChannel.Literal(TopicChannel(topicId)), Serialize(new JobEvent(JobEvent.ChangedType, null, 0, null, null)))
            .WaitAsync(cancellationToken);

    /// <summary>Appends to the attempt's partial text and publishes the delta, in one script (so both or neither happen).</summary>
    public Task AppendTextAsync(Guid jobId, int attempt, int offset, string text, CancellationToken cancellationToken) =>
        redis.ScriptEvaluateAsync(AppendAndPublish, [PartialKey(jobId, attempt), Channel(jobId)],
            [offset, text, (long)PartialTtl.TotalMilliseconds, Serialize(new JobEvent(JobEvent.DeltaType, null, attempt, offset, text))])
            .WaitAsync(cancellationToken);

    public async Task<string?> ReadPartialAsync(Guid jobId, int attempt, CancellationToken cancellationToken) =>
        await redis.StringGetAsync(PartialKey(jobId, attempt)).WaitAsync(cancellationToken);

    private static string Serialize(JobEvent e) => JsonSerializer.Serialize(e, Json);

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await queue.UnsubscribeAsync();
            }
            catch (Exception ex) when (ex.IsRedisFailure())
            {
                // The server forgets a dead connection's subscriptions by itself.
            }
        }
    }
}
