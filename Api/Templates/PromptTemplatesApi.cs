using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Templates;

/// <summary>
/// Versioned prompt templates, exactly as contracts/prompt-versions.openapi.yaml (ADR-029) says: list,
/// create, delete, activate and annotate the versions of a prompt type, behind <c>system.manage_all</c>.
/// Around the contract: one version, a diff, the sandbox (<see cref="PromptRequests.SandboxApi"/>) and the
/// active version for apps (<see cref="ActiveTemplateApi"/>, and <see cref="PromptRequests.TemplateRunApi"/> to run it).
/// </summary>
internal static class PromptTemplatesApi
{
    public const string AuditEntity = "prompt_template_version";

    public static IEndpointRouteBuilder MapPromptTemplatesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ai/prompts").WithTags("Prompt templates");
        var manage = group.MapGroup("/").RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.TemplatesWrite);
        manage.MapGet("/{promptType}", ListAsync).RequireScope(ApiKeyScopes.TemplatesRead).WithName("listPromptVersions")
            .WithSummary("All versions of a prompt type, newest version first");
        manage.MapPost("/{promptType}", CreateAsync).WithName("createPromptVersion")
            .WithSummary("A new inactive version; its number is the next one; the template must fit the type");
        manage.MapGet("/{promptType}/{versionNumber:int}", GetAsync).RequireScope(ApiKeyScopes.TemplatesRead).WithName("getPromptVersion").WithSummary("One version");
        manage.MapDelete("/{promptType}/{versionNumber:int}", DeleteAsync).WithName("deletePromptVersion")
            .WithSummary("Delete a version (never the active one)");
        manage.MapPost("/{promptType}/{versionNumber:int}/activate", ActivateAsync).WithName("activatePromptVersion").ProducesProblem(503)
            .WithSummary("Make this version the active one, in one transaction; every cached copy is dropped before this answers");
        manage.MapPatch("/{promptType}/{versionNumber:int}/note", UpdateNoteAsync).WithName("updatePromptNote")
            .WithSummary("Set or clear the manual note (no new version, no audit entry)");
        manage.MapGet("/{promptType}/diff", DiffAsync).RequireScope(ApiKeyScopes.TemplatesRead).WithName("diffPromptVersions")
            .WithSummary("Line diff between two versions: ?from=N&to=M");
        return app;
    }

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<AiPromptResponse>>>> ListAsync(string promptType, AppDbContext db, CancellationToken cancellationToken)
    {
        var versions = await db.PromptTemplateVersions.AsNoTracking()
            .Where(v => v.PromptType == promptType)
            .OrderByDescending(v => v.VersionNumber)
            .ToListAsync(cancellationToken);
        IReadOnlyList<AiPromptResponse> list = [.. versions.Select(AiPromptResponse.Of)];
        return TypedResults.Ok(DataEnvelope.Of(list));
    }

    internal static async Task<Results<Ok<DataEnvelope<AiPromptResponse>>, ProblemHttpResult>> GetAsync(
        string promptType, int versionNumber, AppDbContext db, CancellationToken cancellationToken)
    {
        var version = await db.PromptTemplateVersions.AsNoTracking()
            .FirstOrDefaultAsync(v => v.PromptType == promptType && v.VersionNumber == versionNumber, cancellationToken);
        return version is null ? ApiProblem.Of(ErrorCode.NotFound) : TypedResults.Ok(DataEnvelope.Of(AiPromptResponse.Of(version)));
    }

    /// <summary>
    /// The number comes from the type's counter, incremented in the same transaction as the insert: concurrent
    /// creates queue on the type's row, and a failed insert gives its number back. So numbers have no gaps.
    /// </summary>
    internal static async Task<Results<Created<DataEnvelope<AiPromptResponse>>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string promptType,
        CreateAiPromptRequest body,
        ClaimsPrincipal caller,
        AppDbContext db,
        AuditWriter audit,
        IOptions<TemplateOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body.Template))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["template"] = ["The template is required."] });
        }
        if (TextLength.Of(body.Template) > options.Value.MaxTemplateLength)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["template"] = [$"The template is longer than {options.Value.MaxTemplateLength} characters."] });
        }
        var type = await db.PromptTemplates.AsNoTracking().FirstOrDefaultAsync(t => t.PromptType == promptType, cancellationToken);
        if (type is null)
        {
            return ApiProblem.Of(ErrorCode.PromptTypeUnknown, new Dictionary<string, string> { ["promptType"] = promptType });
        }
        if (TemplateRules.Check(body.Template, type.RequiredPlaceholders, type.AllowedVariables) is { } problem)
        {
            return ApiProblem.Of(problem.Code, problem.Args, problem.Detail);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var numbers = await db.Database
            .SqlQuery<int>($"UPDATE prompt_templates SET next_version = next_version + 1 WHERE prompt_type = {promptType} RETURNING next_version - 1 AS \"Value\"")
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var version = new PromptTemplateVersion
        {
            Id = Guid.CreateVersion7(now),
            PromptType = promptType,
            VersionNumber = numbers.Single(),
            Template = body.Template,
            CreatedBy = caller.UserId(),
            CreatedAt = now,
        };
        db.PromptTemplateVersions.Add(version);
        audit.Record(caller.UserId(), "prompt_version.create", AuditEntity, EntityId(version), null, AuditState(version));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/ai/prompts/{promptType}/{version.VersionNumber}", DataEnvelope.Of(AiPromptResponse.Of(version)));
    }

    /// <summary>Locks the version first, so an activation of it cannot slip in between the check and the delete.</summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string promptType, int versionNumber, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var version = await LockVersionAsync(db, promptType, versionNumber, cancellationToken);
        if (version is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (version.IsActive)
        {
            return ApiProblem.Of(ErrorCode.ActiveVersionNotDeletable);
        }
        db.PromptTemplateVersions.Remove(version);
        audit.Record(caller.UserId(), "prompt_version.delete", AuditEntity, EntityId(version), AuditState(version), null);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// One transaction: the type's row is locked (activations of a type run one at a time) and its revision
    /// raised, the Redis copy dropped (Redis unreachable: 503 and nothing changes), the old active version
    /// deactivated, this one activated, the audit row written. After the commit, every cached copy is
    /// replaced or dropped before the answer goes out.
    /// </summary>
    internal static async Task<Results<Ok<DataEnvelope<AiPromptResponse>>, ProblemHttpResult>> ActivateAsync(
        string promptType,
        int versionNumber,
        ClaimsPrincipal caller,
        AppDbContext db,
        AuditWriter audit,
        ActiveTemplateCache cache,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        AiPromptResponse activated;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var locked = await db.Database
                .SqlQuery<long>($"UPDATE prompt_templates SET revision = revision + 1, updated_at = {now} WHERE prompt_type = {promptType} RETURNING revision AS \"Value\"")
                .ToListAsync(cancellationToken);
            var version = locked.Count == 0 ? null : await LockVersionAsync(db, promptType, versionNumber, cancellationToken);
            if (version is null)
            {
                return ApiProblem.Of(ErrorCode.NotFound);
            }
            // The type's rules may have changed since this version was written: only a fitting one goes live.
            var rules = await db.PromptTemplates.AsNoTracking().FirstAsync(t => t.PromptType == promptType, cancellationToken);
            if (TemplateRules.Check(version.Template, rules.RequiredPlaceholders, rules.AllowedVariables) is { } problem)
            {
                return ApiProblem.Of(problem.Code, problem.Args, problem.Detail);
            }
            if (version.IsActive)
            {
                // Already active: nothing changes, nothing to audit (the rollback returns the revision).
                return TypedResults.Ok(DataEnvelope.Of(AiPromptResponse.Of(version)));
            }
            var previous = await db.PromptTemplateVersions.AsNoTracking()
                .Where(v => v.PromptType == promptType && v.IsActive)
                .Select(v => (int?)v.VersionNumber)
                .FirstOrDefaultAsync(cancellationToken);
            // Deactivate first: the partial unique index allows one active version at every statement.
            await db.PromptTemplateVersions.Where(v => v.PromptType == promptType && v.IsActive)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.IsActive, false), cancellationToken);
            if (!await PrepareCacheAsync(cache, promptType, locked[0], cancellationToken))
            {
                return ApiProblem.Of(ErrorCode.ServiceUnavailable, detail: "The template cache (Redis) is unreachable, so the activation was not made. Nothing changed; try again.");
            }
            version.IsActive = true;
            version.ActivatedAt = now;
            audit.Record(caller.UserId(), "prompt_version.activate", AuditEntity, EntityId(version),
                new { promptType, activeVersion = previous }, new { promptType, activeVersion = versionNumber, activatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            activated = AiPromptResponse.Of(version);
        }
        await cache.PublishChangeAsync(promptType, CancellationToken.None);
        return TypedResults.Ok(DataEnvelope.Of(activated));
    }

    /// <summary>The note only: no new version and, as the contract says, no audit entry.</summary>
    internal static async Task<Results<Ok<DataEnvelope<AiPromptResponse>>, ValidationProblem, ProblemHttpResult>> UpdateNoteAsync(
        string promptType, int versionNumber, UpdatePromptNoteRequest body, AppDbContext db, CancellationToken cancellationToken)
    {
        string? note;
        switch (body.ManualNote.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Null:
                note = null;
                break;
            case System.Text.Json.JsonValueKind.String:
                note = body.ManualNote.GetString();
                if (TextLength.Of(note!) > 2000)
                {
                    return ApiProblem.Validation(new Dictionary<string, string[]> { ["manualNote"] = ["The note is longer than 2000 characters."] });
                }
                break;
            case System.Text.Json.JsonValueKind.Undefined:
                return ApiProblem.Validation(new Dictionary<string, string[]> { ["manualNote"] = ["manualNote is required (a string, or null to clear the note)."] });
            default:
                return ApiProblem.Validation(new Dictionary<string, string[]> { ["manualNote"] = ["manualNote must be a string or null."] });
        }
        var version = await db.PromptTemplateVersions.FirstOrDefaultAsync(v => v.PromptType == promptType && v.VersionNumber == versionNumber, cancellationToken);
        if (version is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        version.ManualNote = note;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of(AiPromptResponse.Of(version)));
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptDiffResponse>>, ValidationProblem, ProblemHttpResult>> DiffAsync(
        string promptType, AppDbContext db, CancellationToken cancellationToken, int? from = null, int? to = null)
    {
        if (from is null || to is null)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["from"] = ["Give both versions: ?from=N&to=M."] });
        }
        var versions = await db.PromptTemplateVersions.AsNoTracking()
            .Where(v => v.PromptType == promptType && (v.VersionNumber == from || v.VersionNumber == to))
            .ToDictionaryAsync(v => v.VersionNumber, v => v.Template, cancellationToken);
        if (!versions.TryGetValue(from.Value, out var before) || !versions.TryGetValue(to.Value, out var after))
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var lines = LineDiff.Compute(before, after);
        return TypedResults.Ok(DataEnvelope.Of(new PromptDiffResponse(promptType, from.Value, to.Value, lines,
            LineDiff.Unified(lines, $"{promptType} v{from}", $"{promptType} v{to}"))));
    }

    /// <summary>False when Redis is unreachable: the change must not commit then (see <see cref="ActiveTemplateCache.PrepareChangeAsync"/>).</summary>
    internal static async Task<bool> PrepareCacheAsync(ActiveTemplateCache cache, string promptType, long revision, CancellationToken cancellationToken)
    {
        try
        {
            await cache.PrepareChangeAsync(promptType, revision, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            return false;
        }
    }

    private static async Task<PromptTemplateVersion?> LockVersionAsync(AppDbContext db, string promptType, int versionNumber, CancellationToken cancellationToken) =>
        (await db.PromptTemplateVersions
            .FromSql($"SELECT * FROM prompt_template_versions WHERE prompt_type = {promptType} AND version_number = {versionNumber} FOR UPDATE")
            .ToListAsync(cancellationToken))
        .SingleOrDefault();

    internal static string EntityId(PromptTemplateVersion v) => $"{v.PromptType}/{v.VersionNumber}";

    private static object AuditState(PromptTemplateVersion v) =>
        new { v.PromptType, v.VersionNumber, v.Template, v.IsActive, v.ActivatedAt, v.CreatedAt };
}
