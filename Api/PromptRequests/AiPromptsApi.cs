using System.Security.Claims;
using System.Text.Json.Serialization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.PromptRequests;

/// <summary>The Arabic document's create shape: <c>{"model": "gpt-3.5-turbo", "prompt_type": "text", "prompt_text": "What is AI?"}</c>.</summary>
public sealed record AiPromptCreate(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("prompt_type")] string? PromptType,
    [property: JsonPropertyName("prompt_text")] string? PromptText,
    [property: JsonPropertyName("provider")] string? Provider = null,
    [property: JsonPropertyName("purpose")] string? Purpose = null);

/// <summary>The document's summary: the request without its response (its <c>prompt_requests</c> row).</summary>
public sealed record AiPromptSummary(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("user_id")] Guid UserId,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("prompt_type")] string PromptType,
    [property: JsonPropertyName("prompt_text")] string? PromptText,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>The document's detail: the request with <c>response_text</c> and <c>duration_ms</c> once there is a response.</summary>
public sealed record AiPromptDetail(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("user_id")] Guid UserId,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("prompt_type")] string PromptType,
    [property: JsonPropertyName("prompt_text")] string? PromptText,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("response_text")] string? ResponseText,
    [property: JsonPropertyName("duration_ms")] int? DurationMs,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>
/// The Arabic document's own three operations, at its paths and in its field names, over
/// the same prompt requests and job engine as <c>/api/v1/prompt-requests</c>. As the document says, every
/// prompt and response made here is stored.
/// </summary>
internal static class AiPromptsApi
{
    public static IEndpointRouteBuilder MapAiPromptsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ai/prompts").WithTags("Prompts").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/", CreateAsync).WithName("CreateAiPrompt")
            .WithSummary("Submit a prompt: stored as pending, run in the background; poll GET /ai/prompts/{id}");
        group.MapGet("/", ListAsync).WithName("ListAiPrompts").WithSummary("My prompts, newest first (Link: rel=next for the next page)");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetAiPrompt").WithSummary("One prompt with its response_text and duration_ms once completed");
        return app;
    }

    internal static async Task<Results<Created<AiPromptDetail>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        AiPromptCreate body, ClaimsPrincipal principal, AppDbContext db, PromptRequestFactory factory, PromptTypes types,
        JobSubmission submission, IOptions<PromptRequestOptions> options, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var errors = new Dictionary<string, string[]>();
        PromptRequestsApi.ValidatePrompt(body.PromptType, body.PromptText, ("prompt_type", "prompt_text"), types, settings, errors);
        PromptRequestsApi.ValidateOptions(body.Provider, body.Model, body.Purpose is null ? null : new Purpose(null, body.Purpose), null, settings, errors);
        if (errors.Remove("purpose.text", out var purposeErrors))
        {
            errors["purpose"] = purposeErrors;
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var type = types.Find(body.PromptType!)!;
        var (request, job, refusal) = await factory.AddAsync(principal.AiCaller(),
            new NewPromptRequest(type.Name, type.Section, body.PromptText!, body.Provider, body.Model,
                body.Purpose is null ? null : new Purpose(null, body.Purpose), Store: true),
            cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var submitted = await submission.SubmitAsync([job!], async ct =>
        {
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        if (submitted.Refusal is { } refused)
        {
            return refused;
        }
        return TypedResults.Created($"/ai/prompts/{request!.Id}", Detail(new PromptRequestRow(request, job!, null)));
    }

    internal static async Task<Results<Ok<IReadOnlyList<AiPromptSummary>>, ValidationProblem>> ListAsync(
        HttpContext http, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken, int? limit = null, string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = Paging.Read(limit, cursor, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var userId = principal.UserId();
        var query =
            from r in db.PromptRequests.AsNoTracking()
            join j in db.Jobs.AsNoTracking() on r.JobId equals j.Id
            where r.UserId == userId && !r.Sandbox
            select new { r, j };
        var (rows, next) = Paging.Cut(await query.Window(page, x => x.r.CreatedAt, x => x.r.Id).ToListAsync(cancellationToken), page, x => (x.r.CreatedAt, x.r.Id));
        if (next is not null)
        {
            http.Response.Headers.Link = $"</ai/prompts/?limit={page.Limit}&cursor={next}>; rel=\"next\"";
        }
        IReadOnlyList<AiPromptSummary> list = [.. rows.Select(x => new AiPromptSummary(
            x.r.Id, x.r.UserId, x.r.ModelId, x.r.ProviderId, x.r.PromptType, x.r.PromptText, PromptRequestStatus.FromJob(x.j.Status), x.r.CreatedAt))];
        return TypedResults.Ok(list);
    }

    internal static async Task<Results<Ok<AiPromptDetail>, ProblemHttpResult>> GetAsync(
        Guid id, ClaimsPrincipal principal, PromptRequestReader reader, CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        return row is null || row.Request.Sandbox
            ? ApiProblem.Of(AiPrompts.Core.Errors.ErrorCode.NotFound)
            : TypedResults.Ok(Detail(row));
    }

    private static AiPromptDetail Detail(PromptRequestRow row)
    {
        var (request, job, response) = row;
        return new AiPromptDetail(request.Id, request.UserId, request.ModelId, request.ProviderId, request.PromptType, request.PromptText,
            row.Status, request.CreatedAt, response?.ResponseText, response?.DurationMs,
            job.Status == JobStatus.Succeeded ? null : job.LastErrorMessage ?? job.LastErrorCode);
    }
}
