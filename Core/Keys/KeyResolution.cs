using AiPrompts.Core.Errors;
using AiPrompts.Core.Users;

namespace AiPrompts.Core.Keys;

public enum KeySource
{
    /// <summary>The provider needs no key (the built-in local provider).</summary>
    None,
    Personal,
    Shared,
}

/// <summary>Everything resolution depends on, already read from the database.</summary>
public sealed record ResolutionInput(
    string CallerRole,
    bool ProviderEnabled,
    bool ProviderNeedsKey,
    bool ModelExists,
    bool ModelEnabled,
    bool ModelHasCapability,
    bool HasPersonalKey,
    bool HasSharedKey,
    bool SharedKeyEnabled,
    bool SharedAllowAdmins,
    bool SharedAllowUsers);

/// <summary>Either the key source to use, or why the caller cannot use this provider and model.</summary>
public sealed record ResolutionOutcome(KeySource? Source, ErrorCode? Refusal)
{
    public bool Allowed => Source is not null;

    public static ResolutionOutcome Use(KeySource source) => new(source, null);

    public static ResolutionOutcome Refuse(ErrorCode reason) => new(null, reason);
}

/// <summary>
/// Who may use which provider, with whose key. Pure: the same input always gives the
/// same answer, so it is tested over every combination of its inputs.
/// </summary>
public static class KeyResolution
{
    public static ResolutionOutcome Resolve(ResolutionInput input)
    {
        if (!input.ProviderEnabled)
        {
            return ResolutionOutcome.Refuse(ErrorCode.ProviderDisabled);
        }
        if (!input.ModelExists || !input.ModelEnabled)
        {
            return ResolutionOutcome.Refuse(ErrorCode.ModelUnavailable);
        }
        if (!input.ModelHasCapability)
        {
            return ResolutionOutcome.Refuse(ErrorCode.ModelLacksCapability);
        }
        if (!input.ProviderNeedsKey)
        {
            return ResolutionOutcome.Use(KeySource.None);
        }
        if (input.HasPersonalKey)
        {
            return ResolutionOutcome.Use(KeySource.Personal);
        }
        if (!input.HasSharedKey || !input.SharedKeyEnabled)
        {
            return ResolutionOutcome.Refuse(ErrorCode.KeyMissing);
        }
        return MayUseShared(input.CallerRole, input.SharedAllowAdmins, input.SharedAllowUsers)
            ? ResolutionOutcome.Use(KeySource.Shared)
            : ResolutionOutcome.Refuse(ErrorCode.SharedKeyNotAllowed);
    }

    /// <summary>The super admin, who sets the shared key, may always use it; admins and users when the policy says so.</summary>
    public static bool MayUseShared(string role, bool allowAdmins, bool allowUsers) => role switch
    {
        Roles.SuperAdmin => true,
        Roles.Admin => allowAdmins,
        Roles.User => allowUsers,
        _ => false,
    };
}
