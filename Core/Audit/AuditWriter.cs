using System.Diagnostics;
using System.Text.Json;
using AiPrompts.Core.Data;

namespace AiPrompts.Core.Audit;

/// <summary>Adds audit rows to the caller's unit of work, so they commit or roll back with the change they describe.</summary>
public sealed class AuditWriter(AppDbContext db, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Record(Guid? actorUserId, string action, string entityType, string? entityId, object? before, object? after)
    {
        var now = time.GetUtcNow();
        db.AuditLogs.Add(new AuditLog
        {
            Id = Guid.CreateVersion7(now),
            ActorUserId = actorUserId,
            Action = action,
            EntityType = entityType,
            EntityId = entityId,
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
            TraceId = Activity.Current?.TraceId.ToString(),
            CreatedAt = now,
        });
    }
}
