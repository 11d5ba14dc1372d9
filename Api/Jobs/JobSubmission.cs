using System.Globalization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace AiPrompts.Api.Jobs;

/// <summary>
/// What became of a submission: refused at admission (the answer is <see cref="Refusal"/>), declined by the surface's own
/// save (<see cref="Saved"/> false: it knows why), or saved, with whether its jobs ended within the wait asked for.
/// </summary>
internal sealed record Submission(ProblemHttpResult? Refusal, bool Saved, bool Finished);

/// <summary>
/// The Api's one way to submit jobs, whatever the surface (the front door): <b>admit</b> each job that carries a charge
/// (its expected tokens against the per-minute token limits in Redis, then its expected cost and tokens against the budgets
/// in Postgres, each in a short transaction of its own); <b>save</b> (the surface's own rows with the jobs, in whatever
/// transaction it needs; it may decline, e.g. a thread that is busy); <b>wake</b> the workers; and optionally <b>wait</b>
/// for the jobs to end (listening from before the save, so a fast end is not missed). A refusal at admission is a 429
/// with Retry-After (<c>rate_limited</c> or <c>budget_exceeded</c>); a save that declines or fails gives the admissions
/// back at once (one that cannot be given back now, the Worker's sweep gives back). A soft budget threshold crossed becomes
/// the answer's <c>Budget-Warning</c> header. The insert trigger stays as the backstop for a job saved any other way.
/// </summary>
internal sealed partial class JobSubmission(
    RequestRateLimiter limiter, BudgetReservations reservations, JobScheduler scheduler, JobEvents events, AppDbContext db,
    IHttpContextAccessor http, TimeProvider time, ILogger<JobSubmission> logger)
{
    public const string WarningHeader = "Budget-Warning";

    public async Task<Submission> SubmitAsync(IReadOnlyList<Job> jobs, Func<CancellationToken, Task<bool>> save, CancellationToken cancellationToken, TimeSpan wait = default)
    {
        var charged = jobs.Where(j => j is { UserId: not null, ReservedTokens: not null, ReservedCost: not null }).ToList();
        if (await AdmitAsync(charged, cancellationToken) is { } refusal)
        {
            return new Submission(refusal, Saved: false, Finished: false);
        }

        var waiters = new List<JobWaiter>();
        try
        {
            if (wait > TimeSpan.Zero)
            {
                foreach (var job in jobs)
                {
                    waiters.Add(await JobWaiter.StartAsync(events, job.Id));
                }
            }
            bool saved;
            try
            {
                saved = await save(cancellationToken);
            }
            catch (Exception ex) when (BudgetRefusal.Find(ex) is { } backstop)
            {
                // The insert trigger refused a job that was saved without its admission: the same answer.
                await GiveBackAsync(charged);
                return new Submission(Refused(backstop), Saved: false, Finished: false);
            }
            catch
            {
                await GiveBackAsync(charged);
                throw;
            }
            if (!saved)
            {
                await GiveBackAsync(charged);
                return new Submission(null, Saved: false, Finished: false);
            }
            WarnOfBudgets(charged);
            await scheduler.WakeWorkersAsync(CancellationToken.None);

            var started = time.GetTimestamp();
            var finished = waiters.Count > 0;
            foreach (var waiter in waiters)
            {
                var remaining = wait - time.GetElapsedTime(started);
                finished &= await waiter.WaitAsync(db, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, time, cancellationToken);
            }
            return new Submission(null, Saved: true, finished);
        }
        finally
        {
            foreach (var waiter in waiters)
            {
                await waiter.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Tokens first (Redis: cheap, and a refusal there costs the database nothing), then the budgets, all or none: a budget
    /// that refuses one job gives back the others' holds (the tokens counted stay counted, as a refused request's do).
    /// </summary>
    private async Task<ProblemHttpResult?> AdmitAsync(List<Job> charged, CancellationToken cancellationToken)
    {
        foreach (var job in charged)
        {
            if (await limiter.TakeTokensAsync(http.HttpContext, job.UserId!.Value, job.ApiKeyId, job.ReservedTokens!.Value, cancellationToken) is { } limited)
            {
                return limited;
            }
        }
        var admitted = new List<Job>(charged.Count);
        try
        {
            foreach (var job in charged)
            {
                await reservations.ReserveAsync(job.Id, new JobCharge(job.UserId!.Value, job.ApiKeyId, job.ReservedTokens!.Value, job.ReservedCost!.Value), job.CreatedAt, cancellationToken);
                admitted.Add(job);
            }
            return null;
        }
        catch (Exception ex) when (BudgetRefusal.Find(ex) is { } refusal)
        {
            await GiveBackAsync(admitted);
            return Refused(refusal);
        }
        catch
        {
            // The database failed (an outage is the error handler's 503): those already admitted go back first.
            await GiveBackAsync(admitted);
            throw;
        }
    }

    private ProblemHttpResult Refused(BudgetRefusal refusal) => BudgetExceeded(http.HttpContext, refusal, time, logger);

    /// <summary>
    /// The answer to new model work a budget refuses, whichever path asked (a job's submit, a gateway call): logged, 429
    /// <c>budget_exceeded</c> naming the limit, with <c>Retry-After</c> until it resets.
    /// </summary>
    internal static ProblemHttpResult BudgetExceeded(HttpContext? context, BudgetRefusal refusal, TimeProvider time, ILogger logger)
    {
        LogBudgetRefused(logger, refusal.Scope, refusal.Limit, refusal.BudgetId);
        if (context is { Response.HasStarted: false })
        {
            var seconds = Math.Max(1, (long)Math.Ceiling((refusal.ResetsAt - time.GetUtcNow()).TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return ApiProblem.Of(ErrorCode.BudgetExceeded, refusal.MessageArgs);
    }

    /// <summary>
    /// Gives back the admissions of jobs that were not saved, whatever the request's own cancellation says; one that
    /// cannot be given back now (the database is down) is given back by the Worker's sweep.
    /// </summary>
    private async Task GiveBackAsync(List<Job> jobs)
    {
        foreach (var job in jobs)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await reservations.CancelAsync(job.Id, timeout.Token);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException || DatabaseOutage.Find(ex) is not null)
            {
            }
        }
    }

    /// <summary>A soft threshold the insert noted (read back with the row) becomes the answer's header.</summary>
    private void WarnOfBudgets(List<Job> saved)
    {
        if (http.HttpContext is not { Response.HasStarted: false } context)
        {
            return;
        }
        foreach (var job in saved)
        {
            if (BudgetRefusal.Parse(job.BudgetWarning) is { } warning)
            {
                context.Response.Headers[WarningHeader] = WarningValue(warning);
            }
        }
    }

    /// <summary>A structured-field dictionary (RFC 9651): which budget and limit, how much of it is used with this request, and when it resets.</summary>
    internal static string WarningValue(BudgetRefusal warning) => string.Create(CultureInfo.InvariantCulture,
        $"scope=\"{warning.Scope}\", limit=\"{warning.Limit}\", percent={(warning.Ceiling == 0 ? 100 : (int)Math.Floor((warning.Used + warning.Requested) * 100 / warning.Ceiling))}, soft={warning.SoftPercent}, resets=\"{warning.MessageArgs["resetsAt"]}\"");

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Refused new model work: the {Scope} budget's {Limit} limit is reached (budget {BudgetId})")]
    private static partial void LogBudgetRefused(ILogger logger, string scope, string limit, Guid budgetId);
}
