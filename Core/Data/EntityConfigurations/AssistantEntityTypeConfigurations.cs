using AiPrompts.Core.Assistants;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>Assistants: an owner's own, or shared by a super admin (then with no owner needed).</summary>
internal sealed class AssistantEntityTypeConfiguration : IEntityTypeConfiguration<Assistant>
{
    public void Configure(EntityTypeBuilder<Assistant> builder)
    {
        builder.ToTable("assistants", t => t.HasCheckConstraint("ck_assistants_owner", "shared OR owner_user_id IS NOT NULL"));
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Tools).HasColumnType("jsonb").HasColumnDefaultSql("'[]'::jsonb");
        builder.Property(a => a.Metadata).HasColumnType("jsonb").HasColumnDefaultSql("'{}'::jsonb");
        builder.Property(a => a.ResponseFormat).HasColumnType("jsonb");
        builder.Property(a => a.Shared).HasColumnDefault(false);
        builder.HasIndex(a => new { a.OwnerUserId, a.CreatedAt }).HasDatabaseName("ix_assistants_owner");
        builder.HasOne<User>().WithMany().HasForeignKey(a => a.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AssistantThreadEntityTypeConfiguration : IEntityTypeConfiguration<AssistantThread>
{
    public void Configure(EntityTypeBuilder<AssistantThread> builder)
    {
        builder.ToTable("assistant_threads");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Metadata).HasColumnType("jsonb").HasColumnDefaultSql("'{}'::jsonb");
        builder.HasIndex(t => new { t.UserId, t.CreatedAt }).HasDatabaseName("ix_assistant_threads_user");
        builder.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Messages in the order they were added: seq is the order and the pagination key.</summary>
internal sealed class ThreadMessageEntityTypeConfiguration : IEntityTypeConfiguration<ThreadMessage>
{
    public void Configure(EntityTypeBuilder<ThreadMessage> builder)
    {
        builder.ToTable("thread_messages", t =>
        {
            t.HasCheckConstraint("ck_thread_messages_role", "role IN ('user', 'assistant')");
            t.HasCheckConstraint("ck_thread_messages_studio_status", "studio_status IN ('processing', 'done', 'failed')");
        });
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Seq).UseIdentityAlwaysColumn();
        builder.HasAlternateKey(m => m.Seq).HasName("thread_messages_seq_key");
        builder.Property(m => m.Metadata).HasColumnType("jsonb").HasColumnDefaultSql("'{}'::jsonb");
        builder.HasIndex(m => new { m.ThreadId, m.Seq }).HasDatabaseName("ix_thread_messages_thread");
        builder.HasOne<AssistantThread>().WithMany().HasForeignKey(m => m.ThreadId).OnDelete(DeleteBehavior.Cascade);
        // A studio message's current step; no foreign key (the request points back at the message, which cascades).
        builder.HasIndex(m => m.StudioRequestId).HasFilter("studio_request_id IS NOT NULL").HasDatabaseName("ix_thread_messages_studio_request");
        builder.HasOne<MediaFile>().WithMany().HasForeignKey(m => m.MediaFileId).OnDelete(DeleteBehavior.SetNull);
    }
}

/// <summary>Runs: at most one active run per thread is the API's rule, checked under the thread's row lock.</summary>
internal sealed class AssistantRunEntityTypeConfiguration : IEntityTypeConfiguration<AssistantRun>
{
    public void Configure(EntityTypeBuilder<AssistantRun> builder)
    {
        builder.ToTable("assistant_runs", t => t.HasCheckConstraint("ck_assistant_runs_status", "status IN ('queued', 'completed', 'incomplete', 'requires_action')"));
        builder.HasKey(r => r.Id);
        builder.HasAlternateKey(r => r.JobId).HasName("assistant_runs_job_id_key");
        builder.Property(r => r.Tools).HasColumnType("jsonb").HasColumnDefaultSql("'[]'::jsonb");
        builder.Property(r => r.Metadata).HasColumnType("jsonb").HasColumnDefaultSql("'{}'::jsonb");
        builder.Property(r => r.RequiredAction).HasColumnType("jsonb");
        builder.Property(r => r.ToolRounds).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.ThreadId, r.CreatedAt }).HasDatabaseName("ix_assistant_runs_thread");
        builder.HasOne<AssistantThread>().WithMany().HasForeignKey(r => r.ThreadId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Job>().WithOne().HasForeignKey<AssistantRun>(r => r.JobId).OnDelete(DeleteBehavior.NoAction);
    }
}
