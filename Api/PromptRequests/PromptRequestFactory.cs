using AiPrompts.Api.Errors;
using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.PromptRequests;

/// <summary>What a new prompt request says, whoever makes it: the prompt-requests API, a template run or a sandbox test.</summary>
internal sealed record NewPromptRequest(
    string PromptType,
    string Section,
    string PromptText,
    string? Provider,
    string? Model,
    Purpose? Purpose = null,
    string? Metadata = null,
    bool? Store = null,
    string? IdempotencyKey = null,
    byte[]? RequestHash = null,
    int? TemplateVersion = null,
    bool Sandbox = false);

/// <summary>
/// Makes a prompt request and its job: decides provider, model and key for the caller (a refusal is the
/// usual localised problem) and adds both rows to the unit of work. The caller saves, then wakes the workers.
/// </summary>
internal sealed class PromptRequestFactory(AppDbContext db, AiAccess access, JobScheduler scheduler, IOptions<PromptRequestOptions> options, TimeProvider time)
{
    public async Task<(PromptRequest? Request, Job? Job, ProblemHttpResult? Refusal)> AddAsync(AiCaller caller, NewPromptRequest spec, CancellationToken cancellationToken)
    {
        var providerId = spec.Provider;
        if (providerId is null && spec.Model is { } model)
        {
            providerId = await ProviderOfModelAsync(spec.Section, model, cancellationToken);
        }
        var decision = await access.ForSectionAsync(caller, spec.Section, providerId, spec.Model, cancellationToken);
        if (decision.Outcome.Refusal is { } refusal)
        {
            return (null, null, ApiProblem.Of(refusal, decision.MessageArgs));
        }
        var store = spec.Store ?? await db.Sections.AsNoTracking().Where(s => s.Name == spec.Section).Select(s => s.StoreByDefault).FirstAsync(cancellationToken);

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var job = scheduler.Create(PromptRequestHandler.JobKind, id, options.Value.MaxAttempts);
        db.Jobs.Add(job);
        var request = new PromptRequest
        {
            Id = id,
            UserId = caller.UserId,
            JobId = job.Id,
            PromptType = spec.PromptType,
            Section = spec.Section,
            ProviderId = decision.ProviderId,
            ModelId = decision.ModelId,
            PromptText = spec.PromptText,
            PurposeCode = spec.Purpose?.Code,
            PurposeText = spec.Purpose?.Text,
            Metadata = spec.Metadata,
            Store = store,
            IdempotencyKey = spec.IdempotencyKey,
            RequestHash = spec.RequestHash,
            TemplateVersion = spec.TemplateVersion,
            Sandbox = spec.Sandbox,
            CreatedAt = now,
        };
        db.PromptRequests.Add(request);
        return (request, job, null);
    }

    /// <summary>A model named without a provider: the section's provider if it has it, else the first provider that does.</summary>
    private async Task<string?> ProviderOfModelAsync(string section, string model, CancellationToken cancellationToken)
    {
        var providers = await db.Models.AsNoTracking().Where(m => m.ModelId == model && !m.Retired).Select(m => m.ProviderId).OrderBy(p => p).ToListAsync(cancellationToken);
        var active = await db.Sections.AsNoTracking().Where(s => s.Name == section).Select(s => s.ProviderId).FirstAsync(cancellationToken);
        return providers.Contains(active) ? active : providers.FirstOrDefault() ?? active;
    }
}
