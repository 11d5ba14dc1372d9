using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AiPrompts.Core.PromptRequests;

/// <summary>The prompt and answer of a request that is not stored, kept in Redis for <see cref="PromptRequestOptions.ResultTtl"/>.</summary>
public sealed record RetainedText(string? PromptText, string? ResponseText, DateTimeOffset ExpiresAt);

/// <summary>
/// Where the texts of a request that is not stored live once its job has ended: Redis, for a while, and nowhere else
/// (Postgres forgets them with the job's final state).
/// </summary>
public sealed class RetainedTexts(IDatabase redis, IOptions<PromptRequestOptions> options, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Key(Guid requestId) => $"prompt-requests:{requestId}:retained";

    public Task RetainAsync(Guid id, string? promptText, string? responseText, CancellationToken cancellationToken)
    {
        var ttl = options.Value.ResultTtl;
        var retained = new RetainedText(promptText, responseText, time.GetUtcNow() + ttl);
        return redis.StringSetAsync(Key(id), JsonSerializer.Serialize(retained, Json), ttl).WaitAsync(cancellationToken);
    }

    public async Task<RetainedText?> ReadAsync(Guid id, CancellationToken cancellationToken)
    {
        var value = await redis.StringGetAsync(Key(id)).WaitAsync(cancellationToken);
        return value.IsNull ? null : JsonSerializer.Deserialize<RetainedText>((byte[])value!, Json);
    }
}
