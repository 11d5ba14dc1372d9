using AiPrompts.Core.Assistants;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Studio;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>Images: the record (owner, type, size, retention) apart from its bytes, which cascade with it.</summary>
internal sealed class MediaFileEntityTypeConfiguration : IEntityTypeConfiguration<MediaFile>
{
    public void Configure(EntityTypeBuilder<MediaFile> builder)
    {
        builder.Property(f => f.Storage).HasColumnDefault(MediaStorage.Postgres);
        builder.ToTable("media_files", t =>
        {
            t.HasCheckConstraint("ck_media_files_origin", "origin IN ('upload', 'generated')");
            t.HasCheckConstraint("ck_media_files_storage", "storage IN ('postgres', 's3')");
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

/// <summary>Studio requests: the job that serves each, and the image it made (kept while the file is).</summary>
internal sealed class StudioRequestEntityTypeConfiguration : IEntityTypeConfiguration<StudioRequest>
{
    public void Configure(EntityTypeBuilder<StudioRequest> builder)
    {
        builder.ToTable("studio_requests", t => t.HasCheckConstraint("ck_studio_requests_kind", "kind IN ('image_generate', 'prompt_refine', 'chat_reply')"));
        builder.HasKey(r => r.Id);
        builder.HasAlternateKey(r => r.JobId).HasName("studio_requests_job_id_key");
        builder.HasIndex(r => new { r.UserId, r.CreatedAt }).HasDatabaseName("ix_studio_requests_user");
        builder.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Job>().WithOne().HasForeignKey<StudioRequest>(r => r.JobId).OnDelete(DeleteBehavior.NoAction);
        builder.HasOne<MediaFile>().WithMany().HasForeignKey(r => r.MediaFileId).OnDelete(DeleteBehavior.SetNull);
        builder.Property(r => r.Result).HasColumnType("jsonb");
        builder.HasOne<ThreadMessage>().WithMany().HasForeignKey(r => r.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
