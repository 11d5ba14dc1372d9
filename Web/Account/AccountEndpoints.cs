using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace AiPrompts.Web.Account;

/// <summary>Sign-in and sign-out as form posts (antiforgery-checked): the cookie is set and cleared by the server only.</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/signin", SignInAsync).AllowAnonymous();
        app.MapPost("/account/signout", SignOutAsync);
        return app;
    }

    private static async Task<IResult> SignInAsync(
        [FromForm] string? email, [FromForm] string? password, [FromForm] string? returnUrl,
        HttpContext http, SignInService signIn, CancellationToken cancellationToken)
    {
        var back = LocalOrHome(returnUrl);
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password))
        {
            return Results.LocalRedirect($"/signin?error=missing&returnUrl={Uri.EscapeDataString(back)}");
        }
        var result = await signIn.SignInAsync(email.Trim(), password, cancellationToken);
        if (result.Outcome != SignInOutcome.SignedIn)
        {
            var error = result.Outcome.ToString().ToLowerInvariant();
            return Results.LocalRedirect($"/signin?error={error}&returnUrl={Uri.EscapeDataString(back)}");
        }
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, ConsoleSession.Create(result.User!, result.AccessToken!),
            new AuthenticationProperties { ExpiresUtc = result.ExpiresAt, IsPersistent = false });
        return Results.LocalRedirect(back);
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.LocalRedirect("/signin");
    }

    /// <summary>Only a path of this site: never an open redirect.</summary>
    private static string LocalOrHome(string? url) =>
        url is { Length: > 0 } && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}
