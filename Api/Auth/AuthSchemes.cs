namespace AiPrompts.Api.Auth;

internal static class AuthSchemes
{
    /// <summary>The default scheme: reads the Bearer token and hands it to the JWT or the API-key handler.</summary>
    public const string Bearer = "Bearer";
    public const string Jwt = "Jwt";
    public const string ApiKey = "ApiKey";
}

public static class Policies
{
    /// <summary>The contract's permission: held by super admins.</summary>
    public const string ManageAll = "system.manage_all";
}

internal static class AppClaims
{
    public const string Subject = "sub";
    public const string Email = "email";
    public const string Name = "name";
    public const string Role = "role";
    public const string SecurityStamp = "sstamp";
    public const string AuthMethod = "amr";
    public const string ApiKeyId = "api_key_id";

    public const string PasswordMethod = "pwd";
    public const string ApiKeyMethod = "api_key";
}
