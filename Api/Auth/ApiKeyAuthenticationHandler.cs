using System.Text.Encodings.Web;
using AiPrompts.Core.ApiKeys;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Auth;

/// <summary>Authenticates <c>Authorization: Bearer aip_...</c> by the key's SHA-256 hash.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    UserPrincipalFactory principals)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The API key in <c>Authorization: Bearer aip_...</c>, or null when the bearer token is something else.</summary>
    public static string? ApiKeyFrom(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = header["Bearer ".Length..].Trim();
        return ApiKeyTokens.LooksLikeApiKey(token) ? token : null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiKeyFrom(Request) is not { } key)
        {
            return AuthenticateResult.NoResult();
        }
        var principal = await principals.CreateForApiKeyAsync(ApiKeyTokens.Hash(key), Context.RequestAborted);
        return principal is null
            ? AuthenticateResult.Fail("The API key is unknown, revoked or expired, or its user is disabled.")
            : AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        return Task.CompletedTask;
    }
}
