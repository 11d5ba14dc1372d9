using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AiPrompts.Core.Vendors;

/// <summary>What every vendor job's request says about its call: whose it is, and the provider and model chosen at submit.</summary>
public interface IVendorJobRequest
{
    Guid UserId { get; }

    string Role { get; }

    bool UserDisabled { get; }

    string ProviderId { get; }

    string ModelId { get; }
}

/// <summary>
/// One attempt's vendor call, for its handler: the target, what the call has metered so far, and its usage row whatever
/// the outcome (the row joins the job's outcome: same transaction, same fence).
/// </summary>
public sealed class VendorAttempt(JobContext context, string section, Guid userId, VendorTarget target, AccessDecision decision, TimeProvider time, string? purpose)
{
    private readonly long _started = time.GetTimestamp();

    public VendorTarget Target { get; } = target;

    public AccessDecision Decision { get; } = decision;

    /// <summary>What the vendor reported (tokens, cost) so far; a streamed call updates it as the updates arrive.</summary>
    public MeteredUsage? Metered { get; set; }

    public TimeSpan Elapsed => time.GetElapsedTime(_started);

    /// <summary>The attempt's usage row, with what it metered.</summary>
    public NpgsqlBatchCommand Usage(string status, string? errorCode = null) =>
        UsageWrites.ForAttempt(context, section, userId, Target, Metered, Elapsed, status, errorCode, time.GetUtcNow(), purpose);
}

/// <summary>
/// The base of every job that calls a vendor. It does the same every time: load the job's request (gone: it fails);
/// refuse a disabled owner; resolve the provider, model and key again for the owner (they may have changed since submit;
/// a refusal is a clear, permanent outcome with no call); then the handler's call, whose failures become outcomes the
/// same way for every kind: a vendor's transient error is retried and a permanent one fails, with a usage row when the
/// call reached the vendor; an attempt told to stop keeps its row as cancelled or interrupted. The handler disposes the
/// client it asks <see cref="VendorClientFactory"/> for.
/// </summary>
public abstract class VendorJobHandler<TRequest>(IServiceScopeFactory scopes, TimeProvider time) : IJobHandler where TRequest : class, IVendorJobRequest
{
    /// <summary>The clock every handler reads, the one the attempt's timings come from.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>For the scoped services a handler needs beside the base's (the media store, access decisions).</summary>
    protected IServiceScopeFactory Scopes { get; } = scopes;

    public abstract string Kind { get; }

    /// <summary>The section the request's model serves (chat, content, image): the usage rows name it, and the model must have its capability.</summary>
    protected abstract string SectionOf(TRequest request);

    protected abstract Task<TRequest?> LoadAsync(Guid subjectId, CancellationToken cancellationToken);

    /// <summary>The call and what its success writes (the attempt's usage row among them).</summary>
    protected abstract Task<JobOutcome> CallAsync(JobContext context, TRequest request, VendorAttempt attempt, CancellationToken cancellationToken);

    /// <summary>The purpose the usage rows carry, when the request has one.</summary>
    protected virtual string? PurposeOf(TRequest request) => null;

    public virtual IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context) => [];

    public virtual ValueTask OnStatusChangedAsync(JobContext context, string status, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async Task<JobOutcome> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        var request = await LoadAsync(context.Job.SubjectId, cancellationToken);
        if (request is null)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.NotFound, "What the job was for no longer exists."));
        }
        if (request.UserDisabled)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.Forbidden, "The user the job is for is disabled."));
        }
        var (target, decision, refusal) = await TargetAsync(new AiCaller(request.UserId, request.Role), request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var attempt = new VendorAttempt(context, SectionOf(request), request.UserId, target!, decision, Time, PurposeOf(request));
        try
        {
            return await CallAsync(context, request, attempt, cancellationToken);
        }
        catch (VendorException ex)
        {
            var error = JobError.Of(ex.Code, ex.VendorMessage, ex.MessageArgs);
            var writes = ex.ReachedVendor ? [attempt.Usage(UsageStatus.Failed, ex.Code.Code)] : Array.Empty<NpgsqlBatchCommand>();
            return ex.IsTransient ? JobOutcome.Retry(error, ex.RetryAfter, writes) : JobOutcome.Fail(error, writes);
        }
        catch (OperationCanceledException) when (context.StopReason is StopReason.Cancelled or StopReason.ShuttingDown)
        {
            return JobOutcome.Stopped(attempt.Usage(context.StopReason == StopReason.Cancelled ? UsageStatus.Cancelled : UsageStatus.Interrupted));
        }
    }

    /// <summary>The owner's key for the provider and model, resolved now; a refusal is a permanent outcome.</summary>
    private async Task<(VendorTarget? Target, AccessDecision Decision, JobOutcome? Refusal)> TargetAsync(AiCaller caller, TRequest request, CancellationToken cancellationToken)
    {
        await using var scope = Scopes.CreateAsyncScope();
        var access = scope.ServiceProvider.GetRequiredService<AiAccess>();
        var decision = await access.ForModelAsync(caller, Sections.CapabilityOf(SectionOf(request)), request.ProviderId, request.ModelId, cancellationToken);
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
}
