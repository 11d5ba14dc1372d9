using System.Security.Claims;

namespace AiPrompts.Web.Account;

/// <summary>
/// The console's session: a cookie (HttpOnly, SameSite=Strict, sealed by data protection) holding the user and the
/// Api's access token. The token lives only on the server: Blazor reads it from the circuit's user; no browser
/// script can.
/// </summary>
internal static class ConsoleSession
{
    public const string CookieName = "aiprompts.console";
    public const string AccessTokenClaim = "aiprompts:access_token";
    public const string SuperAdminRole = "super_admin";
    public const string AdminRole = "admin";

    public static string? AccessToken(this ClaimsPrincipal user) => user.FindFirst(AccessTokenClaim)?.Value;

    public static ClaimsPrincipal Create(SignedInUser user, string accessToken) =>
        new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new Claim(ClaimTypes.Name, user.DisplayName),
            new Claim(ClaimTypes.Email, user.Email),
            new Claim(ClaimTypes.Role, user.Role),
            new Claim(AccessTokenClaim, accessToken),
        ], Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationDefaults.AuthenticationScheme));
}

/// <summary>Who signed in, as the Api's <c>/api/v1/me</c> says.</summary>
internal sealed record SignedInUser(Guid Id, string Email, string DisplayName, string Role);
