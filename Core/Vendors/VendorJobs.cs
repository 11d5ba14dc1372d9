using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AiPrompts.Core.Vendors;

/// <summary>What every job handler that calls a vendor does the same way: resolve the target again, and turn failures into outcomes.</summary>
public static class VendorJobs
{
    /// <summary>
    /// The key resolved again for the job's owner (the provider, model or key may have changed since submit).
    /// A refusal is a clear, permanent outcome, with no vendor call.
    /// </summary>
    public static async Task<(VendorTarget? Target, AccessDecision Decision, JobOutcome? Refusal)> TargetAsync(
        IServiceScopeFactory scopes, AiCaller caller, string capability, string providerId, string modelId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var access = scope.ServiceProvider.GetRequiredService<AiAccess>();
        var decision = await access.ForModelAsync(caller, capability, providerId, modelId, cancellationToken);
        if (decision.Outcome.Refusal is { } refusal)
        {
            return (null, decision, JobOutcome.Fail(JobError.Of(refusal, $"Refused at run time: {refusal.Code}.", decision.MessageArgs)));
        }
        try
        {
            return (await access.TargetAsync(caller, decision, cancellationToken), decision, null);
        }
        catch (KeyDecryptionException)
        {
            return (null, decision, JobOutcome.Fail(JobError.Of(ErrorCode.KeyDecryptionFailed, "The stored key could not be decrypted.", decision.MessageArgs)));
        }
    }

    /// <summary>A vendor failure: retried when transient, else final; a call that reached the vendor keeps its failed usage row.</summary>
    public static JobOutcome Failed(VendorException error, Func<NpgsqlBatchCommand> failedUsage)
    {
        var jobError = JobError.Of(error.Code, error.VendorMessage, error.MessageArgs);
        var writes = error.ReachedVendor ? [failedUsage()] : Array.Empty<NpgsqlBatchCommand>();
        return error.IsTransient ? JobOutcome.Retry(jobError, error.RetryAfter, writes) : JobOutcome.Fail(jobError, writes);
    }

    /// <summary>An attempt told to stop: its usage row says whether it was cancelled or interrupted by shutdown.</summary>
    public static JobOutcome Stopped(JobContext context, Func<string, NpgsqlBatchCommand> usage) =>
        JobOutcome.Stopped(usage(context.StopReason == StopReason.Cancelled ? UsageStatus.Cancelled : UsageStatus.Interrupted));
}
