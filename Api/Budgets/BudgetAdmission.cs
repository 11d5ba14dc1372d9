using System.Globalization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace AiPrompts.Api.Budgets;

/// <summary>
/// Every job the Api queues with a charge passes here, whichever surface queues it: before the insert its expected
/// tokens are counted against the per-minute token limits (Redis, every instance), then it is admitted against the
/// budgets by the database in a short transaction of its own (<see cref="BudgetReservations"/>), which refuses it past a
/// hard limit and notes a warning past a soft threshold; the job's insert takes that reservation over (a save that
/// fails gives it back at once). After the insert the warning becomes the answer's <c>Budget-Warning</c> header.
/// </summary>
internal sealed class BudgetAdmission(RequestRateLimiter limiter, BudgetReservations reservations, IHttpContextAccessor accessor) : SaveChangesInterceptor
{
    public const string WarningHeader = "Budget-Warning";

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        var jobs = Charged(eventData.Context).ToList();
        foreach (var job in jobs)
        {
            await limiter.TakeTokensAsync(accessor.HttpContext, job.UserId!.Value, job.ApiKeyId, job.ReservedTokens!.Value, cancellationToken);
        }
        var reserved = new List<Guid>(jobs.Count);
        try
        {
            foreach (var job in jobs)
            {
                await reservations.ReserveAsync(job.Id, new JobCharge(job.UserId!.Value, job.ApiKeyId, job.ReservedTokens!.Value, job.ReservedCost!.Value), job.CreatedAt, cancellationToken);
                reserved.Add(job.Id);
            }
        }
        catch
        {
            // One of several refused (or the database failed): those already admitted are given back before the refusal is answered.
            await CancelAsync(reserved);
            throw;
        }
        return result;
    }

    public override async Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default) =>
        await CancelAsync([.. Charged(eventData.Context).Select(j => j.Id)]);

    public override async Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default) =>
        await CancelAsync([.. Charged(eventData.Context).Select(j => j.Id)]);

    /// <summary>The jobs this save adds that carry a charge.</summary>
    private static IEnumerable<Job> Charged(DbContext? context) =>
        context?.ChangeTracker.Entries<Job>().Where(e => e.State == EntityState.Added && e.Entity is { UserId: not null, ReservedTokens: not null, ReservedCost: not null })
            .Select(e => e.Entity) ?? [];

    /// <summary>
    /// Gives back the reservations of jobs that were not saved, whatever the request's own cancellation says; one that
    /// cannot be given back now (the database is down) is given back by the Worker's sweep.
    /// </summary>
    private async Task CancelAsync(IReadOnlyList<Guid> jobs)
    {
        foreach (var job in jobs)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await reservations.CancelAsync(job, timeout.Token);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
            {
            }
        }
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        Charged(eventData.Context).Any()
            ? throw new InvalidOperationException("A job with a charge is saved with SaveChangesAsync, which counts its tokens.")
            : result;

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (accessor.HttpContext is { Response.HasStarted: false } http)
        {
            foreach (var entry in eventData.Context?.ChangeTracker.Entries<Job>() ?? [])
            {
                if (BudgetRefusal.Parse(entry.Entity.BudgetWarning) is { } warning)
                {
                    http.Response.Headers[WarningHeader] = Header(warning);
                }
            }
        }
        return ValueTask.FromResult(result);
    }

    /// <summary>A structured-field dictionary (RFC 9651): which budget and limit, how much of it is used with this request, and when it resets.</summary>
    internal static string Header(BudgetRefusal warning) => string.Create(CultureInfo.InvariantCulture,
        $"scope=\"{warning.Scope}\", limit=\"{warning.Limit}\", percent={(warning.Ceiling == 0 ? 100 : (int)Math.Floor((warning.Used + warning.Requested) * 100 / warning.Ceiling))}, soft={warning.SoftPercent}, resets=\"{warning.MessageArgs["resetsAt"]}\"");
}

/// <summary>A job refused by a budget (429 <c>budget_exceeded</c>, Retry-After until the limit resets) or by the token limits (429 <c>rate_limited</c>).</summary>
internal sealed partial class AdmissionExceptionHandler(TimeProvider time, ILogger<AdmissionExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult result;
        long retryAfter;
        if (BudgetRefusal.Find(exception) is { } refusal)
        {
            retryAfter = Math.Max(1, (long)Math.Ceiling((refusal.ResetsAt - time.GetUtcNow()).TotalSeconds));
            LogBudgetRefused(logger, refusal.Scope, refusal.Limit, refusal.BudgetId);
            result = ApiProblem.Of(ErrorCode.BudgetExceeded, refusal.MessageArgs);
        }
        else if (Find<RateLimitExceededException>(exception) is { } limited)
        {
            retryAfter = limited.RetryAfterSeconds;
            result = ApiProblem.Of(ErrorCode.RateLimited, detail: limited.Message);
        }
        else
        {
            return false;
        }
        httpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await result.ExecuteAsync(httpContext);
        return true;
    }

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }
        return null;
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Refused new model work: the {Scope} budget's {Limit} limit is reached (budget {BudgetId})")]
    private static partial void LogBudgetRefused(ILogger logger, string scope, string limit, Guid budgetId);
}
