using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Gateway;

/// <summary>What a response writes into its conversation, whichever host made it (the Api on the data path, the Worker in the background).</summary>
public static class ConversationWrites
{
    /// <summary>The items a response adds to its conversation (its input, then its output), in the response's own transaction.</summary>
    public static NpgsqlBatchCommand Appending(string id, JsonArray items, DateTimeOffset now)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO gateway_conversation_items (conversation_id, id, item, created_at)
            SELECT $1, x.item ->> 'id', x.item, $3 FROM jsonb_array_elements($2) WITH ORDINALITY AS x(item, n) ORDER BY x.n
            ON CONFLICT (conversation_id, id) DO NOTHING
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = items.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return command;
    }
}
