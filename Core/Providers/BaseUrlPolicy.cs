using System.Net;
using System.Net.Sockets;

namespace AiPrompts.Core.Providers;

/// <summary>
/// Keeps vendor calls away from internal networks (SSRF): a custom provider's base URL may not point at
/// loopback, link-local (cloud metadata), private, shared or unspecified addresses, unless the operator
/// sets <c>Ai:AllowPrivateBaseUrls</c>. Checked when the URL is saved, and again at connect time by the
/// vendors' HTTP handler, so a DNS answer that changes later cannot get around it.
/// </summary>
public static class BaseUrlPolicy
{
    public const string AllowPrivateSetting = "Ai:AllowPrivateBaseUrls";

    /// <summary>Null when the URL may be used; otherwise the reason, for the error message.</summary>
    public static async Task<string?> ProblemAsync(string? url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "it must be an absolute http(s) URL";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "it must not contain a user name or password";
        }
        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return "it must not have a query or fragment";
        }
        if (allowPrivate)
        {
            return null;
        }
        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return "it must use https";
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken);
            }
            catch (SocketException)
            {
                return "its host name does not resolve";
            }
        }
        return addresses.Length == 0 ? "its host name does not resolve"
            : addresses.Any(IsInternal) ? "it points at a loopback, link-local or private address"
            : null;
    }

    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0 || b[0] == 10 || b[0] == 127
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19))
                || b[0] >= 224;
        }
        var bytes = address.GetAddressBytes();
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (bytes[0] & 0xFE) == 0xFC; // unique local fc00::/7
    }
}
