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
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var key = header["Bearer ".Length..].Trim();
        if (!ApiKeyTokens.LooksLikeApiKey(key))
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
