using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>
/// Catalogue columns are written by the populate step; *_override columns only by a super admin, and the
/// populate step never touches them.
/// </summary>
internal sealed class ProviderEntityTypeConfiguration : IEntityTypeConfiguration<Provider>
{
    public void Configure(EntityTypeBuilder<Provider> builder)
    {
        builder.ToTable("providers", t =>
        {
            t.HasCheckConstraint("providers_id_check", "id ~ '^[a-z0-9][a-z0-9-]{1,39}$'");
            t.HasCheckConstraint("providers_kind_check", "kind IN ('openai_compatible', 'anthropic', 'huggingface', 'local')");
        });
        builder.HasKey(p => p.Id);
        builder.Property(p => p.IsCustom).HasColumnDefault(false);
        builder.Property(p => p.Retired).HasColumnDefault(false);
        builder.Property(p => p.SharedKeyEnabled).HasColumnDefault(true);
        builder.Property(p => p.SharedAllowAdmins).HasColumnDefault(false);
        builder.Property(p => p.SharedAllowUsers).HasColumnDefault(false);
        builder.Ignore(p => p.IsEnabled);
        builder.Ignore(p => p.SharedPolicy);
    }
}

internal sealed class AiModelEntityTypeConfiguration : IEntityTypeConfiguration<AiModel>
{
    public void Configure(EntityTypeBuilder<AiModel> builder)
    {
        builder.ToTable("ai_models", t => t.HasCheckConstraint("ai_models_model_id_check", "length(model_id) BETWEEN 1 AND 200"));
        builder.HasKey(m => new { m.ProviderId, m.ModelId });
        builder.HasOne<Provider>().WithMany().HasForeignKey(m => m.ProviderId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.InputPrice).HasPrecision(AiModel.PricePrecision, AiModel.PriceScale);
        builder.Property(m => m.OutputPrice).HasPrecision(AiModel.PricePrecision, AiModel.PriceScale);
        builder.Property(m => m.InputPriceOverride).HasPrecision(AiModel.PricePrecision, AiModel.PriceScale);
        builder.Property(m => m.OutputPriceOverride).HasPrecision(AiModel.PricePrecision, AiModel.PriceScale);
        builder.Property(m => m.Retired).HasColumnDefault(false);
        builder.Ignore(m => m.EffectiveCapabilities);
        builder.Ignore(m => m.EffectiveInputPrice);
        builder.Ignore(m => m.EffectiveOutputPrice);
        builder.Ignore(m => m.IsEnabled);
        builder.Ignore(m => m.Prices);
    }
}

internal sealed class SectionEntityTypeConfiguration : IEntityTypeConfiguration<Section>
{
    public void Configure(EntityTypeBuilder<Section> builder)
    {
        builder.ToTable("sections", t => t.HasCheckConstraint("sections_name_check", "name IN ('chat', 'content', 'image', 'audio')"));
        builder.HasKey(s => s.Name);
        builder.Property(s => s.StoreByDefault).HasColumnDefault(false);
        builder.HasOne<AiModel>().WithMany().HasForeignKey(s => new { s.ProviderId, s.ModelId }).OnDelete(DeleteBehavior.NoAction);
        builder.HasOne<User>().WithMany().HasForeignKey(s => s.UpdatedBy).OnDelete(DeleteBehavior.SetNull);
    }
}

/// <summary>
/// owner_user_id NULL is the provider's shared key; otherwise the owner's personal key.
/// ciphertext = nonce | AES-256-GCM(data key, secret) | tag; wrapped_key = nonce | AES-256-GCM(master key, data key) | tag.
/// Both are bound to the row (id, provider, owner) through associated data.
/// </summary>
internal sealed class ProviderKeyEntityTypeConfiguration : IEntityTypeConfiguration<ProviderKey>
{
    public void Configure(EntityTypeBuilder<ProviderKey> builder)
    {
        builder.ToTable("provider_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Ignore(k => k.IsShared);
        builder.HasIndex(k => k.ProviderId).IsUnique().HasFilter("owner_user_id IS NULL").HasDatabaseName("ux_provider_keys_shared");
        builder.HasIndex(k => new { k.ProviderId, k.OwnerUserId }).IsUnique().HasFilter("owner_user_id IS NOT NULL").HasDatabaseName("ux_provider_keys_personal");
        builder.HasIndex(k => k.OwnerUserId).HasFilter("owner_user_id IS NOT NULL").HasDatabaseName("ix_provider_keys_owner");
        builder.HasOne<Provider>().WithMany().HasForeignKey(k => k.ProviderId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.UpdatedBy).OnDelete(DeleteBehavior.SetNull);
    }
}
