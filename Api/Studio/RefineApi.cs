using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Studio;

/// <summary>
/// The prompt refinement service (the Vietnamese document's <c>/v1/prompt/refine</c>): the Worker improves
/// the prompt, classifies its intent and lists its keywords through the content section's model, held to a strict JSON
/// Schema; the call waits up to <c>Studio:Wait</c>, then answers 202 with <c>request_id</c> and where to poll.
/// </summary>
internal static class RefineApi
{
    public static IEndpointRouteBuilder MapRefineApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Studio").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/prompt/refine", RefineAsync).WithName("RefinePrompt").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("Improve a prompt, classify its intent and list its keywords with the content section's model (structured output); waits up to Studio:Wait, else 202 and poll");
        group.MapGet("/prompt/refine/{request_id}", GetRefinedAsync).WithName("GetRefinedPrompt").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("One of my refinements: the answer when DONE, 202 while PROCESSING");
        return app;
    }

    internal static async Task<Results<Ok<PromptRefined>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> RefineAsync(
        PromptRefine body, ClaimsPrincipal principal, AppDbContext db, AiAccess access, JobScheduler scheduler, JobSubmission submission,
        ChargeEstimator charges, IOptions<StudioOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        StudioRequests.CheckRefinement(body.Prompt, body.Style, body.Lang, body.Topic, body.ImageUrl, "prompt", options.Value, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = principal.AiCaller();
        var (decision, refused) = await StudioRequests.DecideAsync(access, caller, Sections.Content, body.Provider, body.Model, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }
        var (id, refusal) = await StudioRequests.SubmitAsync(db, scheduler, submission, options.Value, time, new StudioRequest
        {
            UserId = caller.UserId, Kind = PromptRefineHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
            Prompt = body.Prompt!.Trim(), Style = StudioRequests.Clean(body.Style), Lang = StudioRequests.Clean(body.Lang), Topic = StudioRequests.Clean(body.Topic), ImageUrl = StudioRequests.Clean(body.ImageUrl), Store = true,
        }, charges.For(caller, decision.Model, body.Prompt), cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        return await RefinedAsync(db, caller.UserId, id, cancellationToken) switch
        {
            { } answer => answer,
            null => ApiProblem.Of(ErrorCode.NotFound),
        };
    }

    internal static async Task<Results<Ok<PromptRefined>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> GetRefinedAsync(
        string request_id, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken) =>
        Guid.TryParse(request_id, out var id) && await RefinedAsync(db, principal.AiCaller().UserId, id, cancellationToken) is { } answer
            ? answer
            : ApiProblem.Of(ErrorCode.NotFound);

    /// <summary>A refinement as it stands: the answer when done, 202 while its job works, its error when it failed; null when it is not mine.</summary>
    private static async Task<Results<Ok<PromptRefined>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>?> RefinedAsync(
        AppDbContext db, Guid userId, Guid id, CancellationToken cancellationToken)
    {
        if (await StudioRequests.FindAsync(db, userId, id, PromptRefineHandler.JobKind, cancellationToken) is not { } found)
        {
            return null;
        }
        var requestId = id.ToString("N");
        if (!JobStatus.IsFinal(found.Status))
        {
            return TypedResults.Accepted($"/v1/prompt/refine/{requestId}", new StudioPending(requestId, StudioRequests.Processing, $"/v1/prompt/refine/{requestId}"));
        }
        if (found.Status != JobStatus.Succeeded || found.Request.Result is not { } stored)
        {
            return StudioRequests.Failure(found);
        }
        var result = JsonSerializer.Deserialize<RefineResult>(stored)!;
        return TypedResults.Ok(new PromptRefined(requestId, StudioRequests.Done, result.RefinedPrompt, result.Intent, result.Keywords,
            new RefineMetadata(found.Request.ModelId, StudioRequests.Seconds(found.Request.ProcessingMs))));
    }
}
