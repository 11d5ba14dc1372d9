using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>
/// One row per unit of background work. status is the one state machine every API surface maps to its own
/// words. attempt counts claims; a worker may finish a job only while attempt and lease_owner still match
/// its claim (the job_transition function of the FencedTransition migration), so a worker that lost its lease cannot
/// overwrite a result.
/// </summary>
internal sealed class JobEntityTypeConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("jobs", t =>
        {
            t.HasCheckConstraint("jobs_status_check", "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')");
            t.HasCheckConstraint("jobs_attempt_check", "attempt >= 0");
            t.HasCheckConstraint("jobs_max_attempts_check", "max_attempts >= 1");
            t.HasCheckConstraint("ck_jobs_lease", "(status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)");
        });
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Attempt).HasColumnDefault(0);
        builder.Property(j => j.CancelRequested).HasColumnDefault(false);
        builder.Property(j => j.LastErrorArgs).HasColumnType("jsonb");
        builder.Property(j => j.ReservedCost).HasPrecision(18, 8);
        builder.Property(j => j.BudgetScopes).HasColumnDefault(0);
        // Written by the budget_reserve trigger as the row is inserted, and read back by the insert.
        builder.Property(j => j.BudgetWarning).ValueGeneratedOnAdd();
        // What a claim reads: queued work that is due, and running work whose lease expired (rescue).
        builder.HasIndex(j => j.RunAfter).HasFilter("status = 'queued'").HasDatabaseName("ix_jobs_queued");
        builder.HasIndex(j => j.LeaseExpiresAt).HasFilter("status = 'running'").HasDatabaseName("ix_jobs_running");
        builder.HasIndex(j => j.SubjectId).HasDatabaseName("ix_jobs_subject");
        builder.Ignore(j => j.IsFinished);
    }
}

/// <summary>Who, when, why; the status lives on the job. prompt_text is NULL once the job has ended when store = false.</summary>
internal sealed class PromptRequestEntityTypeConfiguration : IEntityTypeConfiguration<PromptRequest>
{
    public void Configure(EntityTypeBuilder<PromptRequest> builder)
    {
        builder.ToTable("prompt_requests", t => t.HasCheckConstraint("ck_prompt_requests_sandbox", "NOT sandbox OR template_version IS NOT NULL"));
        builder.HasKey(r => r.Id);
        builder.HasAlternateKey(r => r.JobId).HasName("prompt_requests_job_id_key");
        builder.Property(r => r.Metadata).HasColumnType("jsonb");
        builder.Property(r => r.Sandbox).HasColumnDefault(false);
        builder.HasIndex(r => new { r.UserId, r.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL").HasDatabaseName("ux_prompt_requests_idempotency");
        builder.HasIndex(r => new { r.UserId, r.CreatedAt, r.Id }).IsDescending(false, true, true).HasDatabaseName("ix_prompt_requests_user");
        builder.HasIndex(r => new { r.CreatedAt, r.Id }).IsDescending(true, true).HasDatabaseName("ix_prompt_requests_created");
        builder.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Job>().WithOne().HasForeignKey<PromptRequest>(r => r.JobId).OnDelete(DeleteBehavior.NoAction);
    }
}

/// <summary>At most one response per request. response_text is NULL when the request is not stored.</summary>
internal sealed class PromptResponseEntityTypeConfiguration : IEntityTypeConfiguration<PromptResponse>
{
    public void Configure(EntityTypeBuilder<PromptResponse> builder)
    {
        builder.ToTable("prompt_responses");
        builder.HasKey(r => r.Id);
        builder.HasAlternateKey(r => r.PromptRequestId).HasName("prompt_responses_prompt_request_id_key");
        builder.Property(r => r.Cost).HasPrecision(18, 8);
        builder.HasOne<PromptRequest>().WithOne().HasForeignKey<PromptResponse>(r => r.PromptRequestId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// One row per attempt that called a vendor, written with the attempt's outcome. Kept whatever `store` says. The table is
/// partitioned by month of <c>created_at</c> (the UsagePartitions migration, by hand: EF Core does not model partitions),
/// so its key includes <c>created_at</c>, and one row per job attempt is a unique index of each partition.
/// </summary>
internal sealed class UsageEventEntityTypeConfiguration : IEntityTypeConfiguration<UsageEvent>
{
    public void Configure(EntityTypeBuilder<UsageEvent> builder)
    {
        builder.ToTable("usage_events", t =>
        {
            t.HasCheckConstraint("usage_events_key_source_check", "key_source IN ('none', 'personal', 'shared')");
            t.HasCheckConstraint("usage_events_status_check", "status IN ('succeeded', 'failed', 'cancelled', 'interrupted')");
        });
        builder.HasKey(u => new { u.Id, u.CreatedAt });
        builder.Property(u => u.Cost).HasPrecision(18, 8);
        builder.Property(u => u.VendorCost).HasPrecision(18, 8);
        builder.HasIndex(u => new { u.UserId, u.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_usage_events_user");
        builder.HasIndex(u => u.CreatedAt).IsDescending(true).HasDatabaseName("ix_usage_events_created");
        builder.HasIndex(u => new { u.ApiKeyId, u.CreatedAt }).IsDescending(false, true).HasFilter("api_key_id IS NOT NULL").HasDatabaseName("ix_usage_events_api_key");
        builder.Property(u => u.CachedInputTokens).HasColumnDefault(0L);
        builder.Property(u => u.ReasoningTokens).HasColumnDefault(0L);
        builder.HasOne<User>().WithMany().HasForeignKey(u => u.UserId).OnDelete(DeleteBehavior.SetNull);
    }
}

/// <summary>One row per UTC day and dimensions; the trigger of the UsageRollups migration keeps it (see <see cref="UsageRollup"/>).</summary>
internal sealed class UsageRollupEntityTypeConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> builder)
    {
        builder.ToTable("usage_rollups");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Cost).HasPrecision(18, 8);
        builder.Property(r => r.VendorCost).HasPrecision(18, 8);
        builder.Property(r => r.CostDifference).HasPrecision(18, 8);
        builder.HasIndex(r => new { r.Day, r.UserId, r.ApiKeyId, r.Purpose, r.SubjectType, r.Section, r.ProviderId, r.ModelId, r.KeySource, r.Status, r.Shard })
            .IsUnique().AreNullsDistinct(false).HasDatabaseName("ux_usage_rollups_dimensions");
        // What a budget check reads: one user's or one API key's days of this month.
        builder.HasIndex(r => new { r.UserId, r.Day }).HasDatabaseName("ix_usage_rollups_user_day");
        builder.HasIndex(r => new { r.ApiKeyId, r.Day }).HasFilter("api_key_id IS NOT NULL").HasDatabaseName("ix_usage_rollups_api_key_day");
        builder.Property(r => r.CachedInputTokens).HasColumnDefault(0L);
        builder.Property(r => r.ReasoningTokens).HasColumnDefault(0L);
    }
}

