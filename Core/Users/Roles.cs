namespace AiPrompts.Core.Users;

public static class Roles
{
    public const string SuperAdmin = "super_admin";
    public const string Admin = "admin";
    public const string User = "user";

    public static IReadOnlyList<string> All { get; } = [SuperAdmin, Admin, User];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}

/// <summary>Permissions are granted by role, in code, so that a token never carries more than its user's role allows now.</summary>
public static class Permissions
{
    public const string ClaimType = "permission";
    public const string ManageAll = "system.manage_all";

    public static IReadOnlyList<string> For(string role) => role switch
    {
        Roles.SuperAdmin => [ManageAll],
        _ => [],
    };
}
