using System.Text.Json.Nodes;
using AiPrompts.Core.Gateway;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// The OpenAI-compatible conversations and their items in Postgres, each statement limited to the caller's own
/// conversations (anyone else's is not found). Items keep OpenAI's form and the order they were added in.
/// </summary>
internal sealed class ConversationStore(NpgsqlDataSource data, TimeProvider time)
{
    public const int MaxItemsPerCall = 20;

    public sealed record Row(string Id, JsonObject Metadata, DateTimeOffset CreatedAt);

    public async Task<Row> CreateAsync(Guid user, IReadOnlyDictionary<string, string> metadata, JsonArray items, CancellationToken cancellationToken)
    {
        var row = new Row($"conv_{Guid.CreateVersion7(time.GetUtcNow()):N}", Object(metadata), time.GetUtcNow());
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("INSERT INTO gateway_conversations (id, user_id, metadata, created_at) VALUES ($1, $2, $3, $4)", connection, transaction))
        {
            command.Parameters.Add(new() { Value = row.Id });
            command.Parameters.Add(new() { Value = user });
            command.Parameters.Add(new() { Value = row.Metadata.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            command.Parameters.Add(new() { Value = row.CreatedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await AppendAsync(connection, transaction, row.Id, items, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return row;
    }

    public async Task<Row?> GetAsync(string id, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("SELECT metadata::text, created_at FROM gateway_conversations WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Row(id, JsonNode.Parse(reader.GetString(0))!.AsObject(), reader.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    public async Task<Row?> UpdateAsync(string id, Guid user, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("UPDATE gateway_conversations SET metadata = $3 WHERE id = $1 AND user_id = $2 RETURNING created_at");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        command.Parameters.Add(new() { Value = Object(metadata).ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime created ? new Row(id, Object(metadata), new DateTimeOffset(created, TimeSpan.Zero)) : null;
    }

    /// <summary>Deletes the conversation and its items; false when the caller has no such conversation.</summary>
    public async Task<bool> DeleteAsync(string id, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("DELETE FROM gateway_conversations WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Adds items at the end (an item whose id is already there is kept as it was); false when the caller has no such conversation.</summary>
    public async Task<bool> AddAsync(string id, Guid user, JsonArray items, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var owner = new NpgsqlCommand("SELECT 1 FROM gateway_conversations WHERE id = $1 AND user_id = $2 FOR SHARE", connection, transaction))
        {
            owner.Parameters.Add(new() { Value = id });
            owner.Parameters.Add(new() { Value = user });
            if (await owner.ExecuteScalarAsync(cancellationToken) is null)
            {
                return false;
            }
        }
        await AppendAsync(connection, transaction, id, items, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Every item, oldest first (the context a response reads), or null when the caller has no such conversation.</summary>
    public async Task<JsonArray?> AllItemsAsync(string id, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("""
            SELECT c.id, i.item::text FROM gateway_conversations c LEFT JOIN gateway_conversation_items i ON i.conversation_id = c.id
            WHERE c.id = $1 AND c.user_id = $2 ORDER BY i.position
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        JsonArray? items = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            items ??= [];
            if (!reader.IsDBNull(1))
            {
                items.Add(JsonNode.Parse(reader.GetString(1)));
            }
        }
        return items;
    }

    /// <summary>A page of items in OpenAI's list form (<c>order</c> desc by default, <c>after</c> an item id), or null when not found.</summary>
    public async Task<JsonObject?> PageAsync(string id, Guid user, int limit, bool ascending, string? after, CancellationToken cancellationToken)
    {
        if (await GetAsync(id, user, cancellationToken) is null)
        {
            return null;
        }
        await using var command = data.CreateCommand($"""
            SELECT i.id, i.item::text FROM gateway_conversation_items i
            WHERE i.conversation_id = $1
              AND ($2::text IS NULL OR i.position {(ascending ? ">" : "<")} (SELECT a.position FROM gateway_conversation_items a WHERE a.conversation_id = $1 AND a.id = $2))
            ORDER BY i.position {(ascending ? "ASC" : "DESC")} LIMIT $3
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = limit + 1 });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var page = new List<(string Id, JsonNode Item)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add((reader.GetString(0), JsonNode.Parse(reader.GetString(1))!));
        }
        var shown = page.Take(limit).ToList();
        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. shown.Select(p => p.Item)]),
            ["first_id"] = shown.Count > 0 ? shown[0].Id : null,
            ["last_id"] = shown.Count > 0 ? shown[^1].Id : null,
            ["has_more"] = page.Count > limit,
        };
    }

    public async Task<JsonNode?> ItemAsync(string id, string itemId, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("""
            SELECT i.item::text FROM gateway_conversation_items i JOIN gateway_conversations c ON c.id = i.conversation_id
            WHERE i.conversation_id = $1 AND i.id = $2 AND c.user_id = $3
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = itemId });
        command.Parameters.Add(new() { Value = user });
        return await command.ExecuteScalarAsync(cancellationToken) is string item ? JsonNode.Parse(item) : null;
    }

    /// <summary>Deletes one item; false when the caller has no such item.</summary>
    public async Task<bool> DeleteItemAsync(string id, string itemId, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("""
            DELETE FROM gateway_conversation_items i USING gateway_conversations c
            WHERE i.conversation_id = $1 AND i.id = $2 AND c.id = i.conversation_id AND c.user_id = $3
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = itemId });
        command.Parameters.Add(new() { Value = user });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, JsonArray items, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            return;
        }
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { ConversationWrites.Appending(id, items, time.GetUtcNow()) } };
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static JsonObject Object(IReadOnlyDictionary<string, string> metadata) => new([.. metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
}
