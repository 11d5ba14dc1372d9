using AiPrompts.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace AiPrompts.Worker;

/// <summary>
/// The Api owns migrations; the Worker waits until every migration this build knows has been applied
/// before it reports ready, so it never works against an older schema. It polls once a second.
/// </summary>
internal sealed partial class SchemaGate(IServiceProvider services, TimeProvider time, ILogger<SchemaGate> logger) : BackgroundService, IHealthCheck
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                if (!(await db.Database.GetPendingMigrationsAsync(stoppingToken)).Any())
                {
                    LogSchemaReady(logger);
                    _ready.TrySetResult();
                    return;
                }
            }
            catch (NpgsqlException ex)
            {
                LogWaiting(logger, ex.Message);
            }
            await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready.Task.IsCompletedSuccessfully
            ? HealthCheckResult.Healthy("The database schema is current.")
            : new HealthCheckResult(context.Registration.FailureStatus, "Waiting for the Api to apply the database migrations."));

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Database schema is current: every migration of this build is applied")]
    private static partial void LogSchemaReady(ILogger logger);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Waiting for the database: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string reason);
}
