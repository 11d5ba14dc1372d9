using AiPrompts.Core;
using AiPrompts.Core.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The Worker's job engine in the test's own process (the Core services and <see cref="JobRunner"/>, as the Worker's
/// Program composes them), against the Api's database and Redis, so a test can look inside it while jobs run. Tests of
/// processes dying use <see cref="WorkerProcess"/> instead.
/// </summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private InProcessWorker(IHost host)
    {
        _host = host;
        _running = host.Services.GetRequiredService<JobRunner>().RunAsync(_stop.Token);
    }

    public IServiceProvider Services => _host.Services;

    public static InProcessWorker Start(ApiFactory api)
    {
        _ = api.Services; // the Api has started and migrated the database
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(api.HostSettings);
        builder.AddCoreServices();
        builder.Services.AddSingleton<JobRunner>();
        return new InProcessWorker(builder.Build());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _host.Dispose();
        _stop.Dispose();
    }
}
