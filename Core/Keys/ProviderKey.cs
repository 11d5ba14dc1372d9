namespace AiPrompts.Core.Keys;

/// <summary>A vendor key, encrypted. <see cref="OwnerUserId"/> null is the provider's shared key.</summary>
public sealed class ProviderKey
{
    public Guid Id { get; set; }
    public required string ProviderId { get; set; }
    public Guid? OwnerUserId { get; set; }
    public required byte[] Ciphertext { get; set; }
    public required byte[] WrappedKey { get; set; }
    public int MasterKeyVersion { get; set; }
    public required string LastFour { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public Guid? UpdatedBy { get; set; }

    public bool IsShared => OwnerUserId is null;
}
