using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AiPrompts.Api.Users;

/// <summary>Super-admin management of users: create, list, read, set role, disable and enable.</summary>
internal static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/users").WithTags("Users");
        group.MapGet("/", ListAsync).WithName("ListUsers").WithSummary("List users, newest first (keyset paging)");
        group.MapPost("/", CreateAsync).WithName("CreateUser").ProducesProblem(409).WithSummary("Create a user with a role");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetUser").WithSummary("One user");
        group.MapPut("/{id:guid}/role", SetRoleAsync).WithName("SetUserRole").ProducesProblem(409).WithSummary("Change a user's role; their tokens stop working");
        group.MapPost("/{id:guid}/disable", DisableAsync).WithName("DisableUser").ProducesProblem(409).WithSummary("Disable a user; their tokens and API keys stop working at once");
        group.MapPost("/{id:guid}/enable", EnableAsync).WithName("EnableUser").WithSummary("Enable a disabled user");
        return group;
    }

    internal sealed record Services(AppDbContext Db, AuditWriter Audit, TimeProvider Time, IPasswordHasher<User> Hasher, UserCache Users);

    internal static async Task<Results<Ok<PageEnvelope<UserResponse>>, ValidationProblem>> ListAsync(
        AppDbContext db, CancellationToken cancellationToken, int? limit = null, Guid? cursor = null, string? role = null, bool? disabled = null)
    {
        var errors = new Dictionary<string, string[]>();
        var size = Paging.Limit(limit, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (role is not null && !Roles.IsKnown(role))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["role"] = [$"The role must be one of: {string.Join(", ", Roles.All)}."] });
        }
        var query = db.Users.AsNoTracking();
        // The cursor is the last user of the previous page, by id: its place in the list is its (created_at, id).
        (DateTimeOffset, Guid)? after = cursor is { } last
            ? await db.Users.AsNoTracking().Where(u => u.Id == last).Select(u => (DateTimeOffset?)u.CreatedAt).FirstOrDefaultAsync(cancellationToken) is { } at ? (at, last) : (DateTimeOffset.MinValue, last)
            : null;
        var page = new PageRequest(size, after);
        if (role is not null)
        {
            query = query.Where(u => u.Role == role);
        }
        if (disabled is { } isDisabled)
        {
            query = query.Where(u => u.IsDisabled == isDisabled);
        }
        var window = await query.Window(page, u => u.CreatedAt, u => u.Id).ToListAsync(cancellationToken);
        var rows = window.Count > size ? window[..size] : window;
        return TypedResults.Ok(new PageEnvelope<UserResponse>([.. rows.Select(u => u.AsUserResponse())], window.Count > size ? rows[^1].Id.ToString() : null));
    }

    internal static async Task<Results<Created<DataEnvelope<UserResponse>>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = UserValidation.Validate(request);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var now = services.Time.GetUtcNow();
        var user = new User
        {
            Id = Guid.CreateVersion7(now),
            Email = User.NormalizeEmail(request.Email!),
            DisplayName = request.DisplayName!.Trim(),
            Role = request.Role!,
            PasswordHash = "",
            SecurityStamp = Guid.NewGuid(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        user.PasswordHash = services.Hasher.HashPassword(user, request.Password!);
        services.Db.Users.Add(user);
        services.Audit.Record(caller.UserId(), "user.create", "user", user.Id.ToString(), null, user.AsAuditState());
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiProblem.Of(ErrorCode.EmailTaken);
        }
        return TypedResults.Created($"/api/v1/users/{user.Id}", DataEnvelope.Of(user.AsUserResponse()));
    }

    internal static async Task<Results<Ok<DataEnvelope<UserResponse>>, ProblemHttpResult>> GetAsync(Guid id, AppDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        return user is null ? ApiProblem.Of(ErrorCode.NotFound) : TypedResults.Ok(DataEnvelope.Of(user.AsUserResponse()));
    }

    internal static async Task<Results<Ok<DataEnvelope<UserResponse>>, ValidationProblem, ProblemHttpResult>> SetRoleAsync(
        Guid id, SetRoleRequest request, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        if (request.Role is null || !Roles.IsKnown(request.Role))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["role"] = [$"The role must be one of: {string.Join(", ", Roles.All)}."] });
        }
        return await ChangeAccessAsync(id, caller, services, "user.role_change", user => user.Role = request.Role, cancellationToken);
    }

    internal static Task<Results<Ok<DataEnvelope<UserResponse>>, ValidationProblem, ProblemHttpResult>> DisableAsync(
        Guid id, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        ChangeAccessAsync(id, caller, services, "user.disable", user => user.IsDisabled = true, cancellationToken);

    internal static Task<Results<Ok<DataEnvelope<UserResponse>>, ValidationProblem, ProblemHttpResult>> EnableAsync(
        Guid id, ClaimsPrincipal caller, [AsParameters] Services services, CancellationToken cancellationToken) =>
        ChangeAccessAsync(id, caller, services, "user.enable", user => user.IsDisabled = false, cancellationToken);

    /// <summary>
    /// Changes a user's access in one transaction that locks the active super admins, so that no two
    /// concurrent changes can leave the system without one. A new security stamp ends the user's tokens.
    /// </summary>
    private static async Task<Results<Ok<DataEnvelope<UserResponse>>, ValidationProblem, ProblemHttpResult>> ChangeAccessAsync(
        Guid id, ClaimsPrincipal caller, Services services, string action, Action<User> change, CancellationToken cancellationToken)
    {
        var callerId = caller.UserId();
        if (id == callerId)
        {
            return ApiProblem.Of(ErrorCode.CannotChangeSelf);
        }
        var db = services.Db;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var activeSuperAdmins = await db.Users
            .FromSql($"SELECT * FROM users WHERE role = {Roles.SuperAdmin} AND NOT is_disabled ORDER BY id FOR UPDATE")
            .Select(u => u.Id)
            .ToListAsync(cancellationToken);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var before = user.AsAuditState();
        var wasActiveSuperAdmin = user.Role == Roles.SuperAdmin && !user.IsDisabled;
        change(user);
        var isActiveSuperAdmin = user.Role == Roles.SuperAdmin && !user.IsDisabled;
        if (wasActiveSuperAdmin && !isActiveSuperAdmin && activeSuperAdmins.Count <= 1)
        {
            return ApiProblem.Of(ErrorCode.LastSuperAdmin);
        }
        if (db.Entry(user).Properties.Any(p => p.IsModified))
        {
            user.SecurityStamp = Guid.NewGuid();
            user.UpdatedAt = services.Time.GetUtcNow();
            services.Audit.Record(callerId, action, "user", user.Id.ToString(), before, user.AsAuditState());
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        // Every Api instance forgets the user's old access before this answers.
        await services.Users.UserChangedAsync(user.Id, CancellationToken.None);
        return TypedResults.Ok(DataEnvelope.Of(user.AsUserResponse()));
    }
}
