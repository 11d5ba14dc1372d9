using AiPrompts.Core.Media;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>Images: the record (owner, type, size, retention) apart from its bytes, which cascade with it.</summary>
internal sealed class MediaFileEntityTypeConfiguration : IEntityTypeConfiguration<MediaFile>
{
    public void Configure(EntityTypeBuilder<MediaFile> builder)
    {
        builder.ToTable("media_files", t =>
        {
            t.HasCheckConstraint("ck_media_files_origin", "origin IN ('upload', 'generated')");
            t.HasCheckConstraint("ck_media_files_type", "content_type IN ('image/png', 'image/jpeg', 'image/webp')");
        });
        builder.HasKey(f => f.Id);
        builder.HasIndex(f => new { f.OwnerUserId, f.CreatedAt }).HasDatabaseName("ix_media_files_owner");
        builder.HasIndex(f => f.ExpiresAt).HasDatabaseName("ix_media_files_expires").HasFilter("expires_at IS NOT NULL");
        builder.HasOne<User>().WithMany().HasForeignKey(f => f.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MediaContentEntityTypeConfiguration : IEntityTypeConfiguration<MediaContent>
{
    public void Configure(EntityTypeBuilder<MediaContent> builder)
    {
        builder.ToTable("media_contents");
        builder.HasKey(c => c.Id);
        builder.HasOne<MediaFile>().WithOne().HasForeignKey<MediaContent>(c => c.Id).OnDelete(DeleteBehavior.Cascade);
    }
}
