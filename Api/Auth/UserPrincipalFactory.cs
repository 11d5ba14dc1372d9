using System.Security.Claims;
using AiPrompts.Core.Data;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Auth;

/// <summary>Builds the request's principal from the user's current row.</summary>
internal sealed class UserPrincipalFactory(AppDbContext db, TimeProvider time)
{
    private static readonly Func<AppDbContext, Guid, Guid, CancellationToken, Task<UserRow?>> ActiveUserByStamp =
        EF.CompileAsyncQuery((AppDbContext ctx, Guid id, Guid stamp, CancellationToken _) => ctx.Users
            .Where(u => u.Id == id && u.SecurityStamp == stamp && !u.IsDisabled)
            .Select(u => new UserRow(u.Id, u.Email, u.DisplayName, u.Role))
            .FirstOrDefault());

    public async Task<ClaimsPrincipal?> CreateForTokenAsync(Guid userId, Guid securityStamp, CancellationToken cancellationToken)
    {
        var user = await ActiveUserByStamp(db, userId, securityStamp, cancellationToken);
        return user is null ? null : Create(user, AuthSchemes.Jwt, [new Claim(AppClaims.AuthMethod, AppClaims.PasswordMethod)]);
    }

    public async Task<ClaimsPrincipal?> CreateForApiKeyAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var match = await db.ApiKeys
            .Where(k => k.KeyHash == keyHash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Join(db.Users.Where(u => !u.IsDisabled), k => k.UserId, u => u.Id,
                (k, u) => new { KeyId = k.Id, User = new UserRow(u.Id, u.Email, u.DisplayName, u.Role) })
            .FirstOrDefaultAsync(cancellationToken);
        return match is null
            ? null
            : Create(match.User, AuthSchemes.ApiKey,
                [new Claim(AppClaims.AuthMethod, AppClaims.ApiKeyMethod), new Claim(AppClaims.ApiKeyId, match.KeyId.ToString())]);
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
        new(principal.UserId(), principal.FindFirst(AppClaims.Role)?.Value ?? throw new InvalidOperationException("The principal has no role."));
}
