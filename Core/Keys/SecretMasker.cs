using System.Text.RegularExpressions;

namespace AiPrompts.Core.Keys;

/// <summary>Removes key material from text that came back from a vendor, before it is stored, logged or shown.</summary>
public static partial class SecretMasker
{
    public const string Mask = "***";

    public static string Apply(string? text, string? secret = null)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }
        if (!string.IsNullOrEmpty(secret) && secret.Length >= 4)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        return KeyLike().Replace(text, Mask);
    }

    /// <summary>The last four characters shown for a stored key: "…abcd".</summary>
    public static string LastFour(string secret) => secret.Length <= 4 ? secret : secret[^4..];

    // OpenAI / OpenRouter / Anthropic (sk-...), Hugging Face (hf_...), Google (AIza...), bearer headers, and
    // the partial "Incorrect API key provided: sk-abc***wxyz" echoes some vendors send back.
    [GeneratedRegex(@"(?:sk-[A-Za-z0-9_\-\*]{6,}|hf_[A-Za-z0-9]{6,}|AIza[0-9A-Za-z_\-]{20,}|(?<=Bearer\s+)[A-Za-z0-9_\-\.=]{8,}|aip_[A-Za-z0-9_\-]{8,})", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLike();
}
