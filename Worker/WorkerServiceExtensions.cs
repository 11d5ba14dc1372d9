using AiPrompts.Core.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiPrompts.Worker;

/// <summary>The Worker's services: the schema gate, the job runner (the handlers are Core's), and the sweeps.</summary>
internal static class WorkerServiceExtensions
{
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SchemaGate>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SchemaGate>());
        builder.Services.AddHealthChecks().AddCheck<SchemaGate>("schema", HealthStatus.Unhealthy, ["ready"]);

        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddHostedService<JobWorker>();
        builder.Services.AddHostedService<MediaSweeper>();
        builder.Services.AddHostedService<UsageSweeper>();
        builder.Services.AddHostedService<BudgetSweeper>();
        builder.Services.AddHostedService<GatewaySweeper>();
        // In-flight jobs get the grace period, then are released; the host must wait for both.
        var grace = builder.Configuration.GetValue<TimeSpan?>($"{JobOptions.Section}:{nameof(JobOptions.ShutdownGrace)}") ?? new JobOptions().ShutdownGrace;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = grace + TimeSpan.FromSeconds(15));
        return builder;
    }
}
