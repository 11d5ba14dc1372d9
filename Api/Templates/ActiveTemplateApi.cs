using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Templates;

/// <summary>
/// A type's active version, for any signed-in caller, to render it yourself: read from the in-process cache, kept
/// right by <see cref="ActiveTemplateCache"/>. To have the server render and run it, see the prompt requests' template run.
/// </summary>
internal static class ActiveTemplateApi
{
    public static IEndpointRouteBuilder MapActiveTemplateApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ai/prompts").WithTags("Prompt templates").RequireScope(ApiKeyScopes.Prompts);
        group.MapGet("/{promptType}/active", GetActiveAsync).WithName("getActivePromptVersion")
            .WithSummary("The active version of a prompt type, with the variables it takes");
        return app;
    }

    internal static async Task<Results<Ok<DataEnvelope<ActivePromptResponse>>, ProblemHttpResult>> GetActiveAsync(
        string promptType, ActiveTemplateCache cache, CancellationToken cancellationToken)
    {
        var active = await cache.GetAsync(promptType, cancellationToken);
        if (active is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (active is not { VersionNumber: { } number, Template: { } template })
        {
            return ApiProblem.Of(ErrorCode.NoActiveVersion, new Dictionary<string, string> { ["promptType"] = promptType });
        }
        return TypedResults.Ok(DataEnvelope.Of(new ActivePromptResponse(
            promptType, number, template, active.ActivatedAt, active.Variables, active.RequiredPlaceholders, active.OutputSchemaJson)));
    }
}
