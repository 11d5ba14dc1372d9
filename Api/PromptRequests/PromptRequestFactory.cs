using AiPrompts.Api.Errors;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Input;
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
internal sealed class PromptRequestFactory(AppDbContext db, AiAccess access, JobScheduler scheduler, ChargeEstimator charges, IOptions<PromptRequestOptions> options, TimeProvider time)
{
    public async Task<(PromptRequest? Request, Job? Job, ProblemHttpResult? Refusal)> AddAsync(AiCaller caller, NewPromptRequest spec, CancellationToken cancellationToken)
    {
        if (TextLength.Of(spec.PromptText) > options.Value.MaxPromptLength)
        {
            // The last guard for every path that makes a prompt (each checks first, naming its own field).
            return (null, null, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]>
            {
                [spec.TemplateVersion is null ? "promptText" : "variables"] = [$"The prompt is longer than {options.Value.MaxPromptLength} characters."],
            }));
        }
        var providerId = spec.Provider;
        if (providerId is null && spec.Model is { } model)
        {
            providerId = await ProviderOfModelAsync(spec.Section, model, cancellationToken);
        }
        var decision = await access.ForSectionAsync(caller, spec.Section, providerId, spec.Model, cancellationToken);
        if (decision.Provider is null || (spec.Provider is null && spec.Model is not null && decision.Model is null))
        {
            // A provider or model that does not exist is the caller's mistake in a field: say which, and what they may use.
            var usable = await access.UsableModelsAsync(caller, Sections.CapabilityOf(spec.Section), 50, cancellationToken);
            var choices = usable.Count == 0 ? "none: ask a super administrator to set up a provider and key" : string.Join(", ", usable);
            return (null, null, ApiProblem.ValidationAsProblem(decision.Provider is null
                ? new Dictionary<string, string[]> { ["provider"] = [$"Unknown provider '{spec.Provider}'. You can use (provider/model): {choices}."] }
                : new Dictionary<string, string[]> { ["model"] = [$"No enabled provider offers the model '{spec.Model}'. You can use (provider/model): {choices}."] }));
        }
        if (decision.Outcome.Refusal is { } refusal)
        {
            // Why this provider and model cannot be used, and what the caller could use instead.
            var usable = await access.UsableModelsAsync(caller, Sections.CapabilityOf(spec.Section), 50, cancellationToken);
            var problem = ApiProblem.Of(refusal, decision.MessageArgs,
                detail: usable.Count == 0 ? null : $"You can use (provider/model): {string.Join(", ", usable)}.");
            problem.ProblemDetails.Extensions["usableModels"] = usable;
            return (null, null, problem);
        }
        var store = spec.Store ?? await db.Sections.AsNoTracking().Where(s => s.Name == spec.Section).Select(s => s.StoreByDefault).FirstAsync(cancellationToken);

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var job = scheduler.Create(PromptRequestHandler.JobKind, id, options.Value.MaxAttempts, charges.For(caller, decision.Model, spec.PromptText));
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
