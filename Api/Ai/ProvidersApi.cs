using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AiPrompts.Api.Ai;

/// <summary>
/// The <c>/ai/settings</c> page: providers, their enabled flags, the shared key (super admin only) and
/// everyone's own personal key. Nothing here ever returns a key, only whether it is set and its last four.
/// </summary>
internal static class ProvidersApi
{
    public static RouteGroupBuilder MapProvidersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai/providers").WithTags("AI providers and keys").RequireScope(ApiKeyScopes.Admin);
        group.MapGet("/", ListAsync).RequireScope(ApiKeyScopes.Prompts).WithName("ListProviders").WithSummary("Providers, with my personal key state (and the shared key state for a super admin)");
        group.MapGet("/{providerId}", GetAsync).RequireScope(ApiKeyScopes.Prompts).WithName("GetProvider").WithSummary("One provider");
        group.MapPost("/", CreateAsync).WithName("CreateProvider").ProducesProblem(409).WithSummary("Add a custom OpenAI-compatible provider (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapPatch("/{providerId}", UpdateAsync).WithName("UpdateProvider").WithSummary("Enable or disable a provider; rename or move a custom one (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapDelete("/{providerId}", DeleteAsync).WithName("DeleteProvider").ProducesProblem(409).WithSummary("Remove a custom provider (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapPut("/{providerId}/shared-key", SetSharedKeyAsync).WithName("SetSharedKey").WithSummary("Set the shared key (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapDelete("/{providerId}/shared-key", ClearSharedKeyAsync).WithName("ClearSharedKey").WithSummary("Remove the shared key (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapPatch("/{providerId}/shared-key", SetSharedPolicyAsync).WithName("SetSharedKeyPolicy").WithSummary("Switch the shared key on or off; say whether admins and users may use it (super admin)")
            .RequireAuthorization(Policies.ManageAll);
        group.MapPut("/{providerId}/personal-key", SetPersonalKeyAsync).WithName("SetPersonalKey").WithSummary("Set my personal key for this provider");
        group.MapDelete("/{providerId}/personal-key", ClearPersonalKeyAsync).WithName("ClearPersonalKey").WithSummary("Remove my personal key for this provider");
        group.MapPost("/{providerId}/test", KeyTest.RunAsync).WithName("TestProviderKey").WithSummary("Make a minimal real call with my personal key or the shared key, and report the outcome");
        return group;
    }

    public sealed record Services(AppDbContext Db, AuditWriter Audit, TimeProvider Time, KeyVault Vault, IConfiguration Configuration);

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<ProviderResponse>>>> ListAsync(ClaimsPrincipal caller, AppDbContext db, CancellationToken cancellationToken)
    {
        var providers = await db.Providers.AsNoTracking().OrderBy(p => p.Retired).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        var views = await ViewsAsync(db, caller, providers, cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of(views));
    }

    internal static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ProblemHttpResult>> GetAsync(string providerId, ClaimsPrincipal caller, AppDbContext db, CancellationToken cancellationToken)
    {
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        return provider is null
            ? ApiProblem.Of(ErrorCode.NotFound)
            : TypedResults.Ok(DataEnvelope.Of((await ViewsAsync(db, caller, [provider], cancellationToken))[0]));
    }

    internal static async Task<IReadOnlyList<ProviderResponse>> ViewsAsync(AppDbContext db, ClaimsPrincipal caller, IReadOnlyList<Provider> providers, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var isSuperAdmin = caller.IsSuperAdmin();
        var ids = providers.Select(p => p.Id).ToList();
        // Ordinary admins and users never load shared keys at all, not even their metadata.
        var keys = await db.ProviderKeys.AsNoTracking()
            .Where(k => ids.Contains(k.ProviderId) && (k.OwnerUserId == userId || (isSuperAdmin && k.OwnerUserId == null)))
            .ToListAsync(cancellationToken);
        return [.. providers.Select(p =>
        {
            var personal = keys.FirstOrDefault(k => k.ProviderId == p.Id && k.OwnerUserId == userId);
            var shared = keys.FirstOrDefault(k => k.ProviderId == p.Id && k.OwnerUserId == null);
            return new ProviderResponse(p.Id, p.DisplayName, p.Kind, p.BaseUrl, p.IsEnabled, p.IsCustom, p.Retired, p.Kind != ProviderKinds.Local,
                KeyState.Of(personal),
                isSuperAdmin ? new SharedKeyState(shared is not null, shared is null ? null : "…" + shared.LastFour, shared?.UpdatedAt, p.SharedKeyEnabled, p.SharedAllowAdmins, p.SharedAllowUsers) : null);
        })];
    }

    internal static async Task<Results<Created<DataEnvelope<ProviderResponse>>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateProviderRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ProviderRules.IsValidId(request.Id))
        {
            errors["id"] = ["The id must be 2-40 lowercase letters, digits or dashes, starting with a letter or digit."];
        }
        if (string.IsNullOrWhiteSpace(request.DisplayName) || TextLength.Of(request.DisplayName) > 100)
        {
            errors["displayName"] = ["A display name of 1-100 characters is required."];
        }
        var models = request.Models ?? [];
        if (models.Length is 0 or > 100)
        {
            errors["models"] = ["Between 1 and 100 models are required."];
        }
        for (var i = 0; i < models.Length; i++)
        {
            foreach (var (field, message) in ModelRules.Validate(models[i]))
            {
                errors[$"models[{i}].{field}"] = [message];
            }
        }
        if (models.Select(m => m.Id).Distinct().Count() != models.Length)
        {
            errors["models"] = ["Model ids must be unique."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (await BaseUrlProblemAsync(request.BaseUrl, services.Configuration, cancellationToken) is { } reason)
        {
            return ApiProblem.Of(ErrorCode.InvalidBaseUrl, new Dictionary<string, string> { ["reason"] = reason });
        }
        var now = services.Time.GetUtcNow();
        var provider = new Provider
        {
            Id = request.Id!,
            DisplayName = request.DisplayName!.Trim(),
            Kind = ProviderKinds.OpenAICompatible,
            BaseUrl = request.BaseUrl!.TrimEnd('/'),
            IsCustom = true,
            EnabledDefault = request.Enabled ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        services.Db.Providers.Add(provider);
        foreach (var m in models)
        {
            services.Db.Models.Add(new AiModel
            {
                ProviderId = provider.Id,
                ModelId = m.Id!,
                DisplayName = m.DisplayName?.Trim() is { Length: > 0 } name ? name : m.Id!,
                Capabilities = [.. m.Capabilities!.Distinct()],
                ContextSize = m.ContextSize,
                InputPrice = m.InputPrice,
                OutputPrice = m.OutputPrice,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        services.Audit.Record(caller.UserId(), "provider.create", "provider", provider.Id, null, AuditState(provider, models.Select(m => m.Id)));
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiProblem.Of(ErrorCode.ProviderExists);
        }
        var view = (await ViewsAsync(services.Db, caller, [provider], cancellationToken))[0];
        return TypedResults.Created($"/api/v1/ai/providers/{provider.Id}", DataEnvelope.Of(view));
    }

    internal static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string providerId, UpdateProviderRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var provider = await services.Db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        if (provider is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if ((request.DisplayName is not null || request.BaseUrl is not null) && !provider.IsCustom)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["provider"] = ["Only a custom provider's name and base URL can be changed; the catalogue owns the others."] });
        }
        if (request.DisplayName is { } name && (string.IsNullOrWhiteSpace(name) || TextLength.Of(name) > 100))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["displayName"] = ["A display name of 1-100 characters is required."] });
        }
        if (request.BaseUrl is not null && await BaseUrlProblemAsync(request.BaseUrl, services.Configuration, cancellationToken) is { } reason)
        {
            return ApiProblem.Of(ErrorCode.InvalidBaseUrl, new Dictionary<string, string> { ["reason"] = reason });
        }
        var before = AuditState(provider);
        if (request.Enabled is { } enabled)
        {
            provider.EnabledOverride = enabled;
        }
        if (request.DisplayName is { } displayName)
        {
            provider.DisplayName = displayName.Trim();
        }
        if (request.BaseUrl is { } baseUrl)
        {
            provider.BaseUrl = baseUrl.TrimEnd('/');
        }
        if (services.Db.Entry(provider).Properties.Any(p => p.IsModified))
        {
            provider.UpdatedAt = services.Time.GetUtcNow();
            services.Audit.Record(caller.UserId(), "provider.update", "provider", provider.Id, before, AuditState(provider));
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(DataEnvelope.Of((await ViewsAsync(services.Db, caller, [provider], cancellationToken))[0]));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string providerId, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var provider = await services.Db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        if (provider is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (!provider.IsCustom)
        {
            return ApiProblem.Of(ErrorCode.Conflict, detail: "Catalogue providers cannot be removed; disable them instead.");
        }
        if (await services.Db.Sections.AnyAsync(s => s.ProviderId == providerId, cancellationToken))
        {
            return ApiProblem.Of(ErrorCode.Conflict, detail: "A section uses this provider; choose another model for it first.");
        }
        services.Db.Providers.Remove(provider);
        services.Audit.Record(caller.UserId(), "provider.delete", "provider", provider.Id, AuditState(provider), null);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ValidationProblem, ProblemHttpResult>> SetSharedKeyAsync(
        string providerId, SetKeyRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        await SetKeyAsync(providerId, owner: null, request, caller, services, cancellationToken);

    internal static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ValidationProblem, ProblemHttpResult>> SetPersonalKeyAsync(
        string providerId, SetKeyRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        await SetKeyAsync(providerId, caller.UserId(), request, caller, services, cancellationToken);

    internal static Task<Results<NoContent, ProblemHttpResult>> ClearSharedKeyAsync(
        string providerId, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        ClearKeyAsync(providerId, owner: null, caller, services, cancellationToken);

    internal static Task<Results<NoContent, ProblemHttpResult>> ClearPersonalKeyAsync(
        string providerId, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        ClearKeyAsync(providerId, caller.UserId(), caller, services, cancellationToken);

    /// <summary>
    /// Sets a shared (owner null) or personal key: a new row id and a fresh data key each time, encrypted
    /// and bound to the row. The audit records that a key was set, never any part of it.
    /// </summary>
    private static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ValidationProblem, ProblemHttpResult>> SetKeyAsync(
        string providerId, Guid? owner, SetKeyRequest request, ClaimsPrincipal caller, Services services, CancellationToken cancellationToken)
    {
        var provider = await services.Db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        if (provider is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var secret = request.Key?.Trim();
        if (ProviderKeyRules.Problem(secret) is { } problem)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["key"] = [problem] });
        }
        if (provider.Kind == ProviderKinds.Local)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["key"] = ["The built-in local provider needs no key."] });
        }
        var db = services.Db;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var existing = await db.ProviderKeys.FirstOrDefaultAsync(k => k.ProviderId == providerId && k.OwnerUserId == owner, cancellationToken);
        if (existing is not null)
        {
            db.ProviderKeys.Remove(existing);
            await db.SaveChangesAsync(cancellationToken);
        }
        var now = services.Time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var encrypted = services.Vault.Encrypt(secret!, new KeyBinding(id, providerId, owner));
        db.ProviderKeys.Add(new ProviderKey
        {
            Id = id,
            ProviderId = providerId,
            OwnerUserId = owner,
            Ciphertext = encrypted.Ciphertext,
            WrappedKey = encrypted.WrappedKey,
            MasterKeyVersion = encrypted.MasterKeyVersion,
            LastFour = SecretMasker.LastFour(secret!),
            CreatedAt = existing?.CreatedAt ?? now,
            UpdatedAt = now,
            UpdatedBy = caller.UserId(),
        });
        var kind = owner is null ? "shared" : "personal";
        services.Audit.Record(caller.UserId(), $"provider.{kind}_key.set", "provider", providerId,
            new { keySet = existing is not null }, new { keySet = true, keyId = id });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(DataEnvelope.Of((await ViewsAsync(db, caller, [provider], cancellationToken))[0]));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ClearKeyAsync(
        string providerId, Guid? owner, ClaimsPrincipal caller, Services services, CancellationToken cancellationToken)
    {
        var key = await services.Db.ProviderKeys.FirstOrDefaultAsync(k => k.ProviderId == providerId && k.OwnerUserId == owner, cancellationToken);
        if (key is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        services.Db.ProviderKeys.Remove(key);
        var kind = owner is null ? "shared" : "personal";
        services.Audit.Record(caller.UserId(), $"provider.{kind}_key.clear", "provider", providerId, new { keySet = true, keyId = key.Id }, new { keySet = false });
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<DataEnvelope<ProviderResponse>>, ProblemHttpResult>> SetSharedPolicyAsync(
        string providerId, SharedKeyPolicyRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var provider = await services.Db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, cancellationToken);
        if (provider is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var before = provider.SharedPolicy;
        provider.SharedKeyEnabled = request.Enabled ?? provider.SharedKeyEnabled;
        provider.SharedAllowAdmins = request.AllowAdmins ?? provider.SharedAllowAdmins;
        provider.SharedAllowUsers = request.AllowUsers ?? provider.SharedAllowUsers;
        if (provider.SharedPolicy != before)
        {
            provider.UpdatedAt = services.Time.GetUtcNow();
            services.Audit.Record(caller.UserId(), "provider.shared_key.policy", "provider", providerId, before, provider.SharedPolicy);
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(DataEnvelope.Of((await ViewsAsync(services.Db, caller, [provider], cancellationToken))[0]));
    }

    private static Task<string?> BaseUrlProblemAsync(string? url, IConfiguration configuration, CancellationToken cancellationToken) =>
        BaseUrlPolicy.ProblemAsync(url, configuration.GetValue<bool>(BaseUrlPolicy.AllowPrivateSetting), cancellationToken);

    private static object AuditState(Provider p, IEnumerable<string?>? models = null) =>
        new { p.DisplayName, p.Kind, p.BaseUrl, enabled = p.IsEnabled, p.IsCustom, models };
}

internal static class ModelRules
{
    public static IEnumerable<(string Field, string Message)> Validate(CustomModelRequest model)
    {
        if (string.IsNullOrWhiteSpace(model.Id) || TextLength.Of(model.Id) > 200 || model.Id.Any(char.IsWhiteSpace))
        {
            yield return ("id", "A model id of 1-200 characters without spaces is required.");
        }
        foreach (var problem in CapabilityProblems(model.Capabilities, ProviderKinds.OpenAICompatible))
        {
            yield return ("capabilities", problem);
        }
        if (model.InputPrice < 0 || model.OutputPrice < 0)
        {
            yield return ("price", "Prices cannot be negative.");
        }
        if (model.ContextSize is <= 0)
        {
            yield return ("contextSize", "The context size must be positive.");
        }
    }

    public static IEnumerable<string> CapabilityProblems(string[]? capabilities, string providerKind)
    {
        if (capabilities is null || capabilities.Length == 0)
        {
            yield return $"At least one capability is required: {string.Join(", ", Capabilities.All)}.";
            yield break;
        }
        var unknown = capabilities.Where(c => !Capabilities.IsKnown(c)).ToList();
        if (unknown.Count > 0)
        {
            yield return $"Unknown capabilities: {string.Join(", ", unknown)}. Known: {string.Join(", ", Capabilities.All)}.";
        }
        var unserved = capabilities.Where(Capabilities.IsKnown).Except(ProviderKinds.Serves(providerKind)).ToList();
        if (unserved.Count > 0)
        {
            yield return $"A {providerKind} provider cannot serve: {string.Join(", ", unserved)}.";
        }
    }
}
