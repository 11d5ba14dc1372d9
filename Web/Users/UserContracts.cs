namespace AiPrompts.Web.Users;

/// <summary>A user as the Api lists them (<c>GET /api/v1/users</c>).</summary>
public sealed record UserRow(
    Guid Id,
    string Email,
    string DisplayName,
    string Role,
    bool IsDisabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastLoginAt);

/// <summary>One of my API keys (<c>GET /api/v1/api-keys</c>): never the key itself.</summary>
public sealed record ApiKeyRow(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A key just made: the only answer that carries the key.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, string Key);

/// <summary>The roles and scopes the Api knows, in the order the console offers them.</summary>
public static class AccessNames
{
    public static IReadOnlyList<string> Roles { get; } = ["user", "admin", "super_admin"];

    public static IReadOnlyList<string> Scopes { get; } = ["prompts", "templates:read", "templates:write", "admin"];
}
