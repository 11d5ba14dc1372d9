using System.Security.Cryptography;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AiPrompts.Api.Auth;

internal static partial class AuthenticationSetup
{
    public static IHostApplicationBuilder AddApiAuthentication(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var isDevelopment = builder.Environment.IsDevelopment();
        services.AddOptions<JwtOptions>()
            .BindConfiguration(JwtOptions.Section)
            .ValidateDataAnnotations()
            .PostConfigure(o =>
            {
                if (string.IsNullOrEmpty(o.SigningKey) && isDevelopment)
                {
                    // Development only: an ephemeral key, so tokens die with the process.
                    o.SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
                }
            })
            .Validate(o => o.KeyBytes.Length >= 32, $"{JwtOptions.Section}:SigningKey must be set to at least 32 bytes (outside Development it is required).")
            .ValidateOnStart();

        services.AddSingleton<TokenIssuer>();
        services.AddScoped<UserPrincipalFactory>();
        services.AddSingleton<LoginThrottle>();
        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.Section)
            .Validate(o => o.PermitLimit >= 1 && o.PermitLimitPerAddress >= 1 && o.AccountSoftLimit >= 1 && o.AccountBackoff >= TimeSpan.Zero && o.Window >= TimeSpan.FromSeconds(1),
                $"{LoginThrottleOptions.Section}: the limits are at least 1, AccountBackoff zero or more, Window at least a second.")
            .ValidateOnStart();

        services.AddAuthentication(AuthSchemes.Bearer)
            .AddPolicyScheme(AuthSchemes.Bearer, "Bearer token: JWT or API key", o =>
                o.ForwardDefaultSelector = context => ApiKeyAuthenticationHandler.ApiKeyFrom(context.Request) is null ? AuthSchemes.Jwt : AuthSchemes.ApiKey)
            .AddJwtBearer(AuthSchemes.Jwt, _ => { })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthSchemes.ApiKey, _ => { });

        services.AddOptions<JwtBearerOptions>(AuthSchemes.Jwt).Configure<IOptions<JwtOptions>>((bearer, jwtOptions) =>
        {
            var jwt = jwtOptions.Value;
            bearer.MapInboundClaims = false;
            bearer.RequireHttpsMetadata = false;
            bearer.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                IssuerSigningKey = new SymmetricSecurityKey(jwt.KeyBytes),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidateLifetime = true,
                ValidateIssuerSigningKey = true,
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ClockSkew = JwtOptions.ClockSkew,
                NameClaimType = AppClaims.Email,
                RoleClaimType = AppClaims.Role,
            };
            bearer.Events = new JwtBearerEvents { OnTokenValidated = OnTokenValidatedAsync };
        });

        // No fallback policy: every endpoint is mapped in a group that requires authorization (Program.cs), and a
        // test checks that each one either requires it or says AllowAnonymous. Routing's own 405 and 415 answers
        // therefore stay 405 and 415 for a caller without a token, instead of becoming 401.
        services.AddSingleton<IAuthorizationHandler, ApiKeyScopeRequirement>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ScopeAwareResultHandler>();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(Policy().Build())
            .AddPolicy(Policies.ManageAll, Policy().RequireClaim(Permissions.ClaimType, Permissions.ManageAll).Build());
        return builder;
    }

    /// <summary>Every policy: a signed-in user, and for an API key the scope the endpoint declares.</summary>
    private static AuthorizationPolicyBuilder Policy() =>
        new AuthorizationPolicyBuilder(AuthSchemes.Bearer).RequireAuthenticatedUser().AddRequirements(new ApiKeyScopeRequirement());

    /// <summary>
    /// A valid signature is not enough: the user must still exist, be enabled and carry the same security
    /// stamp, so that disabling a user or changing their role ends their tokens at once. Role and
    /// permissions come from the database, not from the token.
    /// </summary>
    private static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var factory = context.HttpContext.RequestServices.GetRequiredService<UserPrincipalFactory>();
        var current = Guid.TryParse(principal.FindFirst(AppClaims.Subject)?.Value, out var userId)
            && Guid.TryParse(principal.FindFirst(AppClaims.SecurityStamp)?.Value, out var stamp)
                ? await factory.CreateForTokenAsync(userId, stamp, context.HttpContext.RequestAborted)
                : null;
        if (current is null)
        {
            context.Fail("The token's user is disabled, unknown, or its access has changed since the token was issued.");
            return;
        }
        context.Principal = current;
    }
}
