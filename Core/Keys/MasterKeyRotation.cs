using AiPrompts.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Core.Keys;

/// <summary>
/// Re-encrypts every vendor key that is not yet under the current master key, in one transaction: either
/// all rows move to the new key or none does. Run with the new key as <c>Keys:MasterKey</c> (a higher
/// <c>Keys:MasterKeyVersion</c>) and the old one under <c>Keys:RetiredMasterKeys:{version}</c>; afterwards the
/// retired key can be removed from configuration.
/// </summary>
public static class MasterKeyRotation
{
    public static async Task<int> ReencryptAllAsync(AppDbContext db, KeyVault vault, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var stale = await db.ProviderKeys
            .FromSql($"SELECT * FROM provider_keys WHERE master_key_version <> {vault.CurrentVersion} FOR UPDATE")
            .ToListAsync(cancellationToken);
        foreach (var key in stale)
        {
            var encrypted = vault.Reencrypt(key);
            key.Ciphertext = encrypted.Ciphertext;
            key.WrappedKey = encrypted.WrappedKey;
            key.MasterKeyVersion = encrypted.MasterKeyVersion;
            key.UpdatedAt = time.GetUtcNow();
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return stale.Count;
    }
}
