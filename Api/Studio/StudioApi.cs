using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Media;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Budgets;
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

/// <summary><c>POST /v1/prompt/refine</c>, as the Vietnamese document shows it (plus the caller's choices).</summary>
public sealed record PromptRefine(
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("style")] string? Style = null,
    [property: JsonPropertyName("lang")] string? Lang = null,
    [property: JsonPropertyName("topic")] string? Topic = null,
    [property: JsonPropertyName("image_url")] string? ImageUrl = null,
    [property: JsonPropertyName("provider")] string? Provider = null,
    [property: JsonPropertyName("model")] string? Model = null);

public sealed record RefineMetadata(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("processing_time")] double ProcessingTime);

/// <summary>The document's answer <c>{refined_prompt, intent, keywords, metadata: {model, processing_time}}</c>.</summary>
public sealed record PromptRefined(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("refined_prompt")] string RefinedPrompt,
    [property: JsonPropertyName("intent")] string Intent,
    [property: JsonPropertyName("keywords")] IReadOnlyList<string> Keywords,
    [property: JsonPropertyName("metadata")] RefineMetadata Metadata);

/// <summary>Still working: where to look again.</summary>
public sealed record StudioPending(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("poll_url")] string PollUrl);

/// <summary>
/// The Vietnamese document's refinement and image-generation services (REQUIREMENTS §C). The work is done by
/// the Worker (never inside the HTTP request): the refinement through the content section's model, the
/// picture through the image section's; the call waits a bounded time (<c>Studio:Wait</c>), then answers 202
/// with <c>request_id</c> and where to poll. Statuses are the document's: PROCESSING, DONE.
/// </summary>
internal static partial class StudioApi
{
    public const string Processing = "PROCESSING";
    public const string Done = "DONE";
    public const string Failed = "FAILED";
    private const int MaxLabelLength = 200;

    public static IEndpointRouteBuilder MapStudioApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Studio (the Vietnamese document's services)").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/prompt/refine", RefineAsync).WithName("RefinePrompt").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("Improve a prompt, classify its intent and list its keywords with the content section's model (structured output); waits up to Studio:Wait, else 202 and poll");
        group.MapGet("/prompt/refine/{request_id}", GetRefinedAsync).WithName("GetRefinedPrompt").Produces<StudioPending>(StatusCodes.Status202Accepted)
            .WithSummary("One of my refinements: the answer when DONE, 202 while PROCESSING");
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
        var (width, height) = CheckSize(body.Size, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var caller = principal.AiCaller();
        var (decision, refused) = await DecideAsync(access, caller, Sections.Image, body.Provider, body.Model, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var (id, refusal) = await SubmitAsync(db, scheduler, submission, options.Value, time, new StudioRequest
        {
            UserId = caller.UserId, Kind = ImageGenerationHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
            Prompt = body.RefinedPrompt!, Width = width, Height = height, Store = body.Store ?? await StoreByDefaultAsync(db, Sections.Image, cancellationToken),
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

    internal static async Task<Results<Ok<PromptRefined>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> RefineAsync(
        PromptRefine body, ClaimsPrincipal principal, AppDbContext db, AiAccess access, JobScheduler scheduler, JobSubmission submission,
        ChargeEstimator charges, IOptions<StudioOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        CheckRefinement(body.Prompt, body.Style, body.Lang, body.Topic, body.ImageUrl, "prompt", options.Value, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var caller = principal.AiCaller();
        var (decision, refused) = await DecideAsync(access, caller, Sections.Content, body.Provider, body.Model, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }
        var (id, refusal) = await SubmitAsync(db, scheduler, submission, options.Value, time, new StudioRequest
        {
            UserId = caller.UserId, Kind = PromptRefineHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
            Prompt = body.Prompt!.Trim(), Style = Clean(body.Style), Lang = Clean(body.Lang), Topic = Clean(body.Topic), ImageUrl = Clean(body.ImageUrl), Store = true,
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

    /// <summary>Whether a request that does not say keeps its output: the section's default, set by the super admin.</summary>
    internal static Task<bool> StoreByDefaultAsync(AppDbContext db, string section, CancellationToken cancellationToken) =>
        db.Sections.AsNoTracking().Where(s => s.Name == section).Select(s => s.StoreByDefault).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The section's model (or the one named) for the caller, or why it cannot be used: no such model is a field error, no key a refusal.</summary>
    internal static async Task<(AccessDecision Decision, ProblemHttpResult? Refusal)> DecideAsync(
        AiAccess access, AiCaller caller, string section, string? provider, string? model, CancellationToken cancellationToken)
    {
        var decision = await access.ForSectionAsync(caller, section, provider, model, cancellationToken);
        if (decision.Provider is null || decision.Model is null)
        {
            var named = string.Join('/', new[] { provider, model }.Where(n => !string.IsNullOrWhiteSpace(n)));
            return (decision, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]> { ["model"] = [named.Length == 0 ? $"No enabled {section} model." : $"No enabled {section} model '{named}'."] }));
        }
        return (decision, decision.Outcome.Refusal is { } refusal ? ApiProblem.Of(refusal, decision.MessageArgs) : null);
    }

    /// <summary>The refinement's fields, checked the same way for the service and for a conversation's message.</summary>
    internal static void CheckRefinement(string? prompt, string? style, string? lang, string? topic, string? imageUrl, string promptField, StudioOptions options, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(prompt))
        {
            errors[promptField] = [$"The {promptField} is required."];
        }
        else if (TextLength.Of(prompt) > options.MaxPromptLength)
        {
            errors[promptField] = [$"The {promptField} is longer than {options.MaxPromptLength} characters."];
        }
        foreach (var (field, value) in (ReadOnlySpan<(string, string?)>)[("style", style), ("topic", topic)])
        {
            if (value is not null && TextLength.Of(value) > MaxLabelLength)
            {
                errors[field] = [$"The {field} is longer than {MaxLabelLength} characters."];
            }
        }
        if (lang is not null && !LanguageTag().IsMatch(lang))
        {
            errors["lang"] = ["The lang is a language tag such as vi, en or pt-BR."];
        }
        if (imageUrl is not null && (imageUrl.Length > 2048 || !Uri.TryCreate(imageUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors["image_url"] = ["The image_url is an absolute http or https URL of at most 2048 characters."];
        }
    }

    /// <summary>Submits the request with its job and waits up to Studio:Wait for it to end; the refusal when it is not admitted.</summary>
    private static async Task<(Guid Id, ProblemHttpResult? Refusal)> SubmitAsync(AppDbContext db, JobScheduler scheduler, JobSubmission submission, StudioOptions options, TimeProvider time,
        StudioRequest request, JobCharge charge, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        request.Id = Guid.CreateVersion7(now);
        request.CreatedAt = now;
        var job = scheduler.Create(request.Kind, request.Id, options.MaxAttempts, charge);
        request.JobId = job.Id;
        var submitted = await submission.SubmitAsync([job], async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
            db.StudioRequests.Add(request);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken, options.Wait);
        return (request.Id, submitted.Refusal);
    }

    /// <summary>A refinement as it stands: the answer when done, 202 while its job works, its error when it failed; null when it is not mine.</summary>
    private static async Task<Results<Ok<PromptRefined>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>?> RefinedAsync(
        AppDbContext db, Guid userId, Guid id, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, userId, id, PromptRefineHandler.JobKind, cancellationToken) is not { } found)
        {
            return null;
        }
        var requestId = id.ToString("N");
        if (!JobStatus.IsFinal(found.Status))
        {
            return TypedResults.Accepted($"/v1/prompt/refine/{requestId}", new StudioPending(requestId, Processing, $"/v1/prompt/refine/{requestId}"));
        }
        if (found.Status != JobStatus.Succeeded || found.Request.Result is not { } stored)
        {
            return Failure(found);
        }
        var result = JsonSerializer.Deserialize<RefineResult>(stored)!;
        return TypedResults.Ok(new PromptRefined(requestId, Done, result.RefinedPrompt, result.Intent, result.Keywords,
            new RefineMetadata(found.Request.ModelId, Seconds(found.Request.ProcessingMs))));
    }

    private static async Task<Found?> FindAsync(AppDbContext db, Guid userId, Guid id, string kind, CancellationToken cancellationToken) =>
        await db.StudioRequests.AsNoTracking().Where(r => r.Id == id && r.UserId == userId && r.Kind == kind)
            .Join(db.Jobs.AsNoTracking(), r => r.JobId, j => j.Id, (r, j) => new Found(r, j.Status, j.LastErrorCode, j.LastErrorArgs))
            .FirstOrDefaultAsync(cancellationToken);

    private static ProblemHttpResult Failure(Found found)
    {
        var code = ErrorCode.Find(found.LastErrorCode) ?? (found.Status == JobStatus.Cancelled ? ErrorCode.Cancelled : ErrorCode.InternalError);
        return ApiProblem.Of(code, found.LastErrorArgs is { } args ? JsonSerializer.Deserialize<Dictionary<string, string>>(args) : null);
    }

    private static double Seconds(int? milliseconds) => Math.Round((milliseconds ?? 0) / 1000.0, 3);

    internal static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private sealed record Found(StudioRequest Request, string Status, string? LastErrorCode, string? LastErrorArgs);

    internal static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string request_id, ClaimsPrincipal principal, AppDbContext db, IMediaStore media, MediaLinks links, TimeProvider time, CancellationToken cancellationToken) =>
        Guid.TryParse(request_id, out var id) && await AnswerAsync(db, media, links, principal.AiCaller().UserId, id, time, cancellationToken) is { } answer
            ? answer
            : ApiProblem.Of(ErrorCode.NotFound);

    /// <summary>The request as it stands: the image when done, 202 while its job works, its error when it failed; null when it is not mine.</summary>
    private static async Task<Results<Ok<ImageGenerated>, Accepted<StudioPending>, ValidationProblem, ProblemHttpResult>?> AnswerAsync(
        AppDbContext db, IMediaStore media, MediaLinks links, Guid userId, Guid id, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, userId, id, ImageGenerationHandler.JobKind, cancellationToken) is not { } found)
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
            return Failure(found);
        }
        var request = found.Request;
        if (request.MediaFileId is not { } fileId || await media.FindAsync(fileId, time.GetUtcNow(), cancellationToken) is not { } file
            || await media.ReadAsync(file, cancellationToken) is not { } bytes)
        {
            // Done, but its unstored image has been deleted since.
            return ApiProblem.Of(ErrorCode.NotFound, detail: $"The image of request {requestId} is no longer kept.");
        }
        return TypedResults.Ok(new ImageGenerated(requestId, Done, Convert.ToBase64String(bytes), links.For(file).Url,
            new ImageMetadata(Seconds(request.ProcessingMs), request.ModelId, $"{file.Width}x{file.Height}")));
    }

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
    private static partial Regex LanguageTag();

    /// <summary>An image size (WIDTHxHEIGHT, default 1024x1024), or a field error.</summary>
    internal static (int Width, int Height) CheckSize(string? size, Dictionary<string, string[]> errors)
    {
        if (!TryParseSize(size ?? "1024x1024", out var width, out var height))
        {
            errors["size"] = ["The size is WIDTHxHEIGHT, each from 64 to 4096 pixels, e.g. 1024x1024."];
        }
        return (width, height);
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
