using AiPrompts.Api.Errors;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Input;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// The <c>prompt</c> of a response: one of our versioned templates (a prompt type's active version, or the version named),
/// rendered with the strict typed placeholders every template run has: a missing or unknown variable is refused, nothing
/// is called. The self-hosted replacement for OpenAI's withdrawn prompt objects.
/// </summary>
internal sealed class ResponsePrompts(AppDbContext db, ActiveTemplateCache cache, IOptions<PromptRequestOptions> options)
{
    public async Task<(string? Text, int? Version, ProblemHttpResult? Refusal)> RenderAsync(PromptReference prompt, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var variables = TemplateVariables.Parse(prompt.Variables, errors);
        if (errors.Count > 0)
        {
            return (null, null, ApiProblem.ValidationAsProblem(errors.ToDictionary(e => $"prompt.{e.Key}", e => e.Value)));
        }
        string template;
        int version;
        if (prompt.Version is { } asked)
        {
            var row = await db.PromptTemplateVersions.AsNoTracking()
                .FirstOrDefaultAsync(v => v.PromptType == prompt.Id && v.VersionNumber == asked, cancellationToken);
            if (row is null)
            {
                return (null, null, ApiProblem.Of(ErrorCode.NotFound));
            }
            (template, version) = (row.Template, row.VersionNumber);
        }
        else
        {
            var active = await cache.GetAsync(prompt.Id, cancellationToken);
            if (active is null)
            {
                return (null, null, ApiProblem.Of(ErrorCode.NotFound));
            }
            if (active is not { VersionNumber: { } number, Template: { } text })
            {
                return (null, null, ApiProblem.Of(ErrorCode.NoActiveVersion, new Dictionary<string, string> { ["promptType"] = prompt.Id }));
            }
            (template, version) = (text, number);
        }
        var max = options.Value.MaxPromptLength;
        var rendered = TemplateSyntax.Render(template, variables, max);
        if (rendered.TooLong || (rendered.Text is { } result && TextLength.Of(result) > max))
        {
            return (null, null, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]> { ["prompt.variables"] = [$"The rendered prompt is longer than {max} characters."] }));
        }
        return rendered.Succeeded
            ? (rendered.Text, version, null)
            : (null, null, ApiProblem.Of(ErrorCode.TemplateVariablesInvalid, TemplateVariables.Args(rendered.Missing, rendered.Extra)));
    }
}
