using AiPrompts.Core.Templates;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>
/// A prompt type as data: the placeholders every template of it must contain, the variables a template may
/// use, and the JSON schema its output must satisfy (optional). next_version hands out version numbers: it is
/// incremented in the transaction that inserts the version, so a rollback gives the number back and concurrent
/// creates queue on the row (no gaps, no duplicates). revision grows with every activation and every change of
/// the type's rules; cached copies of the active version carry it, so an older copy never overwrites a newer one.
/// </summary>
internal sealed class PromptTemplateEntityTypeConfiguration : IEntityTypeConfiguration<PromptTemplate>
{
    public void Configure(EntityTypeBuilder<PromptTemplate> builder)
    {
        builder.ToTable("prompt_templates", t =>
        {
            t.HasCheckConstraint("prompt_templates_prompt_type_check", "prompt_type ~ '^[a-z][a-z0-9_]{1,63}$'");
            t.HasCheckConstraint("prompt_templates_description_check", "char_length(description) <= 2000");
            t.HasCheckConstraint("prompt_templates_section_check", "section IN ('chat', 'content')");
            t.HasCheckConstraint("prompt_templates_next_version_check", "next_version >= 1");
            t.HasCheckConstraint("ck_prompt_templates_required_allowed", "required_placeholders <@ allowed_variables");
        });
        builder.HasKey(t => t.PromptType);
        builder.Property(t => t.RequiredPlaceholders).HasColumnDefaultSql("'{}'::text[]");
        builder.Property(t => t.AllowedVariables).HasColumnDefaultSql("'{}'::text[]");
        builder.Property(t => t.OutputSchema).HasColumnType("jsonb");
        builder.Property(t => t.NextVersion).HasColumnDefault(1);
        builder.Property(t => t.Revision).HasColumnDefault(0L);
    }
}

/// <summary>
/// Exactly one active version per type, enforced by the database. A prompt request made from a version
/// records (prompt_type, template_version) without a foreign key: a deleted version's number is never handed
/// out again, so the pair stays unambiguous in the history, with the audit log holding the deleted template.
/// </summary>
internal sealed class PromptTemplateVersionEntityTypeConfiguration : IEntityTypeConfiguration<PromptTemplateVersion>
{
    public void Configure(EntityTypeBuilder<PromptTemplateVersion> builder)
    {
        builder.ToTable("prompt_template_versions", t =>
        {
            t.HasCheckConstraint("prompt_template_versions_version_number_check", "version_number >= 1");
            t.HasCheckConstraint("prompt_template_versions_manual_note_check", "char_length(manual_note) <= 2000");
        });
        builder.HasKey(v => v.Id);
        builder.HasAlternateKey(v => new { v.PromptType, v.VersionNumber }).HasName("ux_prompt_template_versions_number");
        builder.Property(v => v.IsActive).HasColumnDefault(false);
        builder.Property(v => v.TestResultJson).HasColumnType("jsonb");
        builder.HasIndex(v => v.PromptType).IsUnique().HasFilter("is_active").HasDatabaseName("ux_prompt_template_versions_one_active");
        builder.HasOne<PromptTemplate>().WithMany().HasForeignKey(v => v.PromptType).OnDelete(DeleteBehavior.NoAction);
        builder.HasOne<User>().WithMany().HasForeignKey(v => v.CreatedBy).OnDelete(DeleteBehavior.SetNull);
    }
}
