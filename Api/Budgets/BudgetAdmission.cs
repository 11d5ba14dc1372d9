using System.Globalization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AiPrompts.Api.Budgets;

/// <summary>
/// Every job the Api queues with a charge passes here, whichever surface queues it: before the insert its expected
/// tokens are counted against the per-minute token limits (Redis, every instance); the insert itself is admitted
/// against the budgets by the database (the budget_reserve trigger), which refuses it past a hard limit and sets
/// a warning past a soft threshold; after the insert that warning becomes the answer's <c>Budget-Warning</c> header.
/// </summary>
internal sealed class BudgetAdmission(RequestRateLimiter limiter, IHttpContextAccessor accessor) : SaveChangesInterceptor
{
    public const string WarningHeader = "Budget-Warning";

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        foreach (var entry in eventData.Context?.ChangeTracker.Entries<Job>() ?? [])
        {
            if (entry.State == EntityState.Added && entry.Entity is { UserId: { } user, ReservedTokens: { } tokens })
            {
                await limiter.TakeTokensAsync(accessor.HttpContext, user, entry.Entity.ApiKeyId, tokens, cancellationToken);
            }
        }
        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        eventData.Context?.ChangeTracker.Entries<Job>().Any(e => e.State == EntityState.Added && e.Entity.ReservedTokens is not null) == true
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
