using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// The sandbox the contract implies: run a version on sample input through the job engine and the
/// vendor adapters, judge the output against the type's schema, and keep a valid one on the version as
/// testResultJson with lastTestedAt (the Worker writes it with the job's completion). Compare mode runs
/// the active version on the same input beside it.
/// </summary>
internal static class SandboxApi
{
    public const string PurposeCode = "template_sandbox";

    public static IEndpointRouteBuilder MapSandboxApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ai/prompts").WithTags("Prompt templates").RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.TemplatesWrite);
        group.MapPost("/{promptType}/{versionNumber:int}/test", TestAsync).WithName("testPromptVersion")
            .WithSummary("Run a version in the sandbox (compare: true runs the active version beside it); 200 with the result, or 202 while it runs (Prefer: wait=N waits less than Templates:SandboxWait)");
        group.MapGet("/{promptType}/tests/{requestId:guid}", GetTestAsync).RequireScope(ApiKeyScopes.TemplatesRead).WithName("getPromptVersionTest")
            .WithSummary("A sandbox run: its status and, once done, its output judged against the type's schema");
        return app;
    }

    internal static async Task<Results<Ok<DataEnvelope<SandboxResponse>>, Accepted<DataEnvelope<SandboxResponse>>, ValidationProblem, ProblemHttpResult>> TestAsync(
        string promptType,
        int versionNumber,
        TestPromptRequest body,
        HttpContext http,
        ClaimsPrincipal principal,
        AppDbContext db,
        PromptRequestFactory factory,
        JobSubmission submission,
        PromptRequestReader reader,
        MessageCatalog messages,
        IOptions<PromptRequestOptions> requestOptions,
        IOptions<TemplateOptions> options,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var variables = TemplateVariables.Parse(body.Variables, errors);
        PromptRequestsApi.ValidateOptions(body.Provider, body.Model, null, null, requestOptions.Value, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var type = await db.PromptTemplates.AsNoTracking().FirstOrDefaultAsync(t => t.PromptType == promptType, cancellationToken);
        var version = type is null ? null : await db.PromptTemplateVersions.AsNoTracking()
            .FirstOrDefaultAsync(v => v.PromptType == promptType && v.VersionNumber == versionNumber, cancellationToken);
        if (type is null || version is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        List<PromptTemplateVersion> versions = [version];
        if (body.Compare == true)
        {
            var active = await db.PromptTemplateVersions.AsNoTracking().FirstOrDefaultAsync(v => v.PromptType == promptType && v.IsActive, cancellationToken);
            if (active is null || active.VersionNumber == versionNumber)
            {
                return ApiProblem.Validation(new Dictionary<string, string[]>
                {
                    ["compare"] = [active is null ? "The type has no active version to compare with." : "This version is the active one; test it without compare."],
                });
            }
            versions.Add(active);
        }
        var (missing, extra) = Mismatch(versions, variables);
        if (missing.Count > 0 || extra.Count > 0)
        {
            return ApiProblem.Of(ErrorCode.TemplateVariablesInvalid, TemplateVariables.Args(missing, extra));
        }
        var maxLength = requestOptions.Value.MaxPromptLength;
        List<string> prompts = [];
        foreach (var v in versions)
        {
            // PromptRequests:MaxPromptLength holds for a sandbox run as for every other prompt.
            if (Render(v.Template, variables, maxLength) is not { } text)
            {
                return ApiProblem.Validation(new Dictionary<string, string[]>
                {
                    ["variables"] = [$"The rendered prompt of version {v.VersionNumber} is longer than {maxLength} characters."],
                });
            }
            prompts.Add(text);
        }

        var caller = principal.AiCaller();
        var runs = new List<(PromptRequest Request, Job Job)>();
        foreach (var (v, text) in versions.Zip(prompts))
        {
            var (request, job, refusal) = await factory.AddAsync(caller,
                new NewPromptRequest(promptType, type.Section, text, body.Provider, body.Model,
                    new Purpose(PurposeCode, $"Sandbox test of {promptType} v{v.VersionNumber}"), Store: true, TemplateVersion: v.VersionNumber, Sandbox: true),
                cancellationToken);
            if (refusal is not null)
            {
                return refusal;
            }
            runs.Add((request!, job!));
        }
        var submitted = await submission.SubmitAsync([.. runs.Select(r => r.Job)], async ct =>
        {
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken, PreferWait.Of(http.Request, options.Value.SandboxWait, whenAbsent: options.Value.SandboxWait));
        if (submitted.Refusal is { } refused)
        {
            return refused;
        }
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        var results = new List<SandboxRun>();
        foreach (var (request, _) in runs)
        {
            results.Add((await RunOfAsync(principal, reader, request.Id, type.OutputSchema, language, cancellationToken))!);
        }
        var response = DataEnvelope.Of(new SandboxResponse(results[0], results.Count > 1 ? results[1] : null));
        return submitted.Finished
            ? TypedResults.Ok(response)
            : TypedResults.Accepted($"/api/ai/prompts/{promptType}/tests/{runs[0].Request.Id}", response);
    }

    internal static async Task<Results<Ok<DataEnvelope<SandboxRun>>, ProblemHttpResult>> GetTestAsync(
        string promptType, Guid requestId, HttpContext http, ClaimsPrincipal principal, AppDbContext db, PromptRequestReader reader,
        MessageCatalog messages, CancellationToken cancellationToken)
    {
        var schema = await db.PromptTemplates.AsNoTracking().Where(t => t.PromptType == promptType).Select(t => new { t.OutputSchema }).FirstOrDefaultAsync(cancellationToken);
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        var run = schema is null ? null : await RunOfAsync(principal, reader, requestId, schema.OutputSchema, language, cancellationToken);
        return run is null || run.PromptType != promptType ? ApiProblem.Of(ErrorCode.NotFound) : TypedResults.Ok(DataEnvelope.Of(run));
    }

    /// <summary>
    /// A version with the variables it uses (checked beforehand: all are given), or null when the text would
    /// be longer than <paramref name="maxLength"/> characters. Stored templates always parse.
    /// </summary>
    private static string? Render(string template, Dictionary<string, string> variables, int maxLength)
    {
        var used = TemplateSyntax.Parse(template).Placeholders.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var rendered = TemplateSyntax.Render(template, variables.Where(kv => used.Contains(kv.Key)).ToDictionary(StringComparer.Ordinal), maxLength);
        if (rendered.TooLong)
        {
            return null;
        }
        var text = rendered.Text ?? throw new InvalidOperationException("A stored template does not render.");
        return TextLength.Of(text) > maxLength ? null : text;
    }

    /// <summary>Every variable some version uses must be given, and every given one must be used by some version.</summary>
    private static (IReadOnlyList<string> Missing, IReadOnlyList<string> Extra) Mismatch(List<PromptTemplateVersion> versions, Dictionary<string, string> variables)
    {
        var used = versions.SelectMany(v => TemplateSyntax.Parse(v.Template).Placeholders).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return ([.. used.Where(n => !variables.ContainsKey(n)).Order(StringComparer.Ordinal)], [.. variables.Keys.Where(n => !used.Contains(n)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>A sandbox request as a run; null when it is not a sandbox request the caller may see.</summary>
    private static async Task<SandboxRun?> RunOfAsync(ClaimsPrincipal principal, PromptRequestReader reader, Guid id, string? outputSchema, string language, CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null || !row.Request.Sandbox || row.Request.TemplateVersion is not { } versionNumber)
        {
            return null;
        }
        var detail = await reader.DetailAsync(row, language, cancellationToken);
        var judged = detail.Status == PromptRequestStatus.Completed && detail.Response?.Text is { } text ? SandboxOutput.Judge(text, outputSchema) : null;
        return new SandboxRun(
            detail.Id, detail.Status, detail.PromptType, versionNumber, detail.Provider, detail.Model, detail.Response?.Text,
            judged?.Json is { } json ? JsonDocument.Parse(json).RootElement.Clone() : null,
            judged?.Valid, judged?.Errors ?? [], detail.Error, detail.CreatedAt, detail.FinishedAt);
    }
}
