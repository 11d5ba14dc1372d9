using System.Text.Json;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Jobs;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Core.Gateway;

/// <summary>
/// A background response's streamed events, as its Worker sent them, kept in Redis (a list per response,
/// <c>gateway:responses:{id}:events</c>, index = <c>sequence_number</c>) for <see cref="GatewayOptions.StreamKeptFor"/>
/// after the last one, so that any number of clients follow the stream and resume it (<c>starting_after</c>). Each
/// append says on the job's channel that the stream moved. Only the attempt that holds the job writes: an append names
/// the number it expects to be, and one that is not (another attempt wrote meanwhile) is refused. A hint like every job
/// event: the stored response is the truth, and its end event is made from it.
/// </summary>
public sealed class ResponseEventLog(IDatabase redis, IOptions<GatewayOptions> options)
{
    // KEYS[1] the list, KEYS[2] the job's channel; ARGV: expected index, event, ttl (ms), notice.
    private const string AppendScript = """
        if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
            return -1
        end
        local length = redis.call('RPUSH', KEYS[1], ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        redis.call('PUBLISH', KEYS[2], ARGV[4])
        return length
        """;

    public static string Key(string responseId) => $"gateway:responses:{responseId}:events";

    /// <summary>How many events are kept (the next one's sequence number).</summary>
    public async Task<long> CountAsync(string responseId, CancellationToken cancellationToken) =>
        await redis.ListLengthAsync(Key(responseId)).WaitAsync(cancellationToken);

    /// <summary>Appends the event numbered <paramref name="sequence"/>; false when that number is no longer this writer's to give.</summary>
    public async Task<bool> AppendAsync(string responseId, Guid jobId, int attempt, int sequence, string body, CancellationToken cancellationToken)
    {
        var notice = JsonSerializer.Serialize(new JobEvent(JobEvent.ChangedType, null, attempt, sequence, null), JobEvents.Json);
        var result = await redis.ScriptEvaluateAsync(AppendScript, [Key(responseId), JobEvents.Channel(jobId)],
            [sequence, body, (long)options.Value.StreamKeptFor.TotalMilliseconds, notice]).WaitAsync(cancellationToken);
        return (long)result >= 0;
    }

    /// <summary>The events from <paramref name="from"/> on, as they were sent (JSON).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(string responseId, long from, CancellationToken cancellationToken)
    {
        var values = await redis.ListRangeAsync(Key(responseId), from, -1).WaitAsync(cancellationToken);
        return [.. values.Select(v => (string)v!)];
    }

    /// <summary>Best effort: a response deleted takes its events with it (else they expire).</summary>
    public async Task ForgetAsync(string responseId)
    {
        try
        {
            await redis.KeyDeleteAsync(Key(responseId)).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
        {
        }
    }
}
