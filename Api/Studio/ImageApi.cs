using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Studio;

/// <summary>
/// The image service (the Vietnamese document's <c>/v1/image/generate</c>): the Worker draws the refined
/// prompt through the image section's model and keeps the picture in the media store; the call waits up to
/// <c>Studio:Wait</c>, then answers 202 with <c>request_id</c> and where to poll. Statuses are PROCESSING and DONE.
/// </summary>
internal static class ImageApi
{
    public static IEndpointRouteBuilder MapImageApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Studio").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/image/generate", GenerateAsync).WithName("GenerateImage").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("Draw an image from a refined prompt with the image section's model; waits up to Studio:Wait, else 202 and poll");
        group.MapGet("/image/generate/{request_id}", GetAsync).WithName("GetGeneratedImage").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("One of my image requests: the image when DONE, 202 while PROCESSING");
        return app;
    }

    internal static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> GenerateAsync(
        ImageGenerate body, ClaimsPrincipal principal, AppDbContext db, AiAccess access, JobScheduler scheduler, JobSubmission submission,
        IMediaStore media, MediaLinks links, ChargeEstimator charges, IOptions<StudioOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.RefinedPrompt))
        {
            errors["refined_prompt"] = ["The refined prompt is required."];
        }
        else if (TextLength.Of(body.RefinedPrompt) > options.Value.MaxPromptLength)
        {
            errors["refined_prompt"] = [$"The refined prompt is longer than {options.Value.MaxPromptLength} characters."];
        }
        var (width, height) = StudioRequests.CheckSize(body.Size, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = principal.AiCaller();
        var (decision, refused) = await StudioRequests.DecideAsync(access, caller, Sections.Image, body.Provider, body.Model, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var (id, refusal) = await StudioRequests.SubmitAsync(db, scheduler, submission, options.Value, time, new StudioRequest
        {
            UserId = caller.UserId, Kind = ImageGenerationHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
            Prompt = body.RefinedPrompt!, Width = width, Height = height, Store = body.Store ?? await StudioRequests.StoreByDefaultAsync(db, Sections.Image, cancellationToken),
        }, charges.For(caller, decision.Model, body.RefinedPrompt), cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        return await AnswerAsync(db, media, links, caller.UserId, id, time, cancellationToken) switch
        {
            { } answer => answer,
            null => ApiProblem.Of(ErrorCode.NotFound),
        };
    }

    internal static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string request_id, ClaimsPrincipal principal, AppDbContext db, IMediaStore media, MediaLinks links, TimeProvider time, CancellationToken cancellationToken) =>
        Guid.TryParse(request_id, out var id) && await AnswerAsync(db, media, links, principal.AiCaller().UserId, id, time, cancellationToken) is { } answer
            ? answer
            : ApiProblem.Of(ErrorCode.NotFound);

    /// <summary>The request as it stands: the image when done, 202 while its job works, its error when it failed; null when it is not mine.</summary>
    private static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>?> AnswerAsync(
        AppDbContext db, IMediaStore media, MediaLinks links, Guid userId, Guid id, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await StudioRequests.FindAsync(db, userId, id, ImageGenerationHandler.JobKind, cancellationToken) is not { } found)
        {
            return null;
        }
        var requestId = id.ToString("N");
        if (!JobStatus.IsFinal(found.Status))
        {
            return TypedResults.Accepted($"/v1/image/generate/{requestId}", new StudioPending(requestId, StudioRequests.Processing, $"/v1/image/generate/{requestId}"));
        }
        if (found.Status != JobStatus.Succeeded)
        {
            return StudioRequests.Failure(found);
        }
        var request = found.Request;
        if (request.MediaFileId is not { } fileId || await media.FindAsync(fileId, time.GetUtcNow(), cancellationToken) is not { } file
            || await media.ReadAsync(file, cancellationToken) is not { } bytes)
        {
            // StudioRequests.Done, but its unstored image has been deleted since.
            return ApiProblem.Of(ErrorCode.NotFound, detail: $"The image of request {requestId} is no longer kept.");
        }
        return TypedResults.Ok(new ImageGenerated(requestId, StudioRequests.Done, Convert.ToBase64String(bytes), links.For(file).Url,
            new ImageMetadata(StudioRequests.Seconds(request.ProcessingMs), request.ModelId, $"{file.Width}x{file.Height}")));
    }
}
