using AiPrompts.Core.ApiKeys;
using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Ai;

internal static class AvailabilityApi
{
    public static RouteHandlerBuilder MapAvailabilityApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/ai/availability", GetAsync).RequireScope(ApiKeyScopes.Prompts).WithTags("AI providers and keys").WithName("GetAvailability")
            .WithSummary("Per section: the provider and model I would get, with which key source, or why not (localised)");

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<AvailabilityResponse>>>> GetAsync(
        ClaimsPrincipal principal, HttpContext http, AiAccess access, MessageCatalog messages, CancellationToken cancellationToken)
    {
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        http.Response.Headers.ContentLanguage = language;
        var results = await access.AvailabilityAsync(principal.AiCaller(), cancellationToken);
        IReadOnlyList<AvailabilityResponse> body = [.. results.Select(r =>
        {
            var (section, decision) = r;
            if (decision.Outcome.Source is { } source)
            {
                return new AvailabilityResponse(section, decision.ProviderId, decision.ModelId, true, source.ToString().ToLowerInvariant(), null, null, null);
            }
            var code = decision.Outcome.Refusal!;
            var text = messages.Get(code.Code, language, decision.MessageArgs);
            return new AvailabilityResponse(section, decision.ProviderId, decision.ModelId, false, null, code.Code, text.UserMessage, text.RecoveryAction);
        })];
        return TypedResults.Ok(DataEnvelope.Of(body));
    }
}
