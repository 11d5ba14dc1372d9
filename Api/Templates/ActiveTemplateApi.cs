using AiPrompts.Core.ApiKeys;
using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Jobs;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Templates;

/// <summary>
/// Using a type's active version, for any signed-in caller: read it (from the in-process cache, kept
/// right by <see cref="ActiveTemplateCache"/>) to render it yourself, or run it: the server renders it
/// strictly and submits the text as a prompt request (same statuses, events and usage).
/// </summary>
internal static class ActiveTemplateApi
{
    public static IEndpointRouteBuilder MapActiveTemplateApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ai/prompts").WithTags("Prompt templates").RequireScope(ApiKeyScopes.Prompts);
        group.MapGet("/{promptType}/active", GetActiveAsync).WithName("getActivePromptVersion")
            .WithSummary("The active version of a prompt type, with the variables it takes");
        group.MapPost("/{promptType}/run", RunAsync).WithName("runActivePromptVersion")
            .WithSummary("Render the active version with the variables given and submit it as a prompt request (202, or 200 with Prefer: wait=N)");
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

    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ValidationProblem, ProblemHttpResult>> RunAsync(
        string promptType,
        RunPromptRequest body,
        HttpContext http,
        ClaimsPrincipal principal,
        AppDbContext db,
        ActiveTemplateCache cache,
        PromptRequestFactory factory,
        JobScheduler scheduler,
        JobEvents events,
        PromptRequestReader reader,
        MessageCatalog messages,
        IOptions<PromptRequestOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var errors = new Dictionary<string, string[]>();
        var variables = TemplateVariables.Parse(body.Variables, errors);
        PromptRequestsApi.ValidateOptions(body.Provider, body.Model, body.Purpose, body.Metadata, settings, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var active = await cache.GetAsync(promptType, cancellationToken);
        if (active is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (active is not { VersionNumber: { } number, Template: { } template })
        {
            return ApiProblem.Of(ErrorCode.NoActiveVersion, new Dictionary<string, string> { ["promptType"] = promptType });
        }
        var rendered = TemplateSyntax.Render(template, variables, settings.MaxPromptLength);
        if (rendered.TooLong || (rendered.Text is { } text && TextLength.Of(text) > settings.MaxPromptLength))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["variables"] = [$"The rendered prompt is longer than {settings.MaxPromptLength} characters."] });
        }
        if (!rendered.Succeeded)
        {
            return ApiProblem.Of(ErrorCode.TemplateVariablesInvalid, TemplateVariables.Args(rendered.Missing, rendered.Extra));
        }

        var metadata = body.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
        var (request, job, refusal) = await factory.AddAsync(principal.AiCaller(),
            new NewPromptRequest(promptType, active.Section, rendered.Text!, body.Provider, body.Model, body.Purpose, metadata, body.Store, TemplateVersion: number),
            cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        var wait = PreferWait.Of(http.Request, settings.MaxWait);
        await using var finished = wait > TimeSpan.Zero ? await JobWaiter.StartAsync(events, job!.Id) : null;
        await db.SaveChangesAsync(cancellationToken);
        await scheduler.WakeWorkersAsync(cancellationToken);

        return await PromptRequestsApi.AnswerAsync(http, principal, db, reader, request!, job!, finished, wait, language, time, cancellationToken);
    }
}
