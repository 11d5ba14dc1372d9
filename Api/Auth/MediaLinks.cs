using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AiPrompts.Core.Media;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Auth;

/// <summary>
/// Signed, expiring file URLs that work in an <c>&lt;img src&gt;</c> (which sends no token):
/// <c>/api/v1/files/{id}?expires={unix seconds}&amp;signature={HMAC-SHA256 of id and expiry}</c>. The key is
/// <c>Media:SigningKey</c>, else one derived (HKDF) from the JWT signing key, so every Api instance agrees.
/// The URL is absolute, so that a page on another origin can use it: under <c>Media:PublicBaseUrl</c> when set
/// (the address clients reach the Api at, behind a proxy), else the request's own scheme, host and path base.
/// </summary>
internal sealed class MediaLinks
{
    private readonly byte[] _key;
    private readonly MediaOptions _options;
    private readonly TimeProvider _time;
    private readonly IHttpContextAccessor _http;

    public MediaLinks(IOptions<MediaOptions> options, IOptions<JwtOptions> jwt, IHttpContextAccessor http, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _http = http;
        _key = _options.SigningKey is { Length: > 0 } given
            ? Convert.FromBase64String(given)
            : HKDF.DeriveKey(HashAlgorithmName.SHA256, jwt.Value.KeyBytes, 32, info: "aiprompts media links"u8.ToArray());
        if (_key.Length < 32)
        {
            throw new InvalidOperationException($"{MediaOptions.Section}:SigningKey must hold at least 32 bytes.");
        }
    }

    /// <summary>A URL that works until the link lifetime passes, or the file's own expiry if that comes first.</summary>
    public (string Url, DateTimeOffset ExpiresAt) For(MediaFile file)
    {
        var expires = _time.GetUtcNow() + _options.LinkLifetime;
        if (file.ExpiresAt < expires)
        {
            expires = file.ExpiresAt.Value;
        }
        var seconds = expires.ToUnixTimeSeconds();
        return ($"{BaseUrl()}/api/v1/files/{file.Id:N}?expires={seconds.ToString(CultureInfo.InvariantCulture)}&signature={Sign(file.Id, seconds)}", DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private string BaseUrl() =>
        _options.PublicBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/')
        : _http.HttpContext?.Request is { } request ? $"{request.Scheme}://{request.Host}{request.PathBase}"
        : "";

    /// <summary>Whether the signature is ours for this file and expiry (in constant time).</summary>
    public bool IsSigned(Guid id, long expires, string? signature) =>
        signature is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(id, expires)), Encoding.ASCII.GetBytes(signature));

    private string Sign(Guid id, long expires) =>
        Base64Url(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes($"{id:N}.{expires.ToString(CultureInfo.InvariantCulture)}")));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
