using System.Security.Cryptography;
using System.Text;

namespace AiPrompts.Core.Keys;

/// <summary>Where a ciphertext belongs. Decryption succeeds only for the same row, provider and owner.</summary>
public readonly record struct KeyBinding(Guid KeyId, string ProviderId, Guid? OwnerUserId)
{
    internal byte[] AssociatedData(int masterKeyVersion) =>
        Encoding.UTF8.GetBytes($"aiprompts/provider_key/v1|{KeyId:N}|{ProviderId}|{OwnerUserId?.ToString("N") ?? "shared"}|mk{masterKeyVersion}");

    public static KeyBinding Of(ProviderKey key) => new(key.Id, key.ProviderId, key.OwnerUserId);
}

public sealed record EncryptedSecret(byte[] Ciphertext, byte[] WrappedKey, int MasterKeyVersion);

/// <summary>The key could not be decrypted: wrong master key, tampered or moved ciphertext. Never carries key material.</summary>
public sealed class KeyDecryptionException(string message) : Exception(message);

/// <summary>
/// Envelope encryption with AES-256-GCM: each secret gets a fresh data key, the data key is wrapped by
/// the master key, and both layers carry the row's identity as associated data, so a ciphertext copied
/// onto another row (or another owner's row) does not decrypt.
/// </summary>
public sealed class KeyVault(MasterKeyRing ring)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public int CurrentVersion => ring.CurrentVersion;

    public EncryptedSecret Encrypt(string secret, KeyBinding binding)
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var plaintext = Encoding.UTF8.GetBytes(secret);
            var aad = binding.AssociatedData(ring.CurrentVersion);
            var ciphertext = Seal(dataKey, plaintext, aad);
            CryptographicOperations.ZeroMemory(plaintext);
            return new EncryptedSecret(ciphertext, Seal(ring.Current, dataKey, aad), ring.CurrentVersion);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public string Decrypt(ProviderKey key)
    {
        var dataKey = UnwrapDataKey(key);
        try
        {
            var plaintext = Open(dataKey, key.Ciphertext, KeyBinding.Of(key).AssociatedData(key.MasterKeyVersion))
                ?? throw new KeyDecryptionException($"Vendor key {key.Id} does not decrypt: its ciphertext was altered or belongs to another row.");
            return Encoding.UTF8.GetString(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>Re-encrypts a key under the current master key (with a new data key), for master-key rotation.</summary>
    public EncryptedSecret Reencrypt(ProviderKey key) => Encrypt(Decrypt(key), KeyBinding.Of(key));

    private byte[] UnwrapDataKey(ProviderKey key)
    {
        var master = ring.Get(key.MasterKeyVersion)
            ?? throw new KeyDecryptionException($"Vendor key {key.Id} is under master key version {key.MasterKeyVersion}, which is not configured.");
        return Open(master, key.WrappedKey, KeyBinding.Of(key).AssociatedData(key.MasterKeyVersion))
            ?? throw new KeyDecryptionException($"Vendor key {key.Id} does not decrypt: wrong master key, or its data key was altered or moved.");
    }

    private static byte[] Seal(byte[] key, byte[] plaintext, byte[] aad)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), aad);
        return output;
    }

    private static byte[]? Open(byte[] key, byte[] sealedData, byte[] aad)
    {
        if (sealedData.Length < NonceSize + TagSize)
        {
            return null;
        }
        var length = sealedData.Length - NonceSize - TagSize;
        var plaintext = new byte[length];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedData.AsSpan(0, NonceSize), sealedData.AsSpan(NonceSize, length), sealedData.AsSpan(NonceSize + length), plaintext, aad);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
