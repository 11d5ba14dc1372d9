using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace AiPrompts.Api.Auth;

/// <summary>The API-key scope an endpoint needs; the innermost declaration wins (an endpoint's over its group's).</summary>
public sealed record RequiredScope(string Scope)
{
    /// <summary>Any valid API key may call the endpoint (who am I).</summary>
    public const string AnyKey = "*";
}

internal static class ScopeEndpointExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder
    {
        if (scope != RequiredScope.AnyKey && !ApiKeyScopes.IsKnown(scope))
        {
            throw new ArgumentOutOfRangeException(nameof(scope), scope, "Not a known API-key scope.");
        }
        return builder.WithMetadata(new RequiredScope(scope));
    }
}

/// <summary>
/// Part of every policy: a request signed in with an API key passes only when the endpoint declares a
/// scope and the key holds it. An endpoint that declares none is closed to API keys, so a new endpoint is
/// safe until someone decides otherwise. Password sign-ins pass.
/// </summary>
internal sealed class ApiKeyScopeRequirement : AuthorizationHandler<ApiKeyScopeRequirement>, IAuthorizationRequirement
{
    public const string ClaimType = "scope";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyScopeRequirement requirement)
    {
        if (context.User.FindFirst(AppClaims.AuthMethod)?.Value != AppClaims.ApiKeyMethod)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
        var endpoint = (context.Resource as HttpContext)?.GetEndpoint();
        var required = endpoint?.Metadata.GetMetadata<RequiredScope>()?.Scope;
        var held = context.User.FindAll(ClaimType).Select(c => c.Value).ToArray();
        if (required == RequiredScope.AnyKey || (required is not null && ApiKeyScopes.Allows(held, required)))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
        context.Fail(new AuthorizationFailureReason(this, required is null
            ? "API keys cannot call this endpoint; sign in with a password."
            : $"This API key lacks the scope '{required}' (it has: {string.Join(", ", held)})."));
        return Task.CompletedTask;
    }
}

/// <summary>A refusal for a missing scope says which scope, in the same problem shape as every other 403.</summary>
internal sealed class ScopeAwareResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden
            && authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault(r => r.Handler is ApiKeyScopeRequirement) is { } reason)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"insufficient_scope\"";
            await ApiProblem.Of(ErrorCode.Forbidden, detail: reason.Message).ExecuteAsync(context);
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
