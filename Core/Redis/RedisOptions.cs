using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace AiPrompts.Core.Redis;

/// <summary>
/// Connection settings in the form Aspire injects as <c>ConnectionStrings:redis</c>:
/// <c>host:port,password=...,ssl=False</c>, plus the few other StackExchange.Redis keys that matter here.
/// </summary>
public sealed record RedisOptions
{
    public required string Host { get; init; }
    public int Port { get; init; } = 6379;
    public string? User { get; init; }
    public string? Password { get; init; }
    public bool Ssl { get; init; }
    public string? SslHost { get; init; }
    public int Database { get; init; }
    public string? ClientName { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Put before every key and channel the typed methods use (not before raw <c>ExecuteAsync</c> arguments),
    /// so that installations or test runs sharing one Redis never see each other's keys.
    /// </summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>
    /// With ssl, a private certificate authority that the server's certificate must chain to (instead of
    /// the system's trusted roots), as managed Redis services with their own CA need.
    /// </summary>
    public X509Certificate2? CertificateAuthority { get; init; }

    /// <summary>Longest pause between two reconnect attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    public static RedisOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        string? endpoint = null;
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in connectionString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=');
            if (eq < 0)
            {
                endpoint ??= raw;
                continue;
            }
            options[raw[..eq].Trim()] = raw[(eq + 1)..].Trim();
        }

        if (endpoint is null)
        {
            throw new FormatException("The Redis connection string names no host:port endpoint.");
        }

        var ssl = options.TryGetValue("ssl", out var sslText) && bool.Parse(sslText);
        var (host, port) = SplitEndpoint(endpoint, ssl ? 6380 : 6379);
        return new RedisOptions
        {
            Host = host,
            Port = port,
            User = options.GetValueOrDefault("user"),
            Password = options.GetValueOrDefault("password"),
            Ssl = ssl,
            SslHost = options.GetValueOrDefault("sslHost"),
            Database = options.TryGetValue("defaultDatabase", out var db) ? int.Parse(db, CultureInfo.InvariantCulture) : 0,
            ClientName = options.GetValueOrDefault("name"),
            ConnectTimeout = Milliseconds(options, "connectTimeout", TimeSpan.FromSeconds(5)),
            CommandTimeout = Milliseconds(options, "syncTimeout", Milliseconds(options, "asyncTimeout", TimeSpan.FromSeconds(5))),
        };
    }

    /// <summary>Reads a PEM file holding one CA certificate (no key).</summary>
    public static X509Certificate2 LoadCertificateAuthority(string pemPath) => X509Certificate2.CreateFromPem(File.ReadAllText(pemPath));

    /// <summary>The endpoint as text, without any secret: safe to log.</summary>
    public override string ToString() => $"{Host}:{Port}/{Database}{(Ssl ? " (ssl)" : "")}";

    private static TimeSpan Milliseconds(Dictionary<string, string> options, string key, TimeSpan fallback) =>
        options.TryGetValue(key, out var value) ? TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)) : fallback;

    private static (string Host, int Port) SplitEndpoint(string endpoint, int defaultPort)
    {
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']');
            var host = endpoint[1..close];
            var rest = endpoint[(close + 1)..];
            return (host, rest.StartsWith(':') ? int.Parse(rest[1..], CultureInfo.InvariantCulture) : defaultPort);
        }
        var colon = endpoint.LastIndexOf(':');
        return colon < 0
            ? (endpoint, defaultPort)
            : (endpoint[..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
