using AiPrompts.Core.Input;
using AiPrompts.Core.Users;

namespace AiPrompts.Api.Users;

public sealed record UserResponse(
    Guid Id,
    string Email,
    string DisplayName,
    string Role,
    bool IsDisabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastLoginAt);

public sealed record CreateUserRequest(string? Email, string? Password, string? DisplayName, string? Role);

public sealed record SetRoleRequest(string? Role);

internal static class UserMapping
{
    public static UserResponse AsUserResponse(this User user) =>
        new(user.Id, user.Email, user.DisplayName, user.Role, user.IsDisabled, user.CreatedAt, user.UpdatedAt, user.LastLoginAt);

    /// <summary>What the audit log keeps of a user: never the password hash or the security stamp.</summary>
    public static object AsAuditState(this User user) => new { user.Email, user.DisplayName, user.Role, user.IsDisabled };
}

internal static class UserValidation
{
    public const int MinPasswordLength = 12;
    public const int MaxPasswordLength = 256;

    public static Dictionary<string, string[]> Validate(CreateUserRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email) || !new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(request.Email) || request.Email.Length > 320)
        {
            errors["email"] = ["A valid email address (at most 320 characters) is required."];
        }
        if (request.Password is null || request.Password.Length < MinPasswordLength || request.Password.Length > MaxPasswordLength)
        {
            errors["password"] = [$"The password must have {MinPasswordLength} to {MaxPasswordLength} characters."];
        }
        if (string.IsNullOrWhiteSpace(request.DisplayName) || TextLength.Of(request.DisplayName) > 200)
        {
            errors["displayName"] = ["A display name of 1 to 200 characters is required."];
        }
        if (request.Role is null || !Roles.IsKnown(request.Role))
        {
            errors["role"] = [$"The role must be one of: {string.Join(", ", Roles.All)}."];
        }
        return errors;
    }
}
