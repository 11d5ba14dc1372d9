using System.Text.RegularExpressions;

namespace AiPrompts.Api.Input;

/// <summary>
/// The one rule for a purpose code, the "why" a usage row carries (a prompt request's <c>purpose.code</c>, a gateway call's
/// <c>metadata.purpose</c> or <c>X-AiPrompts-Purpose</c>): 1 to 64 characters of a-z, 0-9, '_', '-' and '.', starting with a
/// letter or digit, so reports can group by it.
/// </summary>
public static partial class PurposeCodes
{
    public const string Rule = "The purpose code is 1 to 64 characters of a-z, 0-9, '_', '-' and '.', starting with a letter or digit.";

    public static bool IsValid(string code) => Pattern().IsMatch(code);

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();
}
