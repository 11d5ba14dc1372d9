using AiPrompts.Core.ApiKeys;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Audit;

/// <summary>An audit entry: who did what to which entity, when, with the state before and after.</summary>
public sealed record AuditLogResponse(
    Guid Id,
    Guid? ActorUserId,
    string? ActorEmail,
    string Action,
    string EntityType,
    string? EntityId,
    JsonElement? Before,
    JsonElement? After,
    string? TraceId,
    DateTimeOffset CreatedAt);

/// <summary>The audit log, newest first, for a super admin: filtered by entity, action, actor and time, keyset-paginated.</summary>
internal static class AuditLogsApi
{
    public static IEndpointRouteBuilder MapAuditLogsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audit-logs", ListAsync).RequireScope(ApiKeyScopes.Admin).WithTags("Audit").WithName("ListAuditLogs")
            .WithSummary("Audit entries, newest first: ?entityType=&entityId=&action=&actorUserId=&from=&to=&limit=&cursor= (entityId and action may end in * for a prefix)")
            .RequireAuthorization(Policies.ManageAll);
        return app;
    }

    internal static async Task<Results<Ok<PageEnvelope<AuditLogResponse>>, ValidationProblem>> ListAsync(
        AppDbContext db,
        CancellationToken cancellationToken,
        string? entityType = null,
        string? entityId = null,
        string? action = null,
        Guid? actorUserId = null,
        DateTimeOffset? from = null,
        DateTimeOffset? to = null,
        int? limit = null,
        string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = Paging.Read(limit, cursor, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var query = db.AuditLogs.AsNoTracking();
        if (entityType is not null)
        {
            query = query.Where(a => a.EntityType == entityType);
        }
        if (entityId is not null)
        {
            // "prompt_type/*": every entity whose id starts so (every version of a prompt type), as for action.
            query = entityId.EndsWith('*') ? query.Where(a => a.EntityId!.StartsWith(entityId.TrimEnd('*'))) : query.Where(a => a.EntityId == entityId);
        }
        if (action is not null)
        {
            query = action.EndsWith('*') ? query.Where(a => a.Action.StartsWith(action.TrimEnd('*'))) : query.Where(a => a.Action == action);
        }
        if (actorUserId is not null)
        {
            query = query.Where(a => a.ActorUserId == actorUserId);
        }
        if (from is { } since)
        {
            query = query.Where(a => a.CreatedAt >= since);
        }
        if (to is { } until)
        {
            query = query.Where(a => a.CreatedAt < until);
        }
        var window = await (
            from a in query.Window(page, a => a.CreatedAt, a => a.Id)
            join u in db.Users.AsNoTracking() on a.ActorUserId equals u.Id into actors
            from u in actors.DefaultIfEmpty()
            select new { a, Email = u == null ? null : u.Email })
            .ToListAsync(cancellationToken);
        var (rows, next) = Paging.Cut([.. window.OrderByDescending(x => x.a.CreatedAt).ThenByDescending(x => x.a.Id)], page, x => (x.a.CreatedAt, x.a.Id));
        return TypedResults.Ok(new PageEnvelope<AuditLogResponse>([.. rows.Select(x => new AuditLogResponse(
            x.a.Id, x.a.ActorUserId, x.Email, x.a.Action, x.a.EntityType, x.a.EntityId, Json(x.a.Before), Json(x.a.After), x.a.TraceId, x.a.CreatedAt))], next));
    }

    private static JsonElement? Json(string? text) => text is null ? null : JsonDocument.Parse(text).RootElement.Clone();
}
