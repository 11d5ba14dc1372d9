using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// A prompt request whose text is a type's active version rendered by the server, strictly (every placeholder given,
/// nothing else): the same statuses, events and usage as any prompt request, and the version it ran is recorded.
/// </summary>
internal static class TemplateRunApi
{
    public static IEndpointRouteBuilder MapTemplateRunApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/ai/prompts").WithTags("Prompt templates").RequireScope(ApiKeyScopes.Prompts)
            .MapPost("/{promptType}/run", RunAsync).WithName("runActivePromptVersion")
            .WithSummary("Render the active version with the variables given and submit it as a prompt request (202, or 200 with Prefer: wait=N)");
        return app;
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ValidationProblem, ProblemHttpResult>> RunAsync(
        string promptType,
        RunPromptRequest body,
        HttpContext http,
        ClaimsPrincipal principal,
        AppDbContext db,
        ActiveTemplateCache cache,
        PromptRequestFactory factory,
        JobSubmission submission,
        PromptRequestReader reader,
        MessageCatalog messages,
        IOptions<PromptRequestOptions> options,
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
        var submitted = await submission.SubmitAsync([job!], async ct =>
        {
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken, wait);
        return submitted.Refusal is { } refused
            ? refused
            : await PromptRequestsApi.AnswerAsync(http, principal, reader, request!, job!, submitted, wait, language, cancellationToken);
    }
}
