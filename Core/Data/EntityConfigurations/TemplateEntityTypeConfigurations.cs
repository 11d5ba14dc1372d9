using AiPrompts.Core.Templates;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

internal sealed class PromptTemplateEntityTypeConfiguration : IEntityTypeConfiguration<PromptTemplate>
{
    public void Configure(EntityTypeBuilder<PromptTemplate> builder)
    {
        builder.ToTable("prompt_templates");
        builder.HasKey(t => t.PromptType);
        builder.Property(t => t.OutputSchema).HasColumnType("jsonb");
    }
}

internal sealed class PromptTemplateVersionEntityTypeConfiguration : IEntityTypeConfiguration<PromptTemplateVersion>
{
    public void Configure(EntityTypeBuilder<PromptTemplateVersion> builder)
    {
        builder.ToTable("prompt_template_versions");
        builder.HasKey(v => v.Id);
        builder.Property(v => v.TestResultJson).HasColumnType("jsonb");
        builder.HasIndex(v => new { v.PromptType, v.VersionNumber }).IsUnique().HasDatabaseName("ux_prompt_template_versions_number");
        builder.HasIndex(v => v.PromptType).IsUnique().HasFilter("is_active").HasDatabaseName("ux_prompt_template_versions_one_active");
        builder.HasOne<PromptTemplate>().WithMany().HasForeignKey(v => v.PromptType);
        builder.HasOne<User>().WithMany().HasForeignKey(v => v.CreatedBy).OnDelete(DeleteBehavior.SetNull);
    }
}
