using System.Security.Cryptography;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace AiPrompts.Tests.Keys;

public sealed class KeyVaultTests
{
    private static readonly byte[] MasterA = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] MasterB = RandomNumberGenerator.GetBytes(32);

    private static ProviderKey Row(Guid id, string provider, Guid? owner, EncryptedSecret secret) => new()
    {
        Id = id, ProviderId = provider, OwnerUserId = owner, Ciphertext = secret.Ciphertext, WrappedKey = secret.WrappedKey,
        MasterKeyVersion = secret.MasterKeyVersion, LastFour = "xxxx",
    };

    [Fact]
    public void A_key_round_trips_and_its_ciphertext_does_not_contain_it()
    {
        var vault = new KeyVault(new MasterKeyRing(1, MasterA));
        var id = Guid.NewGuid();
        const string secret = "sk-roundtrip-0123456789abcdef";
        var encrypted = vault.Encrypt(secret, new KeyBinding(id, "openai", null));
        Assert.Equal(secret, vault.Decrypt(Row(id, "openai", null, encrypted)));
        Assert.DoesNotContain("roundtrip", System.Text.Encoding.UTF8.GetString(encrypted.Ciphertext), StringComparison.Ordinal);
        // A fresh data key and nonce each time: the same secret never encrypts the same way twice.
        Assert.NotEqual(encrypted.Ciphertext, vault.Encrypt(secret, new KeyBinding(id, "openai", null)).Ciphertext);
    }

    [Fact]
    public void Ciphertext_moved_to_another_row_owner_or_provider_does_not_decrypt()
    {
        var vault = new KeyVault(new MasterKeyRing(1, MasterA));
        var (a, b, owner) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var first = vault.Encrypt("sk-first-key-0123456789", new KeyBinding(a, "openai", owner));
        var second = vault.Encrypt("sk-second-key-0123456789", new KeyBinding(b, "openai", null));

        // Swapped between the two rows.
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(b, "openai", null, first)));
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(a, "openai", owner, second)));
        // Same row id, but claimed by another owner, as shared, or for another provider.
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(a, "openai", Guid.NewGuid(), first)));
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(a, "openai", null, first)));
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(a, "openrouter", owner, first)));
        // A flipped bit.
        var tampered = (byte[])first.Ciphertext.Clone();
        tampered[^1] ^= 1;
        Assert.Throws<KeyDecryptionException>(() => vault.Decrypt(Row(a, "openai", owner, first with { Ciphertext = tampered })));
    }

    [Fact]
    public void Rotation_reencrypts_under_the_new_master_key_and_the_old_key_can_then_go()
    {
        var id = Guid.NewGuid();
        var old = new KeyVault(new MasterKeyRing(1, MasterA));
        var row = Row(id, "openai", null, old.Encrypt("sk-rotate-me-0123456789", new KeyBinding(id, "openai", null)));

        var during = new KeyVault(new MasterKeyRing(2, MasterB, new Dictionary<int, byte[]> { [1] = MasterA }));
        Assert.Equal("sk-rotate-me-0123456789", during.Decrypt(row)); // both versions readable while rotating
        var rotated = during.Reencrypt(row);
        Assert.Equal(2, rotated.MasterKeyVersion);

        var after = new KeyVault(new MasterKeyRing(2, MasterB));
        Assert.Equal("sk-rotate-me-0123456789", after.Decrypt(Row(id, "openai", null, rotated)));
        Assert.Throws<KeyDecryptionException>(() => after.Decrypt(row)); // version 1 is gone
        Assert.Throws<KeyDecryptionException>(() => new KeyVault(new MasterKeyRing(1, MasterB)).Decrypt(row)); // wrong key, same version
    }

    [Fact]
    public void Start_up_needs_a_master_key_outside_Development()
    {
        var empty = new ConfigurationBuilder().Build();
        var error = Assert.Throws<InvalidOperationException>(() => MasterKeyRing.FromConfiguration(empty, new Env("Production")));
        Assert.Contains("Keys:MasterKey", error.Message, StringComparison.Ordinal);
        Assert.True(MasterKeyRing.FromConfiguration(empty, new Env("Development")).IsDevelopmentKey);

        var shortKey = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Keys:MasterKey"] = Convert.ToBase64String(new byte[16]) }).Build();
        Assert.Contains("32 bytes", Assert.Throws<InvalidOperationException>(() => MasterKeyRing.FromConfiguration(shortKey, new Env("Production"))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Incorrect API key provided: sk-proj-abcdefghijklmnop. You can find your API key at ...", "sk-proj-abcdefghijklmnop")]
    [InlineData("Invalid credentials in Authorization header: Bearer hf_abcdefghijklmnopqrstu", "hf_abcdefghijklmnopqrstu")]
    [InlineData("key=AIzaSyA-1234567890abcdefghijklmnopq is invalid", "AIzaSyA-1234567890abcdefghijklmnopq")]
    public void Vendor_messages_lose_anything_that_looks_like_a_key(string message, string key)
    {
        var masked = SecretMasker.Apply(message);
        Assert.DoesNotContain(key, masked, StringComparison.Ordinal);
        Assert.Contains(SecretMasker.Mask, masked, StringComparison.Ordinal);
        Assert.Equal("the secret was *** here", SecretMasker.Apply("the secret was my-own-odd-key here", "my-own-odd-key"));
        Assert.Equal("VendorCredential(***)", new VendorCredential(key).ToString());
    }

    private sealed class Env(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
