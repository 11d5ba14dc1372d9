using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;

namespace AiPrompts.Api.Gateway;

/// <summary>What a gateway call asks for, before anything is admitted.</summary>
internal sealed record GatewayAsk(string Surface, IReadOnlyList<string> Capabilities, string Section, string? Model, long InputCharacters, long? MaxOutputTokens, string? Purpose);

/// <summary>
/// The governance of a call on the gateway's own data path, in the order every call goes through it: the model named as
/// <c>provider/model</c> and resolved for the caller (sections, key rules, the key decrypted in memory); the purpose; the
/// tokens per minute (Redis); then the budgets and the record that the call began, in one statement committed before the
/// vendor is called. Every refusal comes before any vendor call and writes nothing. The returned <see cref="GatewayCallScope"/>
/// ends the call with its usage row, off the answer's path.
/// </summary>
internal sealed class GatewayAdmission(
    AiAccess access, RequestRateLimiter limiter, GatewayCalls calls, GatewayUsageRecorder recorder, ChargeEstimator charges,
    GatewayMetrics metrics, TimeProvider time, ILogger<GatewayAdmission> logger)
{
    public async Task<(GatewayCallScope? Call, IResult? Refusal)> BeginAsync(HttpContext http, GatewayAsk ask, CancellationToken cancellationToken)
    {
        var (admitted, refusal) = await ResolveAsync(http, ask, cancellationToken);
        if (admitted is null)
        {
            return (null, refusal);
        }
        var (caller, target, charge, purpose) = admitted;
        if (await limiter.TakeTokensAsync(http, caller.UserId, caller.ApiKeyId, charge.Tokens, cancellationToken) is { } limited)
        {
            return (null, limited);
        }
        var id = Guid.CreateVersion7(time.GetUtcNow());
        var call = new GatewayCall
        {
            Id = id,
            UserId = caller.UserId,
            ApiKeyId = caller.ApiKeyId,
            Surface = ask.Surface,
            Section = ask.Section,
            ProviderId = target.ProviderId,
            ModelId = target.ModelId,
            KeySource = target.KeySource.ToString().ToLowerInvariant(),
            Purpose = purpose,
            SubjectId = id, // the answer's id is made from it (chatcmpl-…, resp_…)
            ReservedCost = charge.Cost,
            ReservedTokens = charge.Tokens,
            StartedAt = time.GetUtcNow(),
        };
        try
        {
            if (BudgetRefusal.Parse(await calls.BeginAsync(call, cancellationToken)) is { } warning && !http.Response.HasStarted)
            {
                http.Response.Headers[JobSubmission.WarningHeader] = JobSubmission.WarningValue(warning);
            }
        }
        catch (Exception ex) when (BudgetRefusal.Find(ex) is { } over)
        {
            return (null, JobSubmission.BudgetExceeded(http, over, time, logger));
        }
        return (new GatewayCallScope(call, target, ModelIds.Of(target.ProviderId, target.ModelId), ask.InputCharacters, recorder, metrics, http, time), null);
    }

    /// <summary>
    /// What every call is checked for before anything is counted: the model named as <c>provider/model</c> and resolved for
    /// the caller (the key decrypted in memory), the capabilities the request needs, the purpose, and the charge to admit
    /// (the prompt at four characters a token and the longest answer allowed). A background response goes on from here to
    /// the job engine's own admission (<see cref="JobSubmission"/>); a call on the data path to <see cref="BeginAsync"/>.
    /// </summary>
    public async Task<(GatewayAdmitted? Admitted, IResult? Refusal)> ResolveAsync(HttpContext http, GatewayAsk ask, CancellationToken cancellationToken)
    {
        if (!ModelIds.TrySplit(ask.Model, out var providerId, out var modelId))
        {
            return (null, ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["model"] = ["The model is required, as provider/model (GET /openai/v1/models lists those you may use)."],
            }));
        }
        var purpose = ask.Purpose ?? http.Request.Headers[GatewayOptions.PurposeHeader].FirstOrDefault();
        if (purpose is not null && !PurposeCodes.IsValid(purpose))
        {
            return (null, ApiProblem.Validation(new Dictionary<string, string[]> { ["metadata.purpose"] = [PurposeCodes.Rule] }));
        }
        var caller = http.User.AiCaller();
        var decision = await access.ForModelAsync(caller, ask.Capabilities[0], providerId, modelId, cancellationToken);
        if (decision.Provider is null || decision.Model is null)
        {
            return (null, ApiProblem.Of(ErrorCode.ModelUnavailable, decision.MessageArgs));
        }
        if (decision.Outcome.Refusal is { } refusal)
        {
            return (null, ApiProblem.Of(refusal, decision.MessageArgs));
        }
        // What the request uses beyond the main capability (tools, a JSON Schema) the model must have too.
        if (ask.Capabilities.Skip(1).FirstOrDefault(c => !decision.Model.Has(c)) is { } lacking)
        {
            return (null, ApiProblem.Of(ErrorCode.ModelLacksCapability, (decision with { Capability = lacking }).MessageArgs));
        }
        VendorTarget target;
        try
        {
            target = await access.TargetAsync(caller, decision, cancellationToken);
        }
        catch (KeyDecryptionException)
        {
            return (null, ApiProblem.Of(ErrorCode.KeyDecryptionFailed, decision.MessageArgs));
        }
        var charge = charges.For(caller, decision.Model, ask.InputCharacters, ask.MaxOutputTokens);
        return (new GatewayAdmitted(caller, target, charge, purpose), null);
    }
}

/// <summary>A call resolved for its caller: the vendor target, the charge to admit, and the purpose the usage row carries.</summary>
internal sealed record GatewayAdmitted(AiCaller Caller, VendorTarget Target, JobCharge Charge, string? Purpose);

/// <summary>
/// One admitted call, until it ends: the target, the call's id, and the usage row it ends with, whatever way it ends
/// (succeeded, failed at the vendor, stopped by a client that went away). It also times what the gateway added.
/// </summary>
internal sealed class GatewayCallScope(GatewayCall call, VendorTarget target, string model, long inputCharacters, GatewayUsageRecorder recorder, GatewayMetrics metrics, HttpContext http, TimeProvider time)
{
    public const string OverheadHeader = "x-aiprompts-overhead-ms";

    private long _vendorStarted;
    private long _vendorEnded;
    private int _ended;

    public Guid Id => call.Id;

    /// <summary>Whose call it is: the user, and the API key they came with.</summary>
    public (Guid UserId, Guid? ApiKeyId) Caller => (call.UserId, call.ApiKeyId);

    public VendorTarget Target => target;

    /// <summary>The model as callers name it: <c>provider/model</c>.</summary>
    public string Model => model;

    /// <summary>
    /// The vendor call of an answer written whole: timed, and ended here when it fails (a vendor's refusal is the answer,
    /// recorded when it reached the vendor) or is stopped (the client went away). The caller ends a success with what it metered.
    /// </summary>
    public async Task<(T? Answer, IResult? Refusal)> CallAsync<T>(Func<CancellationToken, Task<T>> vendorCall, CancellationToken cancellationToken) where T : class
    {
        VendorStarting(streaming: false);
        try
        {
            var answer = await vendorCall(cancellationToken);
            VendorAnswered();
            return (answer, null);
        }
        catch (VendorException ex)
        {
            Failed(ex);
            return (null, GatewayApi.VendorProblem(http, ex));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Stopped(null);
            throw;
        }
    }

    /// <summary>Marks the start of the vendor call: the time before it is the gateway's; sets the overhead header for a stream.</summary>
    public void VendorStarting(bool streaming)
    {
        _vendorStarted = time.GetTimestamp();
        if (streaming)
        {
            Overhead(TimeSpan.Zero);
        }
    }

    /// <summary>Marks the vendor's answer; the header then says the time before the call and since the answer, until now.</summary>
    public void VendorAnswered() => _vendorEnded = time.GetTimestamp();

    /// <summary>Sets the overhead header and records it, for an answer written whole (after <see cref="VendorAnswered"/>).</summary>
    public void AnswerReady() => Overhead(time.GetElapsedTime(_vendorEnded));

    private void Overhead(TimeSpan after)
    {
        var before = GatewayTiming.Of(http) is { } start ? time.GetElapsedTime(start, _vendorStarted) : TimeSpan.Zero;
        var overhead = before + after;
        if (!http.Response.HasStarted)
        {
            http.Response.Headers[OverheadHeader] = overhead.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
        }
        metrics.Overhead(overhead, call.Surface, call.ProviderId);
    }

    public void Succeeded(MeteredUsage? usage) => End(UsageStatus.Succeeded, usage, null);

    /// <summary>A vendor's refusal: recorded when the call reached the vendor; one that never did only removes its record.</summary>
    public void Failed(VendorException error) => End(UsageStatus.Failed, null, error.Code.Code, recordUsage: error.ReachedVendor);

    /// <summary>
    /// The client went away or the call was stopped: what the vendor metered, when it said; else the prompt and what was
    /// streamed until then (<paramref name="streamedCharacters"/>), at four characters a token.
    /// </summary>
    public void Stopped(MeteredUsage? metered, long streamedCharacters = 0)
    {
        var input = (inputCharacters + JobCharge.CharactersPerToken - 1) / JobCharge.CharactersPerToken;
        var output = (streamedCharacters + JobCharge.CharactersPerToken - 1) / JobCharge.CharactersPerToken;
        End(UsageStatus.Cancelled, metered ?? new MeteredUsage(input, output, target.Prices.CostOf(input, output), null, VendorElapsed()), ErrorCode.Cancelled.Code);
    }

    /// <summary>How long the vendor call took (until now, if it has not answered).</summary>
    private TimeSpan VendorElapsed() => _vendorStarted == 0 ? TimeSpan.Zero : time.GetElapsedTime(_vendorStarted, _vendorEnded == 0 ? time.GetTimestamp() : _vendorEnded);

    private void End(string status, MeteredUsage? usage, string? errorCode, bool recordUsage = true)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }
        UsageEvent? row = null;
        if (recordUsage)
        {
            row = UsageEvent.ForCall(call.Surface, call.Section, call.UserId, target, usage, VendorElapsed(), status, errorCode, time.GetUtcNow());
            row.ApiKeyId = call.ApiKeyId;
            row.Purpose = call.Purpose;
            row.SubjectId = call.SubjectId;
        }
        recorder.Record(call.Id, row);
    }
}

/// <summary>When the request reached the Api, for the overhead of a gateway call (set first thing for the gateway's paths).</summary>
internal sealed class GatewayTiming(long started)
{
    public long Started { get; } = started;

    public static long? Of(HttpContext http) => http.Features.Get<GatewayTiming>()?.Started;

    public static IApplicationBuilder UseGatewayTiming(IApplicationBuilder app, TimeProvider time) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments(GatewayApi.BasePath))
        {
            context.Features.Set(new GatewayTiming(time.GetTimestamp()));
        }
        return next(context);
    });
}

/// <summary>The gateway's own metric: the time it adds to a call, as the best gateways publish it.</summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "AiPrompts.Gateway";

    private readonly Histogram<double> _overhead;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _overhead = meter.CreateHistogram<double>("aiprompts.gateway.overhead", "s",
            "The time the gateway adds to a call: from the request's arrival to the vendor call, and from the vendor's answer to ours.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1] });
    }

    public void Overhead(TimeSpan overhead, string surface, string provider) =>
        _overhead.Record(overhead.TotalSeconds, new TagList { { "aiprompts.surface", surface }, { "gen_ai.provider.name", provider } });
}
