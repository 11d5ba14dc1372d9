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
