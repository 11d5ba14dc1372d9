namespace AiPrompts.Core.ApiKeys;

/// <summary>
/// What an API key may do, chosen when it is made. A key never does more than its user's role allows;
/// its scopes narrow that further. A password sign-in (a JWT) is not narrowed by scopes.
/// </summary>
public static class ApiKeyScopes
{
    /// <summary>Submit, read, follow and cancel my prompt requests; run the active template; read the catalogue, my availability and who I am.</summary>
    public const string Prompts = "prompts";

    /// <summary>Read prompt template versions, their diff, sandbox results and the template types.</summary>
    public const string TemplatesRead = "templates:read";

    /// <summary>Everything <see cref="TemplatesRead"/> allows, and create, activate, delete, annotate and test versions, and edit template types.</summary>
    public const string TemplatesWrite = "templates:write";

    /// <summary>
    /// Everything the user's role allows: users and roles, providers, models and sections, shared and
    /// personal vendor keys, the audit log, and API keys themselves.
    /// </summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Prompts, TemplatesRead, TemplatesWrite, Admin];

    /// <summary>Least privilege: a key made without scopes may only run prompts.</summary>
    public static IReadOnlyList<string> Default { get; } = [Prompts];

    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);

    /// <summary>Whether a key holding <paramref name="held"/> may call an endpoint that needs <paramref name="required"/>.</summary>
    public static bool Allows(IReadOnlyCollection<string> held, string required) =>
        held.Contains(Admin)
        || held.Contains(required)
        || (required == TemplatesRead && held.Contains(TemplatesWrite));
}
