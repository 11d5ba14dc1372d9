namespace AiPrompts.Core.ApiKeys;

/// <summary>A key for a service client. Only its SHA-256 hash is stored; the key itself is shown once, at creation.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }

    /// <summary>The first characters of the key, enough to recognise it in a list.</summary>
    public required string Prefix { get; set; }

    public required byte[] KeyHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>What the key may do (<see cref="ApiKeyScopes"/>), fixed when it is made.</summary>
    public string[] Scopes { get; set; } = [.. ApiKeyScopes.Default];
}
