using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>At most one budget per user, per API key and per role; each names exactly the subject of its scope.</summary>
internal sealed class BudgetEntityTypeConfiguration : IEntityTypeConfiguration<Budget>
{
    public void Configure(EntityTypeBuilder<Budget> builder)
    {
        builder.ToTable("budgets", t =>
        {
            t.HasCheckConstraint("ck_budgets_scope",
                "(scope = 'user' AND user_id IS NOT NULL AND api_key_id IS NULL AND role IS NULL) OR " +
                "(scope = 'api_key' AND api_key_id IS NOT NULL AND user_id IS NULL AND role IS NULL) OR " +
                "(scope = 'role' AND role IS NOT NULL AND user_id IS NULL AND api_key_id IS NULL)");
            t.HasCheckConstraint("ck_budgets_limits", "coalesce(cost_per_day, 0) >= 0 AND coalesce(cost_per_month, 0) >= 0 AND coalesce(tokens_per_day, 0) >= 0");
            t.HasCheckConstraint("ck_budgets_soft_percent", "soft_percent BETWEEN 1 AND 100");
        });
        builder.HasKey(b => b.Id);
        builder.Property(b => b.CostPerDay).HasPrecision(18, 8);
        builder.Property(b => b.CostPerMonth).HasPrecision(18, 8);
        builder.Property(b => b.SoftPercent).HasColumnDefault(Budget.DefaultSoftPercent);
        builder.HasIndex(b => b.UserId).IsUnique().HasFilter("scope = 'user'").HasDatabaseName("ux_budgets_user");
        builder.HasIndex(b => b.ApiKeyId).IsUnique().HasFilter("scope = 'api_key'").HasDatabaseName("ux_budgets_api_key");
        builder.HasIndex(b => b.Role).IsUnique().HasFilter("scope = 'role'").HasDatabaseName("ux_budgets_role");
        builder.HasOne<User>().WithMany().HasForeignKey(b => b.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<ApiKey>().WithMany().HasForeignKey(b => b.ApiKeyId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Reserved and not yet settled, per user and per API key ('user' or 'api_key'); written only by the jobs triggers.</summary>
internal sealed class BudgetHoldEntityTypeConfiguration : IEntityTypeConfiguration<BudgetHold>
{
    public void Configure(EntityTypeBuilder<BudgetHold> builder)
    {
        builder.ToTable("budget_holds", t => t.HasCheckConstraint("ck_budget_holds_kind", "subject_kind IN ('user', 'api_key')"));
        builder.HasKey(h => new { h.SubjectKind, h.SubjectId, h.Shard });
        builder.Property(h => h.Cost).HasPrecision(18, 8);
    }
}

/// <summary>Admissions made ahead of their job's insert; written and removed only by the budget functions.</summary>
internal sealed class BudgetReservationEntityTypeConfiguration : IEntityTypeConfiguration<BudgetReservation>
{
    public void Configure(EntityTypeBuilder<BudgetReservation> builder)
    {
        builder.ToTable("budget_reservations");
        builder.HasKey(r => r.JobId);
        builder.Property(r => r.Cost).HasPrecision(18, 8);
        builder.HasIndex(r => r.CreatedAt).HasDatabaseName("ix_budget_reservations_created");
    }
}

/// <summary>One row per budget, limit and period whose soft threshold was crossed.</summary>
internal sealed class BudgetAlertEntityTypeConfiguration : IEntityTypeConfiguration<BudgetAlert>
{
    public void Configure(EntityTypeBuilder<BudgetAlert> builder)
    {
        builder.ToTable("budget_alerts");
        builder.HasKey(a => new { a.BudgetId, a.Period, a.LimitName });
        builder.HasOne<Budget>().WithMany().HasForeignKey(a => a.BudgetId).OnDelete(DeleteBehavior.Cascade);
    }
}
