using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Users;

public sealed record TokenRequest(string? Email, string? Password);

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, DateTimeOffset ExpiresAt);

internal static class AuthApi
{
    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Auth");

        group.MapPost("/auth/token", IssueTokenAsync)
            .AllowAnonymous()
            .WithName("IssueToken").ProducesProblem(401).ProducesProblem(429)
            .WithSummary("Exchange an email and password for a JWT access token")
            .WithDescription("Attempts are limited per account and client address together, and per client address; an account that many addresses guess at is slowed to one attempt a second, never locked. Over a limit: 429 with Retry-After.");

        group.MapGet("/me", GetMeAsync).ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(RequiredScope.AnyKey)
            .WithName("GetMe")
            .WithSummary("The signed-in user, with role and permissions");
        return group;
    }

    internal static async Task<Results<Ok<DataEnvelope<TokenResponse>>, ValidationProblem, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest request,
        HttpContext http,
        AppDbContext db,
        IPasswordHasher<User> hasher,
        TokenIssuer issuer,
        LoginThrottle throttle,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email) || !new EmailAddressAttribute().IsValid(request.Email))
        {
            errors["email"] = ["A valid email address is required."];
        }
        if (string.IsNullOrEmpty(request.Password))
        {
            errors["password"] = ["The password is required."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var email = User.NormalizeEmail(request.Email!);
        var address = http.Connection.RemoteIpAddress?.ToString();
        var wait = await throttle.TryAcquireAsync(email, address, cancellationToken);
        if (wait is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return ApiProblem.Of(ErrorCode.RateLimited);
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == email, cancellationToken);
        if (user is null)
        {
            // Same work as a real check, so timing does not tell which emails exist.
            hasher.VerifyHashedPassword(DummyUser, DummyUser.PasswordHash, request.Password!);
            await throttle.FailedAsync(email, cancellationToken);
            return ApiProblem.Of(ErrorCode.InvalidCredentials);
        }
        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, request.Password!);
        if (verdict == PasswordVerificationResult.Failed || user.IsDisabled)
        {
            await throttle.FailedAsync(email, cancellationToken);
            return ApiProblem.Of(ErrorCode.InvalidCredentials);
        }
        await throttle.SucceededAsync(email, address, cancellationToken);
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, request.Password!);
        }
        user.LastLoginAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        var token = issuer.Issue(user);
        return TypedResults.Ok(DataEnvelope.Of(new TokenResponse(token.AccessToken, "Bearer", token.ExpiresIn, token.ExpiresAt)));
    }

    internal static async Task<Results<Ok<DataEnvelope<MeResponse>>, ProblemHttpResult>> GetMeAsync(ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == principal.UserId(), cancellationToken);
        if (user is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound); // a token of a user who has since been deleted
        }
        return TypedResults.Ok(DataEnvelope.Of(new MeResponse(
            user.AsUserResponse(),
            Permissions.For(user.Role),
            principal.FindFirst(AppClaims.AuthMethod)?.Value ?? AppClaims.PasswordMethod)));
    }

    private static readonly User DummyUser = new()
    {
        Email = "nobody@invalid",
        DisplayName = "nobody",
        Role = Roles.User,
        PasswordHash = new PasswordHasher<User>().HashPassword(null!, Guid.NewGuid().ToString()),
    };
}

public sealed record MeResponse(UserResponse User, IReadOnlyList<string> Permissions, string AuthMethod);
