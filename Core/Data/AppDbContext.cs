using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Keys;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Core.Data;

/// <summary>
/// EF Core maps onto the schema that the SQL migrations create (Data/Migrations); it never creates or
/// changes tables itself. A test checks that the two agree.
/// </summary>
public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<AuditLog> AuditLogs => Set<AuditLog>();
    public DbSet<Provider> Providers => Set<Provider>();
    public DbSet<AiModel> Models => Set<AiModel>();
    public DbSet<Section> Sections => Set<Section>();
    public DbSet<ProviderKey> ProviderKeys => Set<ProviderKey>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<PromptRequest> PromptRequests => Set<PromptRequest>();
    public DbSet<PromptResponse> PromptResponses => Set<PromptResponse>();
    public DbSet<UsageEvent> UsageEvents => Set<UsageEvent>();
    public DbSet<PromptTemplate> PromptTemplates => Set<PromptTemplate>();
    public DbSet<PromptTemplateVersion> PromptTemplateVersions => Set<PromptTemplateVersion>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        SnakeCaseNames.Apply(modelBuilder);
    }
}
