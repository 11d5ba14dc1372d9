namespace AiPrompts.Core.Keys;

public static class ProviderKeyRules
{
    public const int MinLength = 8;
    public const int MaxLength = 1024;

    /// <summary>Null when the key is acceptable; otherwise why not (never echoing the key).</summary>
    public static string? Problem(string? key) => key switch
    {
        null or "" => "The key is required.",
        { Length: < MinLength } => $"The key must be at least {MinLength} characters.",
        { Length: > MaxLength } => $"The key must be at most {MaxLength} characters.",
        _ when key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) => "The key must not contain spaces or control characters.",
        _ => null,
    };
}
