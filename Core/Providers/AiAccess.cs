using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Vendors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace AiPrompts.Core.Providers;

/// <summary>The caller as resolution sees them: the user, their role, and the API key they came with (null when signed in).</summary>
public sealed record AiCaller(Guid UserId, string Role, Guid? ApiKeyId = null);

/// <summary>The answer for one (section or capability, provider, model): usable with which key, or why not.</summary>
public sealed record AccessDecision(
    string Capability,
    string ProviderId,
    string ModelId,
    Provider? Provider,
    AiModel? Model,
    ResolutionInput Input,
    ResolutionOutcome Outcome)
{
    /// <summary>The key rows read with the decision, when they were: <see cref="AiAccess.TargetAsync"/> then needs no query.</summary>
    internal IReadOnlyList<ProviderKey>? LoadedKeys { get; init; }

    public IReadOnlyDictionary<string, string> MessageArgs => new Dictionary<string, string>
    {
        ["provider"] = Provider?.DisplayName ?? ProviderId,
        ["model"] = Model?.DisplayName ?? ModelId,
        ["capability"] = Capability,
    };
}

/// <summary>
/// Reads what resolution needs from the database and applies <see cref="KeyResolution"/>; builds the
/// <see cref="VendorTarget"/> (with the decrypted key) for an allowed decision.
/// </summary>
public sealed class AiAccess(AppDbContext db, KeyVault vault, IConfiguration configuration)
{
    /// <summary>The section's active model, or the provider and model the request names.</summary>
    public async Task<AccessDecision> ForSectionAsync(AiCaller caller, string section, string? providerId, string? modelId, CancellationToken cancellationToken)
    {
        if (providerId is null || modelId is null)
        {
            var active = await db.Sections.AsNoTracking().FirstAsync(s => s.Name == section, cancellationToken);
            providerId ??= active.ProviderId;
            modelId ??= providerId == active.ProviderId ? active.ModelId : null;
            if (modelId is null)
            {
                // A provider without a model: its first enabled model with the capability.
                var capability = Sections.CapabilityOf(section);
                var candidates = await db.Models.AsNoTracking().Where(m => m.ProviderId == providerId).OrderBy(m => m.ModelId).ToListAsync(cancellationToken);
                modelId = candidates.FirstOrDefault(m => m.IsEnabled && m.Has(capability))?.ModelId ?? "";
            }
        }
        return await ForModelAsync(caller, Sections.CapabilityOf(section), providerId, modelId, cancellationToken);
    }

    /// <summary>One query: the provider, the model and the keys the caller could use (kept on the decision for <see cref="TargetAsync"/>).</summary>
    public async Task<AccessDecision> ForModelAsync(AiCaller caller, string capability, string providerId, string modelId, CancellationToken cancellationToken)
    {
        var row = await db.Providers.AsNoTracking()
            .Where(p => p.Id == providerId)
            .Select(p => new
            {
                Provider = p,
                Model = db.Models.FirstOrDefault(m => m.ProviderId == providerId && m.ModelId == modelId),
                Keys = db.ProviderKeys.Where(k => k.ProviderId == providerId && (k.OwnerUserId == null || k.OwnerUserId == caller.UserId)).ToList(),
            })
            .FirstOrDefaultAsync(cancellationToken);
        var keys = row?.Keys ?? [];
        return Decide(caller, capability, providerId, modelId, row?.Provider, row?.Model, [.. keys.Select(k => (k.ProviderId, k.OwnerUserId))]) with { LoadedKeys = keys };
    }

    /// <summary>Every section, as the caller would get it now: four small queries whatever the number of sections.</summary>
    public async Task<IReadOnlyList<(string Section, AccessDecision Decision)>> AvailabilityAsync(AiCaller caller, CancellationToken cancellationToken)
    {
        var sections = await db.Sections.AsNoTracking().ToListAsync(cancellationToken);
        var providerIds = sections.Select(s => s.ProviderId).Distinct().ToList();
        var modelIds = sections.Select(s => s.ModelId).Distinct().ToList();
        var providers = await db.Providers.AsNoTracking().Where(p => providerIds.Contains(p.Id)).ToListAsync(cancellationToken);
        var models = await db.Models.AsNoTracking().Where(m => providerIds.Contains(m.ProviderId) && modelIds.Contains(m.ModelId)).ToListAsync(cancellationToken);
        var keys = await KeyOwnersAsync(caller, providerIds, cancellationToken);
        return [.. Sections.All.Select(name =>
        {
            var section = sections.First(s => s.Name == name);
            return (name, Decide(caller, Sections.CapabilityOf(name), section.ProviderId, section.ModelId,
                providers.FirstOrDefault(p => p.Id == section.ProviderId),
                models.FirstOrDefault(m => m.ProviderId == section.ProviderId && m.ModelId == section.ModelId),
                keys));
        })];
    }

    /// <summary>
    /// Every enabled model with the capability that the caller could call now, as "provider/model" (at most
    /// <paramref name="max"/>): what a refusal for an unknown provider or model lists.
    /// </summary>
    public async Task<IReadOnlyList<string>> UsableModelsAsync(AiCaller caller, string capability, int max, CancellationToken cancellationToken) =>
        [.. (await UsableAsync(caller, [capability], max, cancellationToken)).Select(m => $"{m.ProviderId}/{m.ModelId}")];

    /// <summary>Every enabled model with one of the capabilities that the caller could call now with it, by provider and model (at most <paramref name="max"/>).</summary>
    public async Task<IReadOnlyList<AiModel>> UsableAsync(AiCaller caller, IReadOnlyList<string> capabilities, int max, CancellationToken cancellationToken)
    {
        var providers = (await db.Providers.AsNoTracking().Where(p => !p.Retired).OrderBy(p => p.Id).ToListAsync(cancellationToken))
            .Where(p => p.IsEnabled).ToList();
        var ids = providers.Select(p => p.Id).ToList();
        var models = await db.Models.AsNoTracking().Where(m => ids.Contains(m.ProviderId) && !m.Retired)
            .OrderBy(m => m.ProviderId).ThenBy(m => m.ModelId).ToListAsync(cancellationToken);
        var keys = await KeyOwnersAsync(caller, ids, cancellationToken);
        return [.. models
            .Where(m => m.IsEnabled && capabilities.Any(capability => m.Has(capability)
                && Decide(caller, capability, m.ProviderId, m.ModelId, providers.First(p => p.Id == m.ProviderId), m, keys).Outcome.Refusal is null))
            .Take(max)];
    }

    /// <summary>Which keys exist for these providers that the caller could use: their own personal keys and the shared ones.</summary>
    private Task<List<(string ProviderId, Guid? Owner)>> KeyOwnersAsync(AiCaller caller, IReadOnlyCollection<string> providerIds, CancellationToken cancellationToken) =>
        db.ProviderKeys.AsNoTracking()
            .Where(k => providerIds.Contains(k.ProviderId) && (k.OwnerUserId == null || k.OwnerUserId == caller.UserId))
            .Select(k => new ValueTuple<string, Guid?>(k.ProviderId, k.OwnerUserId))
            .ToListAsync(cancellationToken);

    private static AccessDecision Decide(
        AiCaller caller, string capability, string providerId, string modelId, Provider? provider, AiModel? model, List<(string ProviderId, Guid? Owner)> keys)
    {
        var input = new ResolutionInput(
            caller.Role,
            ProviderEnabled: provider?.IsEnabled ?? false,
            ProviderNeedsKey: provider?.Kind != ProviderKinds.Local,
            ModelExists: model is not null,
            ModelEnabled: model?.IsEnabled ?? false,
            ModelHasCapability: model?.Has(capability) ?? false,
            HasPersonalKey: keys.Contains((providerId, caller.UserId)),
            HasSharedKey: keys.Contains((providerId, null)),
            SharedKeyEnabled: provider?.SharedKeyEnabled ?? false,
            SharedAllowAdmins: provider?.SharedAllowAdmins ?? false,
            SharedAllowUsers: provider?.SharedAllowUsers ?? false);
        var outcome = provider is null ? ResolutionOutcome.Refuse(ErrorCode.NotFound) : KeyResolution.Resolve(input);
        return new AccessDecision(capability, providerId, modelId, provider, model, input, outcome);
    }

    /// <summary>The call target of an allowed decision, with its key decrypted (only now, only in memory).</summary>
    public async Task<VendorTarget> TargetAsync(AiCaller caller, AccessDecision decision, CancellationToken cancellationToken, KeySource? forceSource = null)
    {
        var source = forceSource ?? decision.Outcome.Source ?? throw new InvalidOperationException("The decision refuses the call.");
        var provider = decision.Provider!;
        VendorCredential? credential = null;
        if (source != KeySource.None)
        {
            var owner = source == KeySource.Personal ? caller.UserId : (Guid?)null;
            var key = decision.LoadedKeys is { } loaded
                ? loaded.FirstOrDefault(k => k.OwnerUserId == owner)
                : await db.ProviderKeys.AsNoTracking().FirstOrDefaultAsync(k => k.ProviderId == provider.Id && k.OwnerUserId == owner, cancellationToken);
            key = key ?? throw new InvalidOperationException("The key was removed meanwhile.");
            credential = new VendorCredential(vault.Decrypt(key));
        }
        return new VendorTarget(provider.Id, provider.Kind, EffectiveBaseUrl(provider), decision.ModelId, credential, source,
            decision.Model?.Prices ?? ModelPrices.Unknown, decision.Model?.EffectiveCapabilities);
    }

    /// <summary>An operator may point a catalogue provider elsewhere (a proxy, a regional endpoint): <c>Ai:BaseUrls:{provider}</c>.</summary>
    public string? EffectiveBaseUrl(Provider provider) => configuration[$"Ai:BaseUrls:{provider.Id}"] is { Length: > 0 } url ? url : provider.BaseUrl;
}
