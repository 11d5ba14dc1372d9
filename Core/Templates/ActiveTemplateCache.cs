using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Core.Caching;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace AiPrompts.Core.Templates;

/// <summary>
/// What using a type's active version needs: the type's rules and, when one is active, the version.
/// <see cref="Revision"/> orders copies: a higher one is always newer.
/// </summary>
public sealed record ActiveTemplate(
    string PromptType,
    long Revision,
    string Section,
    IReadOnlyList<string> RequiredPlaceholders,
    IReadOnlyList<string> AllowedVariables,
    string? OutputSchema,
    int? VersionNumber,
    string? Template,
    DateTimeOffset? ActivatedAt)
{
    /// <summary>The variables the active template uses, in order of first use (derived once per copy, not per read).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Variables { get; } =
        Template is null ? [] : [.. TemplateSyntax.Parse(Template).Placeholders.Select(p => p.Name).Distinct(StringComparer.Ordinal)];

    /// <summary><see cref="OutputSchema"/> parsed, once per copy.</summary>
    [JsonIgnore]
    public JsonElement? OutputSchemaJson { get; } = OutputSchema is null ? null : JsonDocument.Parse(OutputSchema).RootElement.Clone();
}

/// <summary>
/// The active version of each prompt type, read through two caches: one in this process (coherent across
/// instances through <see cref="CacheInvalidation"/>) and one in Redis, with Postgres as the truth.
/// Redis copies are written by a script that refuses a lower revision, so a reader that loaded the old
/// version just before an activation cannot put it back over the new one. <see cref="PublishChangeAsync"/>,
/// called after a change commits, writes the new copy to Redis and waits until every instance dropped its
/// own; so once an activation has answered, no instance serves the old version.
/// </summary>
public sealed class ActiveTemplateCache
{
    public const string Scope = "template";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // KEYS[1] the copy, KEYS[2] the highest revision written; ARGV: revision, copy, ttl (ms).
    private const string WriteIfNewer = """
        local current = redis.call('GET', KEYS[2])
        if current and tonumber(current) > tonumber(ARGV[1]) then
            return 0
        end
        redis.call('SET', KEYS[2], ARGV[1])
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        return 1
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly IDatabase _redis;
    private readonly CacheInvalidation _bus;
    private readonly IOptions<TemplateOptions> _options;
    private readonly CoherentCache<ActiveTemplate> _local;

    public ActiveTemplateCache(NpgsqlDataSource dataSource, IDatabase redis, CacheInvalidation bus, IOptions<TemplateOptions> options, TimeProvider time)
    {
        _dataSource = dataSource;
        _redis = redis;
        _bus = bus;
        _options = options;
        _local = new CoherentCache<ActiveTemplate>(bus, Scope, options.Value.LocalCacheMaxAge, 10_000, time);
    }

    public static string CopyKey(string promptType) => $"templates:active:{promptType}";

    private static string RevisionKey(string promptType) => $"templates:revision:{promptType}";

    /// <summary>The type's rules and active version; null when the type does not exist.</summary>
    public async ValueTask<ActiveTemplate?> GetAsync(string promptType, CancellationToken cancellationToken)
    {
        if (_local.TryGet(promptType, out var cached))
        {
            return cached;
        }
        var token = _local.BeginLoad();
        var value = await ReadRedisAsync(promptType, cancellationToken);
        if (value is null)
        {
            value = await LoadAsync(promptType, cancellationToken);
            if (value is null)
            {
                return null;
            }
            await WriteRedisAsync(value, cancellationToken);
        }
        _local.Store(promptType, value, token);
        return value;
    }

    // KEYS[1] the copy, KEYS[2] the highest revision written; ARGV: the revision about to commit.
    private const string Prepare = """
        local current = redis.call('GET', KEYS[2])
        if not current or tonumber(current) < tonumber(ARGV[1]) then
            redis.call('SET', KEYS[2], ARGV[1])
        end
        return redis.call('DEL', KEYS[1])
        """;

    /// <summary>
    /// Inside a change's transaction, before it commits: raises the type's revision in Redis and drops the
    /// Redis copy, so no reader that loaded the old version can store it there afterwards. Throws
    /// a Redis failure (<see cref="RedisRegistration.IsRedisFailure"/>) when Redis is unreachable: the caller
    /// rolls back, so a change never commits while a stale copy could outlive it in Redis.
    /// </summary>
    public Task PrepareChangeAsync(string promptType, long revision, CancellationToken cancellationToken) =>
        _redis.ScriptEvaluateAsync(Prepare, [CopyKey(promptType), RevisionKey(promptType)], [revision]).WaitAsync(cancellationToken);

    /// <summary>
    /// After a change to a type committed: writes the new copy to Redis and drops every instance's
    /// in-process copy, waiting (bounded) for each to confirm. False when Redis failed or an instance did not confirm.
    /// </summary>
    public async Task<bool> PublishChangeAsync(string promptType, CancellationToken cancellationToken)
    {
        try
        {
            if (await LoadAsync(promptType, cancellationToken) is { } current)
            {
                await WriteRedisAsync(current, cancellationToken, quiet: false);
            }
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            // The bus reports Redis failures too; the Redis copy expires with its TTL.
        }
        return await _bus.PublishAsync(Scope, promptType, cancellationToken);
    }

    private async Task<ActiveTemplate?> ReadRedisAsync(string promptType, CancellationToken cancellationToken)
    {
        try
        {
            var copy = await _redis.StringGetAsync(CopyKey(promptType)).WaitAsync(cancellationToken);
            return copy.IsNull ? null : JsonSerializer.Deserialize<ActiveTemplate>((byte[])copy!, Json);
        }
        catch (Exception ex) when (ex.IsRedisFailure() || ex is JsonException)
        {
            return null;
        }
    }

    private async Task WriteRedisAsync(ActiveTemplate value, CancellationToken cancellationToken, bool quiet = true)
    {
        try
        {
            await _redis.ScriptEvaluateAsync(WriteIfNewer, [CopyKey(value.PromptType), RevisionKey(value.PromptType)],
                [value.Revision, JsonSerializer.Serialize(value, Json), (long)_options.Value.RedisTtl.TotalMilliseconds]).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (quiet && ex.IsRedisFailure())
        {
            // A read works without Redis.
        }
    }

    /// <summary>The type and its active version from Postgres, in one query.</summary>
    public async Task<ActiveTemplate?> LoadAsync(string promptType, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT t.revision, t.section, t.required_placeholders, t.allowed_variables, t.output_schema::text,
                   v.version_number, v.template, v.activated_at
            FROM prompt_templates t
            LEFT JOIN prompt_template_versions v ON v.prompt_type = t.prompt_type AND v.is_active
            WHERE t.prompt_type = $1
            """);
        command.Parameters.Add(new() { Value = promptType });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new ActiveTemplate(
            promptType, reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetInt32(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));
    }
}
