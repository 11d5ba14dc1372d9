using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AiPrompts.Api.Budgets;

/// <summary>The limits of a budget as set: absent means no such limit; at least one is given.</summary>
public sealed record BudgetLimitsRequest(decimal? CostPerDay, decimal? CostPerMonth, long? TokensPerDay, int? SoftPercent);

public sealed record BudgetResponse(
    Guid Id, string Scope, Guid? UserId, Guid? ApiKeyId, string? Role, decimal? CostPerDay, decimal? CostPerMonth, long? TokensPerDay, int SoftPercent,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One limit now: spent (from the usage rollups), reserved by queued and running work, what is left, and when it resets.</summary>
public sealed record BudgetLimitStatus(string Limit, decimal Ceiling, decimal Used, decimal Reserved, decimal Remaining, bool SoftReached, bool Reached, DateTimeOffset ResetsAt);

/// <summary>A budget that applies to the caller: to them as a user (their own or their role's) or to the API key they came with.</summary>
public sealed record BudgetStatus(string AppliesTo, BudgetResponse Budget, IReadOnlyList<BudgetLimitStatus> Limits);

/// <summary>
/// Budgets: super admins set them per user, per API key and per role (every change audited); everyone reads the
/// ones that apply to them with what is used, reserved and left (<c>GET /api/v1/budgets/me</c>). Enforcement is in the
/// database, as each job is queued (see <see cref="Jobs.JobSubmission"/>).
/// </summary>
internal static class BudgetsApi
{
    /// <summary>numeric(18, 8): below ten billion dollars.</summary>
    private const decimal MaxCost = 9_999_999_999m;

    public static IEndpointRouteBuilder MapBudgetsApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v1/budgets").WithTags("Budgets").RequireScope(ApiKeyScopes.Prompts);
        mine.MapGet("/me", MineAsync).WithName("GetMyBudgets")
            .WithSummary("The budgets that apply to me (and to the API key I call with): limits, used, reserved, remaining and when each resets");

        var admin = app.MapGroup("/api/v1/budgets").WithTags("Budgets").RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.Admin);
        admin.MapGet("/", ListAsync).WithName("ListBudgets").WithSummary("Every budget (super admin)");
        admin.MapPut("/users/{userId:guid}", (Guid userId, BudgetLimitsRequest body, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            SetAsync(BudgetScopes.User, userId.ToString(), body, principal, services, cancellationToken))
            .WithName("SetUserBudget").WithSummary("Set a user's budget (super admin; audited)");
        admin.MapPut("/api-keys/{apiKeyId:guid}", (Guid apiKeyId, BudgetLimitsRequest body, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            SetAsync(BudgetScopes.ApiKey, apiKeyId.ToString(), body, principal, services, cancellationToken))
            .WithName("SetApiKeyBudget").WithSummary("Set an API key's budget (super admin; audited)");
        admin.MapPut("/roles/{role}", (string role, BudgetLimitsRequest body, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            SetAsync(BudgetScopes.Role, role, body, principal, services, cancellationToken))
            .WithName("SetRoleBudget").WithSummary("Set the default budget of every user of a role who has none of their own (super admin; audited)");
        admin.MapDelete("/users/{userId:guid}", (Guid userId, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            DeleteAsync(BudgetScopes.User, userId.ToString(), principal, services, cancellationToken)).WithName("DeleteUserBudget").WithSummary("Remove a user's budget (audited)");
        admin.MapDelete("/api-keys/{apiKeyId:guid}", (Guid apiKeyId, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            DeleteAsync(BudgetScopes.ApiKey, apiKeyId.ToString(), principal, services, cancellationToken)).WithName("DeleteApiKeyBudget").WithSummary("Remove an API key's budget (audited)");
        admin.MapDelete("/roles/{role}", (string role, ClaimsPrincipal principal, [AsParameters] Services services, CancellationToken cancellationToken) =>
            DeleteAsync(BudgetScopes.Role, role, principal, services, cancellationToken)).WithName("DeleteRoleBudget").WithSummary("Remove a role's default budget (audited)");
        return app;
    }

    internal sealed record Services(AppDbContext Db, AuditWriter Audit, TimeProvider Time);

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<BudgetResponse>>>> ListAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var budgets = await db.Budgets.AsNoTracking().OrderBy(b => b.Scope).ThenBy(b => b.CreatedAt).ToListAsync(cancellationToken);
        IReadOnlyList<BudgetResponse> list = [.. budgets.Select(View)];
        return TypedResults.Ok(DataEnvelope.Of(list));
    }

    internal static async Task<Results<Ok<DataEnvelope<BudgetResponse>>, ValidationProblem, ProblemHttpResult>> SetAsync(
        string scope, string subject, BudgetLimitsRequest body, ClaimsPrincipal principal, Services services, CancellationToken cancellationToken)
    {
        var errors = Validate(body);
        if (scope == BudgetScopes.Role && !Roles.IsKnown(subject))
        {
            errors["role"] = [$"The role must be one of: {string.Join(", ", Roles.All)}."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var db = services.Db;
        var id = scope == BudgetScopes.Role ? (Guid?)null : Guid.Parse(subject);
        var exists = scope switch
        {
            BudgetScopes.User => await db.Users.AnyAsync(u => u.Id == id, cancellationToken),
            BudgetScopes.ApiKey => await db.ApiKeys.AnyAsync(k => k.Id == id, cancellationToken),
            _ => true,
        };
        if (!exists)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var now = services.Time.GetUtcNow();
        var budget = await Find(db, scope, subject).FirstOrDefaultAsync(cancellationToken);
        var before = budget is null ? null : View(budget);
        if (budget is null)
        {
            budget = new Budget
            {
                Id = Guid.CreateVersion7(now),
                Scope = scope,
                UserId = scope == BudgetScopes.User ? id : null,
                ApiKeyId = scope == BudgetScopes.ApiKey ? id : null,
                Role = scope == BudgetScopes.Role ? subject : null,
                CreatedAt = now,
            };
            db.Budgets.Add(budget);
        }
        budget.CostPerDay = body.CostPerDay;
        budget.CostPerMonth = body.CostPerMonth;
        budget.TokensPerDay = body.TokensPerDay;
        budget.SoftPercent = body.SoftPercent ?? Budget.DefaultSoftPercent;
        budget.UpdatedAt = now;
        var after = View(budget);
        services.Audit.Record(principal.UserId(), before is null ? "budget.created" : "budget.updated", "budget", budget.Id.ToString(), before, after);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiProblem.Of(ErrorCode.Conflict, detail: "The budget was set by another request meanwhile; read it and try again.");
        }
        return TypedResults.Ok(DataEnvelope.Of(after));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string scope, string subject, ClaimsPrincipal principal, Services services, CancellationToken cancellationToken)
    {
        if (await Find(services.Db, scope, subject).FirstOrDefaultAsync(cancellationToken) is not { } budget)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        services.Db.Budgets.Remove(budget);
        services.Audit.Record(principal.UserId(), "budget.deleted", "budget", budget.Id.ToString(), View(budget), null);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Ok<DataEnvelope<IReadOnlyList<BudgetStatus>>>> MineAsync(
        ClaimsPrincipal principal, AppDbContext db, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = principal.AiCaller();
        var own = await db.Budgets.AsNoTracking().FirstOrDefaultAsync(b => b.Scope == BudgetScopes.User && b.UserId == caller.UserId, cancellationToken)
            ?? await db.Budgets.AsNoTracking().FirstOrDefaultAsync(b => b.Scope == BudgetScopes.Role && b.Role == caller.Role, cancellationToken);
        var key = caller.ApiKeyId is { } keyId
            ? await db.Budgets.AsNoTracking().FirstOrDefaultAsync(b => b.Scope == BudgetScopes.ApiKey && b.ApiKeyId == keyId, cancellationToken)
            : null;
        var now = time.GetUtcNow();
        var statuses = new List<BudgetStatus>();
        if (own is not null)
        {
            statuses.Add(await StatusAsync(dataSource, own, "user", caller.UserId, now, cancellationToken));
        }
        if (key is not null)
        {
            statuses.Add(await StatusAsync(dataSource, key, "api_key", caller.ApiKeyId!.Value, now, cancellationToken));
        }
        return TypedResults.Ok(DataEnvelope.Of<IReadOnlyList<BudgetStatus>>(statuses));
    }

    /// <summary>Spent today and this month (UTC) from the rollups, and held by unfinished work, for one user or API key: the figures the database admits against.</summary>
    private static async Task<BudgetStatus> StatusAsync(NpgsqlDataSource dataSource, Budget budget, string kind, Guid subject, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var column = kind == "user" ? "user_id" : "api_key_id"; // one of two fixed names, never input
        await using var command = dataSource.CreateCommand($"""
            SELECT coalesce(sum(r.cost) FILTER (WHERE r.day = $2), 0), coalesce(sum(r.cost), 0),
                   coalesce(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.day = $2), 0)::bigint,
                   coalesce((SELECT sum(h.cost) FROM budget_holds h WHERE h.subject_kind = $4 AND h.subject_id = $1), 0),
                   coalesce((SELECT sum(h.tokens) FROM budget_holds h WHERE h.subject_kind = $4 AND h.subject_id = $1), 0)::bigint
            FROM usage_rollups r WHERE r.{column} = $1 AND r.day >= $3 AND r.day <= $2
            """);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var monthStart = new DateOnly(today.Year, today.Month, 1);
        command.Parameters.Add(new() { Value = subject });
        command.Parameters.Add(new() { Value = today });
        command.Parameters.Add(new() { Value = monthStart });
        command.Parameters.Add(new() { Value = kind });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (dayCost, monthCost, dayTokens, heldCost, heldTokens) = (reader.GetDecimal(0), reader.GetDecimal(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetInt64(4));
        var tomorrow = new DateTimeOffset(today.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var nextMonth = new DateTimeOffset(monthStart.AddMonths(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var limits = new List<BudgetLimitStatus>();
        void Add(string name, decimal? ceiling, decimal used, decimal reserved, DateTimeOffset resets)
        {
            if (ceiling is { } c)
            {
                limits.Add(new BudgetLimitStatus(name, c, used, reserved, Math.Max(0, c - used - reserved),
                    (used + reserved) * 100 >= c * budget.SoftPercent, used + reserved >= c, resets));
            }
        }
        Add(BudgetLimits.CostPerDay, budget.CostPerDay, dayCost, heldCost, tomorrow);
        Add(BudgetLimits.CostPerMonth, budget.CostPerMonth, monthCost, heldCost, nextMonth);
        Add(BudgetLimits.TokensPerDay, budget.TokensPerDay, dayTokens, heldTokens, tomorrow);
        return new BudgetStatus(kind, View(budget), limits);
    }

    private static IQueryable<Budget> Find(AppDbContext db, string scope, string subject)
    {
        if (scope == BudgetScopes.Role)
        {
            return db.Budgets.Where(b => b.Scope == scope && b.Role == subject);
        }
        var id = Guid.Parse(subject);
        return scope == BudgetScopes.User ? db.Budgets.Where(b => b.Scope == scope && b.UserId == id) : db.Budgets.Where(b => b.Scope == scope && b.ApiKeyId == id);
    }

    private static Dictionary<string, string[]> Validate(BudgetLimitsRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.CostPerDay is null && body.CostPerMonth is null && body.TokensPerDay is null)
        {
            errors["body"] = ["Set at least one of costPerDay, costPerMonth and tokensPerDay."];
        }
        foreach (var (field, value) in (ReadOnlySpan<(string, decimal?)>)[("costPerDay", body.CostPerDay), ("costPerMonth", body.CostPerMonth)])
        {
            if (value is < 0 or > MaxCost)
            {
                errors[field] = [$"The {field} is between 0 and {MaxCost} US dollars."];
            }
            else if (value is { } v && v.Scale > 8 && decimal.Round(v, 8) != v)
            {
                errors[field] = [$"The {field} has at most 8 decimal places."];
            }
        }
        if (body.TokensPerDay is < 0)
        {
            errors["tokensPerDay"] = ["The tokensPerDay is 0 or more."];
        }
        if (body.SoftPercent is < 1 or > 100)
        {
            errors["softPercent"] = ["The softPercent is between 1 and 100."];
        }
        return errors;
    }

    private static BudgetResponse View(Budget b) =>
        new(b.Id, b.Scope, b.UserId, b.ApiKeyId, b.Role, b.CostPerDay, b.CostPerMonth, b.TokensPerDay, b.SoftPercent, b.CreatedAt, b.UpdatedAt);
}
