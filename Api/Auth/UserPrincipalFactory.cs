using System.Security.Claims;
using AiPrompts.Core.Data;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Auth;

/// <summary>Builds the request's principal from the user's current state (from <see cref="UserCache"/>, else the database).</summary>
internal sealed class UserPrincipalFactory(AppDbContext db, UserCache cache, TimeProvider time)
{
    private static readonly Func<AppDbContext, Guid, CancellationToken, Task<CachedUser?>> UserById =
        EF.CompileAsyncQuery((AppDbContext ctx, Guid id, CancellationToken _) => ctx.Users
            .Where(u => u.Id == id)
            .Select(u => new CachedUser(u.Id, u.Email, u.DisplayName, u.Role, u.IsDisabled, u.SecurityStamp))
            .FirstOrDefault());

    public async Task<ClaimsPrincipal?> CreateForTokenAsync(Guid userId, Guid securityStamp, CancellationToken cancellationToken)
    {
        var user = await UserAsync(userId, cancellationToken);
        return user is null || user.IsDisabled || user.SecurityStamp != securityStamp
            ? null
            : Create(new UserRow(user.Id, user.Email, user.DisplayName, user.Role), AuthSchemes.Jwt, [new Claim(AppClaims.AuthMethod, AppClaims.PasswordMethod)]);
    }

    public async Task<ClaimsPrincipal?> CreateForApiKeyAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        var cacheKey = UserCache.KeyOf(keyHash);
        if (!cache.ApiKeys.TryGet(cacheKey, out var key))
        {
            var token = cache.ApiKeys.BeginLoad();
            var row = await db.ApiKeys.AsNoTracking()
                .Where(k => k.KeyHash == keyHash)
                .Select(k => new CachedApiKey(k.Id, k.UserId, k.ExpiresAt, k.RevokedAt != null, k.Scopes))
                .FirstOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                return null;
            }
            cache.ApiKeys.Store(cacheKey, row, token);
            key = row;
        }
        if (key.Revoked || (key.ExpiresAt is { } expires && expires <= time.GetUtcNow()))
        {
            return null;
        }
        var user = await UserAsync(key.UserId, cancellationToken);
        return user is null || user.IsDisabled
            ? null
            : Create(new UserRow(user.Id, user.Email, user.DisplayName, user.Role), AuthSchemes.ApiKey,
                [new Claim(AppClaims.AuthMethod, AppClaims.ApiKeyMethod), new Claim(AppClaims.ApiKeyId, key.KeyId.ToString()),
                    .. key.Scopes.Select(s => new Claim(ApiKeyScopeRequirement.ClaimType, s))]);
    }

    private async Task<CachedUser?> UserAsync(Guid userId, CancellationToken cancellationToken)
    {
        var cacheKey = userId.ToString();
        if (cache.Users.TryGet(cacheKey, out var user))
        {
            return user;
        }
        var token = cache.Users.BeginLoad();
        user = await UserById(db, userId, cancellationToken);
        if (user is not null)
        {
            cache.Users.Store(cacheKey, user, token);
        }
        return user;
    }

    private static ClaimsPrincipal Create(UserRow user, string scheme, IEnumerable<Claim> extra)
    {
        var claims = new List<Claim>
        {
            new(AppClaims.Subject, user.Id.ToString()),
            new(AppClaims.Email, user.Email),
            new(AppClaims.Name, user.DisplayName),
            new(AppClaims.Role, user.Role),
        };
        claims.AddRange(Permissions.For(user.Role).Select(p => new Claim(Permissions.ClaimType, p)));
        claims.AddRange(extra);
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, AppClaims.Email, AppClaims.Role));
    }

    private sealed record UserRow(Guid Id, string Email, string DisplayName, string Role);
}

internal static class ClaimsPrincipalExtensions
{
    public static Guid UserId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirst(AppClaims.Subject)?.Value ?? throw new InvalidOperationException("The principal has no subject."));

    /// <summary>Holds <c>system.manage_all</c>: sees and manages everyone's data.</summary>
    public static bool IsSuperAdmin(this ClaimsPrincipal principal) =>
        principal.HasClaim(AiPrompts.Core.Users.Permissions.ClaimType, AiPrompts.Core.Users.Permissions.ManageAll);
}

internal static class AiCallerExtensions
{
    public static AiPrompts.Core.Providers.AiCaller AiCaller(this ClaimsPrincipal principal) =>
        new(principal.UserId(), principal.FindFirst(AppClaims.Role)?.Value ?? throw new InvalidOperationException("The principal has no role."),
            Guid.TryParse(principal.FindFirst(AppClaims.ApiKeyId)?.Value, out var key) ? key : null);
}
