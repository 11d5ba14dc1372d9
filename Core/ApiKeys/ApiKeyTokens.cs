using System.Security.Cryptography;
using System.Text;

namespace AiPrompts.Core.ApiKeys;

/// <summary>Makes and hashes API keys: <c>aip_</c> followed by 32 random bytes in base64url.</summary>
public static class ApiKeyTokens
{
    public const string Marker = "aip_";
    public const int PrefixLength = 12;

    public static string Create() => Marker + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static bool LooksLikeApiKey(string token) => token.StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>The keys carry 256 random bits, so one SHA-256 is enough: no salt or stretching is needed.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string PrefixOf(string key) => key[..Math.Min(PrefixLength, key.Length)];

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
