using AiPrompts.Core.Gateway;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>Gateway calls under way; written and removed only by the gateway functions (begin, end, the sweep).</summary>
internal sealed class GatewayCallEntityTypeConfiguration : IEntityTypeConfiguration<GatewayCall>
{
    public void Configure(EntityTypeBuilder<GatewayCall> builder)
    {
        builder.ToTable("gateway_calls");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.ReservedCost).HasPrecision(18, 8);
        builder.HasIndex(c => c.StartedAt).HasDatabaseName("ix_gateway_calls_started");
        builder.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Stored responses: newest first per owner; a chain is followed by id.</summary>
internal sealed class StoredResponseEntityTypeConfiguration : IEntityTypeConfiguration<StoredResponse>
{
    public void Configure(EntityTypeBuilder<StoredResponse> builder)
    {
        builder.ToTable("gateway_responses");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.InputItems).HasColumnType("jsonb");
        builder.Property(r => r.Body).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.UserId, r.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_gateway_responses_user_created");
        builder.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
