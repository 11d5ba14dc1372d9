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
        builder.Property(r => r.Request).HasColumnType("jsonb");
        builder.Property(r => r.RunContext).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.UserId, r.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_gateway_responses_user_created");
        builder.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Conversations, newest first per owner.</summary>
internal sealed class ConversationEntityTypeConfiguration : IEntityTypeConfiguration<Conversation>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.ToTable("gateway_conversations");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Metadata).HasColumnType("jsonb");
        builder.HasIndex(c => new { c.UserId, c.CreatedAt }).IsDescending(false, true).HasDatabaseName("ix_gateway_conversations_user_created");
        builder.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>A conversation's items in order (the position is an identity: increasing as items are added).</summary>
internal sealed class ConversationItemEntityTypeConfiguration : IEntityTypeConfiguration<ConversationItem>
{
    public void Configure(EntityTypeBuilder<ConversationItem> builder)
    {
        builder.ToTable("gateway_conversation_items");
        builder.HasKey(i => new { i.ConversationId, i.Id });
        builder.Property(i => i.Position).UseIdentityAlwaysColumn();
        builder.Property(i => i.Item).HasColumnType("jsonb");
        builder.HasIndex(i => new { i.ConversationId, i.Position }).IsUnique().HasDatabaseName("ux_gateway_conversation_items_position");
        builder.HasOne<Conversation>().WithMany().HasForeignKey(i => i.ConversationId).OnDelete(DeleteBehavior.Cascade);
    }
}
