using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

internal sealed class ApiKeyEntityTypeConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.HasIndex(k => k.KeyHash).IsUnique().HasDatabaseName("ux_api_keys_key_hash");
        builder.HasIndex(k => new { k.UserId, k.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_api_keys_user_id");
        // Keys made before scopes existed get the least privilege.
        builder.Property(k => k.Scopes).HasColumnDefault(new[] { ApiKeyScopes.Prompts });
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
