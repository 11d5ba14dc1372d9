namespace AiPrompts.Core.Users;

/// <summary>A person or service identity. The email is stored normalised (trimmed, lower case).</summary>
public sealed class User
{
    public Guid Id { get; set; }
    public required string Email { get; set; }
    public required string DisplayName { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public bool IsDisabled { get; set; }

    /// <summary>Changes whenever the user's access changes (disable, role, password): tokens carry it and stop working.</summary>
    public Guid SecurityStamp { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}
