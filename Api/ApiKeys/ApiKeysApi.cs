using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, DateTimeOffset? ExpiresAt);

public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>The one response that carries the key itself: it is shown once and cannot be read again.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, string Key);

/// <summary>
/// A user's API keys for service clients. Managing keys needs a password sign-in (a JWT): a key cannot
/// mint or revoke keys, so a leaked key cannot outlive its revocation by making others.
/// </summary>
internal static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireAuthorization(Policies.Interactive);
        group.MapGet("/", ListAsync).WithName("ListApiKeys").WithSummary("My API keys (never the keys themselves)");
        group.MapPost("/", CreateAsync).WithName("CreateApiKey").WithSummary("Create an API key; the key is in this response only");
        group.MapDelete("/{id:guid}", RevokeAsync).WithName("RevokeApiKey").WithSummary("Revoke one of my API keys");
        return group;
    }

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<ApiKeyResponse>>>> ListAsync(ClaimsPrincipal caller, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.UserId == userId)
            .OrderByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.CreatedAt, k.ExpiresAt, k.RevokedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of<IReadOnlyList<ApiKeyResponse>>(keys));
    }

    internal static async Task<Results<Created<DataEnvelope<CreatedApiKeyResponse>>, ValidationProblem>> CreateAsync(
        CreateApiKeyRequest request, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["A name of 1 to 100 characters is required."];
        }
        if (request.ExpiresAt is { } expires && expires <= now)
        {
            errors["expiresAt"] = ["The expiry must be in the future."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var key = ApiKeyTokens.Create();
        var entity = new ApiKey
        {
            Id = Guid.CreateVersion7(now),
            UserId = caller.UserId(),
            Name = request.Name!.Trim(),
            Prefix = ApiKeyTokens.PrefixOf(key),
            KeyHash = ApiKeyTokens.Hash(key),
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt,
        };
        db.ApiKeys.Add(entity);
        audit.Record(entity.UserId, "api_key.create", "api_key", entity.Id.ToString(), null, new { entity.Name, entity.Prefix, entity.ExpiresAt });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created(
            $"/api/v1/api-keys/{entity.Id}",
            DataEnvelope.Of(new CreatedApiKeyResponse(entity.Id, entity.Name, entity.Prefix, entity.CreatedAt, entity.ExpiresAt, key)));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, UserCache users, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        // Ownership is part of the query: another user's key is simply not found.
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.UserId == userId, cancellationToken);
        if (key is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (key.RevokedAt is null)
        {
            key.RevokedAt = time.GetUtcNow();
            audit.Record(userId, "api_key.revoke", "api_key", key.Id.ToString(), new { key.Name, key.Prefix }, new { key.Name, key.Prefix, key.RevokedAt });
            await db.SaveChangesAsync(cancellationToken);
            await users.ApiKeyChangedAsync(key.KeyHash, CancellationToken.None);
        }
        return TypedResults.NoContent();
    }
}
