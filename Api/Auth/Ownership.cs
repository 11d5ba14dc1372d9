using System.Security.Claims;

namespace AiPrompts.Api.Auth;

/// <summary>Who besides its owner may read a kind of row.</summary>
internal enum Visibility
{
    /// <summary>The owner's own content (threads and their runs, conversations, studio requests, media files, personal keys): the owner only, a super admin included.</summary>
    Private,

    /// <summary>Records a super admin oversees (the prompt-request log, usage): the owner, and a super admin.</summary>
    Overseen,
}

/// <summary>
/// The one rule of who reads what. Every row a call makes belongs to its caller. A <see cref="Visibility.Private"/> row is
/// read by its owner only; an <see cref="Visibility.Overseen"/> one by its owner and by a super admin. Anyone else is told
/// it does not exist (404, never 403), and a list holds only what the caller may read. Writes (cancel included) follow the
/// same rule as reads.
/// </summary>
internal static class Ownership
{
    public static bool CanRead(this ClaimsPrincipal caller, Guid owner, Visibility visibility) =>
        owner == caller.UserId() || (visibility == Visibility.Overseen && caller.IsSuperAdmin());

    /// <summary>
    /// Whose rows a list shows: the caller's own; for <see cref="Visibility.Overseen"/> rows and a super admin, the user asked
    /// for, or everyone's (null). Asking for someone else's without the right is refused by the caller (403: the filter itself is not allowed).
    /// </summary>
    public static Guid? ListedOwner(this ClaimsPrincipal caller, Guid? asked, Visibility visibility) =>
        visibility == Visibility.Overseen && caller.IsSuperAdmin() ? asked : caller.UserId();

    /// <summary>Whether the caller may filter a list by another user.</summary>
    public static bool MayList(this ClaimsPrincipal caller, Guid? asked, Visibility visibility) =>
        asked is not { } other || other == caller.UserId() || (visibility == Visibility.Overseen && caller.IsSuperAdmin());
}
