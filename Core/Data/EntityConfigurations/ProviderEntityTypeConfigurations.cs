using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

internal sealed class ProviderEntityTypeConfiguration : IEntityTypeConfiguration<Provider>
{
    public void Configure(EntityTypeBuilder<Provider> builder)
    {
        builder.ToTable("providers");
        builder.HasKey(p => p.Id);
        builder.Ignore(p => p.IsEnabled);
        builder.Ignore(p => p.SharedPolicy);
    }
}

internal sealed class AiModelEntityTypeConfiguration : IEntityTypeConfiguration<AiModel>
{
    public void Configure(EntityTypeBuilder<AiModel> builder)
    {
        builder.ToTable("ai_models");
        builder.HasKey(m => new { m.ProviderId, m.ModelId });
        builder.HasOne<Provider>().WithMany().HasForeignKey(m => m.ProviderId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.InputPrice).HasPrecision(14, 6);
        builder.Property(m => m.OutputPrice).HasPrecision(14, 6);
        builder.Property(m => m.InputPriceOverride).HasPrecision(14, 6);
        builder.Property(m => m.OutputPriceOverride).HasPrecision(14, 6);
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
        builder.ToTable("sections");
        builder.HasKey(s => s.Name);
        builder.HasOne<AiModel>().WithMany().HasForeignKey(s => new { s.ProviderId, s.ModelId });
        builder.HasOne<User>().WithMany().HasForeignKey(s => s.UpdatedBy).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class ProviderKeyEntityTypeConfiguration : IEntityTypeConfiguration<ProviderKey>
{
    public void Configure(EntityTypeBuilder<ProviderKey> builder)
    {
        builder.ToTable("provider_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Ignore(k => k.IsShared);
        builder.HasOne<Provider>().WithMany().HasForeignKey(k => k.ProviderId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}
