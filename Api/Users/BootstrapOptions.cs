namespace AiPrompts.Api.Users;

/// <summary>The first super admin, created on first start when no user has that email yet.</summary>
internal sealed class BootstrapOptions
{
    public const string Section = "Bootstrap:SuperAdmin";

    public string? Email { get; set; }
    public string? Password { get; set; }
    public string DisplayName { get; set; } = "Super Admin";
}
