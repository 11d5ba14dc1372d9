using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.ApiKeys;

/// <summary>
/// A new key. <c>Scopes</c> are what it may do: <c>prompts</c>, <c>templates:read</c>, <c>templates:write</c>,
/// <c>admin</c>; without them, only <c>prompts</c>. A key never does more than its user's role allows.
/// </summary>
public sealed record CreateApiKeyRequest(string? Name, DateTimeOffset? ExpiresAt, string[]? Scopes);

public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>The one response that carries the key itself: it is shown once and cannot be read again.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, string Key);

/// <summary>
/// A user's API keys for service clients. Managing keys needs a password sign-in (a JWT) or a key with the
/// <c>admin</c> scope, which a key only has when its maker chose it: a leaked <c>prompts</c> key cannot mint
/// others, so it cannot outlive its revocation.
/// </summary>
internal static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireScope(ApiKeyScopes.Admin);
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
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.ExpiresAt, k.RevokedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of<IReadOnlyList<ApiKeyResponse>>(keys));
    }

    internal static async Task<Results<Created<DataEnvelope<CreatedApiKeyResponse>>, ValidationProblem>> CreateAsync(
        CreateApiKeyRequest request, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name) || TextLength.Of(request.Name) > 100)
        {
            errors["name"] = ["A name of 1 to 100 characters is required."];
        }
        if (request.ExpiresAt is { } expires && expires <= now)
        {
            errors["expiresAt"] = ["The expiry must be in the future."];
        }
        if (request.Scopes is { } scopes && (scopes.Length == 0 || scopes.Any(s => s is null || !ApiKeyScopes.IsKnown(s))))
        {
            errors["scopes"] = [$"Scopes must be one or more of: {string.Join(", ", ApiKeyScopes.All)}."];
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
            Scopes = request.Scopes is { } chosen ? [.. ApiKeyScopes.All.Where(chosen.Contains)] : [.. ApiKeyScopes.Default],
        };
        db.ApiKeys.Add(entity);
        audit.Record(entity.UserId, "api_key.create", "api_key", entity.Id.ToString(), null, new { entity.Name, entity.Prefix, entity.Scopes, entity.ExpiresAt });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created(
            $"/api/v1/api-keys/{entity.Id}",
            DataEnvelope.Of(new CreatedApiKeyResponse(entity.Id, entity.Name, entity.Prefix, entity.Scopes, entity.CreatedAt, entity.ExpiresAt, key)));
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
