using AiPrompts.Core.ApiKeys;
using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Ai;

/// <summary>
/// The <c>/ai/models</c> page: models by provider and capability, a super admin's capability, price and
/// enabled overrides, the one active model of each section, and the catalogue populate step.
/// </summary>
internal static partial class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/v1/ai/models").WithTags("AI models and sections").RequireScope(ApiKeyScopes.Prompts);
        models.MapGet("/", ListAsync).WithName("ListModels").WithSummary("Models, filtered by provider and capability");
        // Model ids contain slashes (OpenRouter's "openai/gpt-4o-mini"), hence the catch-all.
        models.MapPatch("/{providerId}/{**modelId}", UpdateAsync).WithName("UpdateModel").ProducesProblem(409).WithSummary("Override a model's capabilities, prices or enabled flag (super admin)")
            .RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.Admin);

        var sections = app.MapGroup("/api/v1/ai/sections").WithTags("AI models and sections").RequireScope(ApiKeyScopes.Prompts);
        sections.MapGet("/", ListSectionsAsync).WithName("ListSections").WithSummary("The active provider and model of each section");
        sections.MapPut("/{section}", SetSectionAsync).WithName("SetSection").WithSummary("Choose a section's active model (super admin)")
            .RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.Admin);

        app.MapPost("/api/v1/ai/catalogue/populate", PopulateAsync).WithTags("AI models and sections").WithName("PopulateCatalogue")
            .WithSummary("Load the catalogue file again: add and update, never overwriting overrides (super admin)")
            .RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.Admin);
        return app;
    }

    internal static async Task<Results<Ok<DataEnvelope<IReadOnlyList<ModelResponse>>>, ValidationProblem>> ListAsync(
        AppDbContext db, CancellationToken cancellationToken, string? provider = null, string? capability = null, bool includeUnavailable = false)
    {
        if (capability is not null && !Capabilities.IsKnown(capability))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["capability"] = [$"The capability must be one of: {string.Join(", ", Capabilities.All)}."] });
        }
        var query = db.Models.AsNoTracking();
        if (provider is not null)
        {
            query = query.Where(m => m.ProviderId == provider);
        }
        var list = await query.OrderBy(m => m.ProviderId).ThenBy(m => m.ModelId).ToListAsync(cancellationToken);
        IReadOnlyList<ModelResponse> result = [.. list
            .Where(m => capability is null || m.Has(capability))
            .Where(m => includeUnavailable || m.IsEnabled)
            .Select(ModelResponse.Of)];
        return TypedResults.Ok(DataEnvelope.Of(result));
    }

    internal static async Task<Results<Ok<DataEnvelope<ModelResponse>>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string providerId, string modelId, UpdateModelRequest request, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        var model = provider is null ? null : await db.Models.FirstOrDefaultAsync(m => m.ProviderId == providerId && m.ModelId == modelId, cancellationToken);
        if (model is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        if (request.Capabilities is not null && ModelRules.CapabilityProblems(request.Capabilities, provider!.Kind).ToArray() is { Length: > 0 } problems)
        {
            errors["capabilities"] = problems;
        }
        if (request.InputPrice < 0 || request.OutputPrice < 0)
        {
            errors["price"] = ["Prices cannot be negative."];
        }
        string[] resettable = ["enabled", "capabilities", "prices"];
        if (request.Reset?.Except(resettable).ToArray() is { Length: > 0 } unknown)
        {
            errors["reset"] = [$"Unknown fields: {string.Join(", ", unknown)}. Resettable: {string.Join(", ", resettable)}."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var before = AuditState(model);
        var reset = request.Reset ?? [];
        if (reset.Contains("enabled"))
        {
            model.EnabledOverride = null;
        }
        if (reset.Contains("capabilities"))
        {
            model.CapabilitiesOverride = null;
        }
        if (reset.Contains("prices"))
        {
            model.InputPriceOverride = null;
            model.OutputPriceOverride = null;
        }
        model.EnabledOverride = request.Enabled ?? model.EnabledOverride;
        model.CapabilitiesOverride = request.Capabilities is { } capabilities ? [.. capabilities.Distinct()] : model.CapabilitiesOverride;
        model.InputPriceOverride = request.InputPrice ?? model.InputPriceOverride;
        model.OutputPriceOverride = request.OutputPrice ?? model.OutputPriceOverride;

        // A section's active model must keep its capability and stay enabled.
        var sections = await db.Sections.AsNoTracking().Where(s => s.ProviderId == providerId && s.ModelId == modelId).ToListAsync(cancellationToken);
        if (sections.FirstOrDefault(s => !model.IsEnabled || !model.Has(Sections.CapabilityOf(s.Name))) is { } broken)
        {
            return ApiProblem.Of(ErrorCode.Conflict, detail: $"The model is the active model of the '{broken.Name}' section; choose another model for it first.");
        }
        if (db.Entry(model).Properties.Any(p => p.IsModified))
        {
            model.UpdatedAt = time.GetUtcNow();
            audit.Record(caller.UserId(), "model.update", "model", $"{providerId}/{modelId}", before, AuditState(model));
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(DataEnvelope.Of(ModelResponse.Of(model)));
    }

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<SectionResponse>>>> ListSectionsAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var sections = await db.Sections.AsNoTracking().ToListAsync(cancellationToken);
        IReadOnlyList<SectionResponse> ordered = [.. sections.OrderBy(s => Array.IndexOf(Sections.All.ToArray(), s.Name)).Select(SectionResponse.Of)];
        return TypedResults.Ok(DataEnvelope.Of(ordered));
    }

    internal static async Task<Results<Ok<DataEnvelope<SectionResponse>>, ValidationProblem, ProblemHttpResult>> SetSectionAsync(
        string section, SetSectionRequest request, ClaimsPrincipal caller, AppDbContext db, AuditWriter audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Sections.IsKnown(section))
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (string.IsNullOrWhiteSpace(request.Provider) || string.IsNullOrWhiteSpace(request.Model))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["model"] = ["Both provider and model are required."] });
        }
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.Provider, cancellationToken);
        var model = provider is null ? null : await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.ProviderId == request.Provider && m.ModelId == request.Model, cancellationToken);
        var args = new Dictionary<string, string> { ["provider"] = provider?.DisplayName ?? request.Provider, ["model"] = model?.DisplayName ?? request.Model, ["capability"] = section };
        if (provider is null || provider.Retired)
        {
            return ApiProblem.Of(ErrorCode.ModelUnavailable, args);
        }
        if (!provider.IsEnabled)
        {
            return ApiProblem.Of(ErrorCode.ProviderDisabled, args);
        }
        if (model is null || !model.IsEnabled)
        {
            return ApiProblem.Of(ErrorCode.ModelUnavailable, args);
        }
        if (!model.Has(Sections.CapabilityOf(section)))
        {
            return ApiProblem.Of(ErrorCode.ModelLacksCapability, args);
        }
        var row = await db.Sections.FirstAsync(s => s.Name == section, cancellationToken);
        var before = SectionResponse.Of(row);
        row.ProviderId = model.ProviderId;
        row.ModelId = model.ModelId;
        row.StoreByDefault = request.StoreByDefault ?? row.StoreByDefault;
        if (db.Entry(row).Properties.Any(p => p.IsModified))
        {
            row.UpdatedAt = time.GetUtcNow();
            row.UpdatedBy = caller.UserId();
            audit.Record(caller.UserId(), "section.update", "section", section, before with { UpdatedAt = default }, SectionResponse.Of(row) with { UpdatedAt = default });
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(DataEnvelope.Of(SectionResponse.Of(row)));
    }

    internal static async Task<Results<Ok<DataEnvelope<PopulateResponse>>, ProblemHttpResult>> PopulateAsync(
        ClaimsPrincipal caller, CataloguePopulator populator, AppDbContext db, AuditWriter audit, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PopulateResult result;
        try
        {
            result = await populator.PopulateAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or IOException)
        {
            LogCatalogueInvalid(loggers.CreateLogger("AiPrompts.Api.Catalogue"), ex);
            return ApiProblem.Of(ErrorCode.CatalogueInvalid);
        }
        var response = new PopulateResponse(result.ProvidersAdded, result.ProvidersUpdated, result.ProvidersRetired, result.ModelsAdded, result.ModelsUpdated, result.ModelsRetired, result.SectionsAdded);
        audit.Record(caller.UserId(), "catalogue.populate", "catalogue", null, null, response);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of(response));
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "The catalogue file could not be loaded; nothing was changed")]
    private static partial void LogCatalogueInvalid(ILogger logger, Exception exception);

    private static object AuditState(AiModel m) => new
    {
        enabled = m.IsEnabled,
        capabilities = m.EffectiveCapabilities,
        inputPrice = m.EffectiveInputPrice,
        outputPrice = m.EffectiveOutputPrice,
        m.EnabledOverride,
        m.CapabilitiesOverride,
        m.InputPriceOverride,
        m.OutputPriceOverride,
    };
}
