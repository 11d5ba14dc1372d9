using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

internal sealed class JobEntityTypeConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.LastErrorArgs).HasColumnType("jsonb");
        builder.Ignore(j => j.IsFinished);
    }
}

internal sealed class PromptRequestEntityTypeConfiguration : IEntityTypeConfiguration<PromptRequest>
{
    public void Configure(EntityTypeBuilder<PromptRequest> builder)
    {
        builder.ToTable("prompt_requests");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Metadata).HasColumnType("jsonb");
        builder.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Job>().WithOne().HasForeignKey<PromptRequest>(r => r.JobId);
    }
}

internal sealed class PromptResponseEntityTypeConfiguration : IEntityTypeConfiguration<PromptResponse>
{
    public void Configure(EntityTypeBuilder<PromptResponse> builder)
    {
        builder.ToTable("prompt_responses");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Cost).HasPrecision(18, 8);
        builder.HasOne<PromptRequest>().WithOne().HasForeignKey<PromptResponse>(r => r.PromptRequestId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class UsageEventEntityTypeConfiguration : IEntityTypeConfiguration<UsageEvent>
{
    public void Configure(EntityTypeBuilder<UsageEvent> builder)
    {
        builder.ToTable("usage_events");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Cost).HasPrecision(18, 8);
        builder.Property(u => u.VendorCost).HasPrecision(18, 8);
    }
}
