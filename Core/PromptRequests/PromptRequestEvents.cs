using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Core.PromptRequests;

/// <summary>An event on a request's channel: a status change, or a piece of streamed text of one attempt at an offset.</summary>
public sealed record PromptRequestEvent(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status,
    int Attempt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Offset,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text)
{
    public const string StatusType = "status";
    public const string DeltaType = "delta";

    public static PromptRequestEvent? Parse(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<PromptRequestEvent>(payload, PromptRequestEvents.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The prompt and answer of a request that is not stored, kept in Redis for <see cref="PromptRequestOptions.ResultTtl"/>.</summary>
public sealed record RetainedText(string? PromptText, string? ResponseText, DateTimeOffset ExpiresAt);

/// <summary>
/// A request's Redis side: its event channel, the text streamed so far by the current attempt, and the
/// retained text of requests that are not stored. All of it is a convenience: the database stays the truth.
/// </summary>
public sealed class PromptRequestEvents(ISubscriber subscriber, IDatabase redis, IOptions<PromptRequestOptions> options, TimeProvider time)
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

    public static string Channel(Guid id) => $"prompt-requests:{id}";

    public static string PartialKey(Guid id, int attempt) => $"prompt-requests:{id}:partial:{attempt}";

    public static string RetainedKey(Guid id) => $"prompt-requests:{id}:retained";

    /// <summary>
    /// Subscribes to one request's events, delivered one at a time in the order they were published
    /// (a delta's offset follows the one before it). Dispose the result to unsubscribe.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(Guid id, Func<PromptRequestEvent, ValueTask> handler, CancellationToken cancellationToken)
    {
        var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(Channel(id))).WaitAsync(cancellationToken);
        queue.OnMessage(async message =>
        {
            if (PromptRequestEvent.Parse((string)message.Message!) is { } e)
            {
                await handler(e);
            }
        });
        return new Subscription(queue);
    }

    public Task PublishStatusAsync(Guid id, string status, int attempt, CancellationToken cancellationToken) =>
        subscriber.PublishAsync(RedisChannel.Literal(Channel(id)), Serialize(new PromptRequestEvent(PromptRequestEvent.StatusType, status, attempt, null, null)))
            .WaitAsync(cancellationToken);

    /// <summary>Appends to the attempt's partial text and publishes the delta, in one script (so both or neither happen).</summary>
    public Task AppendTextAsync(Guid id, int attempt, int offset, string text, CancellationToken cancellationToken) =>
        redis.ScriptEvaluateAsync(AppendAndPublish, [PartialKey(id, attempt), Channel(id)],
            [offset, text, (long)PartialTtl.TotalMilliseconds, Serialize(new PromptRequestEvent(PromptRequestEvent.DeltaType, null, attempt, offset, text))])
            .WaitAsync(cancellationToken);

    public async Task<string?> ReadPartialAsync(Guid id, int attempt, CancellationToken cancellationToken) =>
        await redis.StringGetAsync(PartialKey(id, attempt)).WaitAsync(cancellationToken);

    public Task RetainAsync(Guid id, string? promptText, string? responseText, CancellationToken cancellationToken)
    {
        var ttl = options.Value.ResultTtl;
        var retained = new RetainedText(promptText, responseText, time.GetUtcNow() + ttl);
        return redis.StringSetAsync(RetainedKey(id), JsonSerializer.Serialize(retained, Json), ttl).WaitAsync(cancellationToken);
    }

    public async Task<RetainedText?> ReadRetainedAsync(Guid id, CancellationToken cancellationToken)
    {
        var value = await redis.StringGetAsync(RetainedKey(id)).WaitAsync(cancellationToken);
        return value.IsNull ? null : JsonSerializer.Deserialize<RetainedText>((byte[])value!, Json);
    }

    private static string Serialize(PromptRequestEvent e) => JsonSerializer.Serialize(e, Json);

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
