using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Templates;

/// <summary>
/// Prompt types as data: which placeholders a type's templates must contain, which variables they may
/// use, the JSON schema of the output, and the section whose model runs them. Anyone signed in may read
/// them (apps render with them); a super admin defines and changes them, audited.
/// </summary>
internal static partial class PromptTemplateTypesApi
{
    public static IEndpointRouteBuilder MapPromptTemplateTypesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ai/prompt-types").WithTags("Prompt templates").RequireScope(ApiKeyScopes.TemplatesRead);
        group.MapGet("/", ListAsync).WithName("listPromptTemplateTypes").WithSummary("The prompt types of templates, with their rules");
        group.MapGet("/{promptType}", GetAsync).WithName("getPromptTemplateType").WithSummary("One prompt type");
        group.MapPut("/{promptType}", PutAsync).WithName("putPromptTemplateType").ProducesProblem(503)
            .WithSummary("Define or change a prompt type (super admin); the active version must still fit the new rules")
            .RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.TemplatesWrite);
        return app;
    }

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<PromptTemplateTypeResponse>>>> ListAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var rows = (await Query(db).ToListAsync(cancellationToken)).OrderBy(x => x.Type.PromptType, StringComparer.Ordinal);
        IReadOnlyList<PromptTemplateTypeResponse> list = [.. rows.Select(x => Of(x.Type, x.Active))];
        return TypedResults.Ok(DataEnvelope.Of(list));
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptTemplateTypeResponse>>, ProblemHttpResult>> GetAsync(string promptType, AppDbContext db, CancellationToken cancellationToken)
    {
        var row = await Query(db, promptType).FirstOrDefaultAsync(cancellationToken);
        return row is null ? ApiProblem.Of(ErrorCode.NotFound) : TypedResults.Ok(DataEnvelope.Of(Of(row.Type, row.Active)));
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptTemplateTypeResponse>>, Created<DataEnvelope<PromptTemplateTypeResponse>>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string promptType,
        PutPromptTemplateTypeRequest body,
        ClaimsPrincipal caller,
        AppDbContext db,
        AuditWriter audit,
        PromptTypes builtIn,
        ActiveTemplateCache cache,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = Validate(promptType, body, builtIn);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var required = body.RequiredPlaceholders!.Distinct(StringComparer.Ordinal).ToList();
        var allowed = body.AllowedVariables!.Union(required, StringComparer.Ordinal).ToList();
        var schema = body.OutputSchema is { ValueKind: JsonValueKind.Object } s ? s.GetRawText() : null;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var type = (await db.PromptTemplates.FromSql($"SELECT * FROM prompt_templates WHERE prompt_type = {promptType} FOR UPDATE").ToListAsync(cancellationToken)).SingleOrDefault();
        var now = time.GetUtcNow();
        var created = type is null;
        object? before = null;
        int? activeVersion = null;
        if (type is null)
        {
            type = new PromptTemplate { PromptType = promptType, Section = body.Section!, CreatedAt = now };
            db.PromptTemplates.Add(type);
        }
        else
        {
            before = AuditState(type);
            var active = await db.PromptTemplateVersions.AsNoTracking().Where(v => v.PromptType == promptType && v.IsActive).FirstOrDefaultAsync(cancellationToken);
            activeVersion = active?.VersionNumber;
            if (active is not null && TemplateRules.Check(active.Template, required, allowed) is { } problem)
            {
                return ApiProblem.Of(problem.Code, problem.Args, $"The active version {active.VersionNumber} would not fit these rules. {problem.Detail}");
            }
            type.Revision++;
            if (!await PromptTemplatesApi.PrepareCacheAsync(cache, promptType, type.Revision, cancellationToken))
            {
                return ApiProblem.Of(ErrorCode.ServiceUnavailable, detail: "The template cache (Redis) is unreachable, so the change was not made. Nothing changed; try again.");
            }
        }
        type.Description = body.Description;
        type.Section = body.Section!;
        type.RequiredPlaceholders = required;
        type.AllowedVariables = allowed;
        type.OutputSchema = schema;
        type.UpdatedAt = now;
        audit.Record(caller.UserId(), created ? "prompt_type.create" : "prompt_type.update", "prompt_type", promptType, before, AuditState(type));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (!created)
        {
            await cache.PublishChangeAsync(promptType, CancellationToken.None);
        }
        var response = DataEnvelope.Of(Of(type, activeVersion));
        return created ? TypedResults.Created($"/api/ai/prompt-types/{promptType}", response) : TypedResults.Ok(response);
    }

    private static Dictionary<string, string[]> Validate(string promptType, PutPromptTemplateTypeRequest body, PromptTypes builtIn)
    {
        var errors = new Dictionary<string, string[]>();
        if (!NamePattern().IsMatch(promptType))
        {
            errors["promptType"] = ["A prompt type is 2 to 64 characters of a-z, 0-9 and _, starting with a letter."];
        }
        else if (builtIn.Find(promptType) is not null)
        {
            errors["promptType"] = [$"'{promptType}' is a prompt type of free-form prompt requests; choose another name."];
        }
        if (body.Description is { Length: > 2000 })
        {
            errors["description"] = ["The description is longer than 2000 characters."];
        }
        if (body.Section is not (Sections.Chat or Sections.Content))
        {
            errors["section"] = [$"The section is '{Sections.Chat}' or '{Sections.Content}'."];
        }
        foreach (var (field, names) in new[] { ("requiredPlaceholders", body.RequiredPlaceholders), ("allowedVariables", body.AllowedVariables) })
        {
            if (names is null)
            {
                errors[field] = ["A list of variable names is required (it may be empty)."];
            }
            else if (names.Count > 100 || names.Any(n => !TemplateSyntax.IsName(n)))
            {
                errors[field] = ["At most 100 names, each a letter or '_' then letters, digits or '_'."];
            }
        }
        if (body.OutputSchema is { } schema && schema.ValueKind != JsonValueKind.Null)
        {
            var problems = schema.ValueKind == JsonValueKind.Object ? JsonSchemaValidator.CheckSchema(schema) : ["#: a schema must be an object"];
            if (problems.Count > 0)
            {
                errors["outputSchema"] = [.. problems];
            }
        }
        return errors;
    }

    private sealed record TypeRow(PromptTemplate Type, int? Active);

    private static IQueryable<TypeRow> Query(AppDbContext db, string? promptType = null) =>
        db.PromptTemplates.AsNoTracking().Where(t => promptType == null || t.PromptType == promptType).Select(t => new TypeRow(t,
            db.PromptTemplateVersions.Where(v => v.PromptType == t.PromptType && v.IsActive).Select(v => (int?)v.VersionNumber).FirstOrDefault()));

    private static PromptTemplateTypeResponse Of(PromptTemplate t, int? active) => new(
        t.PromptType, t.Description, t.Section, t.RequiredPlaceholders, t.AllowedVariables,
        t.OutputSchema is { } schema ? JsonDocument.Parse(schema).RootElement.Clone() : null, active, t.CreatedAt, t.UpdatedAt);

    private static object AuditState(PromptTemplate t) => new { t.Description, t.Section, t.RequiredPlaceholders, t.AllowedVariables, t.OutputSchema };

    [GeneratedRegex("^[a-z][a-z0-9_]{1,63}$")]
    private static partial Regex NamePattern();
}
