using System.Diagnostics;
using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Users;

/// <summary>
/// Runs before the server accepts requests: applies the SQL migrations (the Api is the one place that
/// migrates), loads the provider catalogue, then creates the bootstrap super admin if configured and absent. Both are idempotent.
/// </summary>
internal sealed partial class DatabaseStartup(
    IServiceProvider services,
    DatabaseMigrator migrator,
    CataloguePopulator catalogue,
    IOptions<BootstrapOptions> bootstrap,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    private static readonly ActivitySource Source = new("AiPrompts.Api.Startup");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using (Source.StartActivity("Migrate database"))
        {
            await migrator.MigrateAsync(cancellationToken);
        }
        await catalogue.PopulateAsync(cancellationToken);
        await EnsureSuperAdminAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureSuperAdminAsync(CancellationToken cancellationToken)
    {
        var settings = bootstrap.Value;
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (string.IsNullOrWhiteSpace(settings.Email) || string.IsNullOrEmpty(settings.Password))
        {
            if (!await db.Users.AnyAsync(u => u.Role == Roles.SuperAdmin, cancellationToken))
            {
                LogNoSuperAdmin(logger, BootstrapOptions.Section);
            }
            return;
        }
        var email = User.NormalizeEmail(settings.Email);
        if (await db.Users.AnyAsync(u => u.Email == email, cancellationToken))
        {
            return;
        }
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var user = new User
        {
            Id = Guid.CreateVersion7(now),
            Email = email,
            DisplayName = settings.DisplayName,
            Role = Roles.SuperAdmin,
            PasswordHash = "",
            SecurityStamp = Guid.NewGuid(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        user.PasswordHash = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>().HashPassword(user, settings.Password);
        db.Users.Add(user);
        scope.ServiceProvider.GetRequiredService<AuditWriter>().Record(null, "user.bootstrap", "user", user.Id.ToString(), null, user.AsAuditState());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogCreated(logger, email);
        }
        catch (DbUpdateException)
        {
            // Another Api instance created it at the same moment: that is the wanted outcome.
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Created the bootstrap super admin {Email}")]
    private static partial void LogCreated(ILogger logger, string email);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "No super admin exists and {Section} is not configured: nobody can manage this installation yet")]
    private static partial void LogNoSuperAdmin(ILogger logger, string section);
}
