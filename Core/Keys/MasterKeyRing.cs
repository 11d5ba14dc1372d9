using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace AiPrompts.Core.Keys;

/// <summary>
/// The master keys that wrap every vendor key's data key. <c>Keys:MasterKey</c> (base64, 32 bytes) is the
/// current one, numbered <c>Keys:MasterKeyVersion</c> (default 1); <c>Keys:RetiredMasterKeys:{version}</c>
/// keeps older ones readable until <c>rotate-master-key</c> has rewrapped every row.
/// </summary>
public sealed class MasterKeyRing
{
    public const string Section = "Keys";
    private const string DevelopmentSeed = "AiPrompts development master key: never use outside Development";

    private readonly Dictionary<int, byte[]> _keys;

    public MasterKeyRing(int currentVersion, byte[] current, IReadOnlyDictionary<int, byte[]>? retired = null, bool isDevelopmentKey = false)
    {
        if (current.Length != 32)
        {
            throw new ArgumentException("A master key must be exactly 32 bytes (AES-256).", nameof(current));
        }
        if (currentVersion < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(currentVersion), "Master key versions start at 1.");
        }
        _keys = new Dictionary<int, byte[]> { [currentVersion] = current };
        foreach (var (version, key) in retired ?? new Dictionary<int, byte[]>())
        {
            if (key.Length != 32)
            {
                throw new ArgumentException($"Retired master key {version} must be exactly 32 bytes.", nameof(retired));
            }
            _keys.TryAdd(version, key);
        }
        CurrentVersion = currentVersion;
        IsDevelopmentKey = isDevelopmentKey;
    }

    public int CurrentVersion { get; }
    public bool IsDevelopmentKey { get; }
    internal byte[] Current => _keys[CurrentVersion];
    public IReadOnlyCollection<int> Versions => _keys.Keys;

    internal byte[]? Get(int version) => _keys.GetValueOrDefault(version);

    /// <summary>
    /// Reads the ring from configuration. Without a master key, start-up fails, except in Development,
    /// where a fixed, publicly known key keeps a first run simple (and says so in the log).
    /// </summary>
    public static MasterKeyRing FromConfiguration(IConfiguration configuration, IHostEnvironment environment)
    {
        var section = configuration.GetSection(Section);
        var version = section.GetValue("MasterKeyVersion", 1);
        var encoded = section["MasterKey"];
        var retired = section.GetSection("RetiredMasterKeys").GetChildren()
            .ToDictionary(
                child => int.TryParse(child.Key, out var v) ? v : throw new InvalidOperationException($"'{Section}:RetiredMasterKeys:{child.Key}': the key must be a version number."),
                child => Decode(child.Value, $"{Section}:RetiredMasterKeys:{child.Key}"));
        if (string.IsNullOrWhiteSpace(encoded))
        {
            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException(
                    $"The master key '{Section}:MasterKey' is required outside Development (environment variable Keys__MasterKey): " +
                    "32 random bytes in base64, for example from `head -c 32 /dev/urandom | base64`.");
            }
            return new MasterKeyRing(version, SHA256.HashData(Encoding.UTF8.GetBytes(DevelopmentSeed)), retired, isDevelopmentKey: true);
        }
        return new MasterKeyRing(version, Decode(encoded, $"{Section}:MasterKey"), retired);
    }

    private static byte[] Decode(string? value, string name)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value?.Trim() ?? "");
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"'{name}' is not valid base64.");
        }
        return bytes.Length == 32 ? bytes : throw new InvalidOperationException($"'{name}' must decode to exactly 32 bytes; it decodes to {bytes.Length}.");
    }
}
