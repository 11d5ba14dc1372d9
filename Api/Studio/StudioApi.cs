using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Media;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Studio;

public sealed class StudioOptions
{
    public const string Section = "Studio";

    /// <summary>How long a studio call waits for its job before it answers 202 with where to poll.</summary>
    public TimeSpan Wait { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxAttempts { get; set; } = 3;

    public int MaxPromptLength { get; set; } = 4000;
}

/// <summary><c>POST /v1/image/generate</c>, as the Vietnamese document shows it (plus the caller's choices).</summary>
public sealed record ImageGenerate(
    [property: JsonPropertyName("refined_prompt")] string? RefinedPrompt,
    [property: JsonPropertyName("size")] string? Size = null,
    [property: JsonPropertyName("provider")] string? Provider = null,
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("store")] bool? Store = null);

public sealed record ImageMetadata(
    [property: JsonPropertyName("processing_time")] double ProcessingTime,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("size")] string Size);

/// <summary>The document's answer <c>{request_id, image_base64, metadata: {processing_time, model, size}}</c>, with the stored image's URL.</summary>
public sealed record ImageGenerated(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("image_base64")] string ImageBase64,
    [property: JsonPropertyName("image_url")] string ImageUrl,
    [property: JsonPropertyName("metadata")] ImageMetadata Metadata);

/// <summary>Still drawing: where to look again.</summary>
public sealed record StudioPending(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("poll_url")] string PollUrl);

/// <summary>
/// The Vietnamese document's image-generation service (REQUIREMENTS §C). The picture is drawn by the Worker
/// (never inside the HTTP request) through the image section's model; the call waits a bounded time
/// (<c>Studio:Wait</c>), then answers 202 with <c>request_id</c> and where to poll. Statuses are the
/// document's: PROCESSING, DONE.
/// </summary>
internal static class StudioApi
{
    public const string Processing = "PROCESSING";
    public const string Done = "DONE";

    public static IEndpointRouteBuilder MapStudioApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Studio (the Vietnamese document's services)").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/image/generate", GenerateAsync).WithName("GenerateImage").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("Draw an image from a refined prompt with the image section's model; waits up to Studio:Wait, else 202 and poll");
        group.MapGet("/image/generate/{request_id}", GetAsync).WithName("GetGeneratedImage").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("One of my image requests: the image when DONE, 202 while PROCESSING");
        return app;
    }

    internal static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> GenerateAsync(
        ImageGenerate body, ClaimsPrincipal principal, AppDbContext db, AiAccess access, JobScheduler scheduler, PromptRequestEvents events,
        IMediaStore media, MediaLinks links, IOptions<StudioOptions> options, TimeProvider time, CancellationToken cancellationToken)
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
        if (!TryParseSize(body.Size ?? "1024x1024", out var width, out var height))
        {
            errors["size"] = ["The size is WIDTHxHEIGHT, each from 64 to 4096 pixels, e.g. 1024x1024."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var caller = principal.AiCaller();
        var decision = await access.ForSectionAsync(caller, Sections.Image, body.Provider, body.Model, cancellationToken);
        if (decision.Provider is null || decision.Model is null)
        {
            var named = string.Join('/', new[] { body.Provider, body.Model }.Where(n => !string.IsNullOrWhiteSpace(n)));
            return ApiProblem.ValidationAsProblem(new Dictionary<string, string[]> { ["model"] = [named.Length == 0 ? "No enabled image model." : $"No enabled image model '{named}'."] });
        }
        if (decision.Outcome.Refusal is { } refusal)
        {
            return ApiProblem.Of(refusal, decision.MessageArgs);
        }

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        // Listening before the job exists: its end cannot be missed.
        await using var finished = await FinishSignal.StartAsync(events, id);
        var job = scheduler.Create(ImageGenerationHandler.JobKind, id, options.Value.MaxAttempts);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync(cancellationToken);
            db.StudioRequests.Add(new StudioRequest
            {
                Id = id, UserId = caller.UserId, Kind = ImageGenerationHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
                Prompt = body.RefinedPrompt!, Width = width, Height = height, Store = body.Store ?? true, JobId = job.Id, CreatedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await scheduler.WakeWorkersAsync(CancellationToken.None);
        await finished.WaitAsync(db, job.Id, options.Value.Wait, time, cancellationToken);
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
        var found = await db.StudioRequests.AsNoTracking().Where(r => r.Id == id && r.UserId == userId)
            .Join(db.Jobs.AsNoTracking(), r => r.JobId, j => j.Id, (r, j) => new { Request = r, j.Status, j.LastErrorCode, j.LastErrorArgs })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }
        var requestId = id.ToString("N");
        if (!JobStatus.IsFinal(found.Status))
        {
            return TypedResults.Accepted($"/v1/image/generate/{requestId}", new StudioPending(requestId, Processing, $"/v1/image/generate/{requestId}"));
        }
        if (found.Status != JobStatus.Succeeded)
        {
            var code = ErrorCode.Find(found.LastErrorCode) ?? (found.Status == JobStatus.Cancelled ? ErrorCode.Cancelled : ErrorCode.InternalError);
            return ApiProblem.Of(code, found.LastErrorArgs is { } args ? JsonSerializer.Deserialize<Dictionary<string, string>>(args) : null);
        }
        var request = found.Request;
        if (request.MediaFileId is not { } fileId || await media.FindAsync(fileId, time.GetUtcNow(), cancellationToken) is not { } file
            || await media.ReadAsync(fileId, cancellationToken) is not { } bytes)
        {
            // Done, but its unstored image has been deleted since.
            return ApiProblem.Of(ErrorCode.NotFound, detail: $"The image of request {requestId} is no longer kept.");
        }
        return TypedResults.Ok(new ImageGenerated(requestId, Done, Convert.ToBase64String(bytes), links.For(file).Url,
            new ImageMetadata(Math.Round((request.ProcessingMs ?? 0) / 1000.0, 3), request.ModelId, $"{file.Width}x{file.Height}")));
    }

    private static bool TryParseSize(string size, out int width, out int height)
    {
        width = height = 0;
        var parts = size.Split('x', 'X');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out width) && width is >= 64 and <= 4096
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out height) && height is >= 64 and <= 4096;
    }
}
