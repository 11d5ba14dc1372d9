using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Studio;
using AiPrompts.Core.Keys;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Conventions;

namespace AiPrompts.Core.Data;

/// <summary>
/// The schema: the model says it all (checks, defaults, partial and descending indexes, constraint names)
/// and the migrations in Data/Migrations are made from it with dotnet-ef; SQL in a migration only for what
/// a model cannot say (the job engine's fenced functions, the budget and usage triggers, the monthly partitions of
/// usage_events). A test checks that the model has no pending changes.
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
    public DbSet<UsageRollup> UsageRollups => Set<UsageRollup>();
    public DbSet<PromptTemplate> PromptTemplates => Set<PromptTemplate>();
    public DbSet<PromptTemplateVersion> PromptTemplateVersions => Set<PromptTemplateVersion>();
    public DbSet<Assistant> Assistants => Set<Assistant>();
    public DbSet<AssistantThread> Threads => Set<AssistantThread>();
    public DbSet<ThreadMessage> ThreadMessages => Set<ThreadMessage>();
    public DbSet<AssistantRun> Runs => Set<AssistantRun>();
    public DbSet<MediaFile> MediaFiles => Set<MediaFile>();
    public DbSet<MediaContent> MediaContents => Set<MediaContent>();
    public DbSet<StudioRequest> StudioRequests => Set<StudioRequest>();
    public DbSet<Budget> Budgets => Set<Budget>();
    public DbSet<BudgetHold> BudgetHolds => Set<BudgetHold>();
    public DbSet<BudgetReservation> BudgetReservations => Set<BudgetReservation>();
    public DbSet<BudgetAlert> BudgetAlerts => Set<BudgetAlert>();
    public DbSet<GatewayCall> GatewayCalls => Set<GatewayCall>();
    public DbSet<StoredResponse> StoredResponses => Set<StoredResponse>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationItem> ConversationItems => Set<ConversationItem>();

    /// <summary>
    /// An index exists where the schema declares one: foreign keys get none of their own. Every point in time
    /// is written as UTC (Npgsql refuses another offset for timestamptz), values and query parameters alike,
    /// so a client's <c>2026-01-01T09:00:00+07:00</c> is the same instant, not a server error.
    /// </summary>
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Conventions.Remove<ForeignKeyIndexConvention>();
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
    }

    private sealed class UtcDateTimeOffsetConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(), value => value);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        SnakeCaseNames.Apply(modelBuilder);
    }
}
