using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AiPrompts.Tests.Infrastructure;

public static class Ports
{
    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int FreeLoopbackPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

/// <summary>The Worker as operators run it: its own process (the build beside these tests), on a free port.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process, int port)
    {
        _process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public HttpClient Http { get; }

    public static WorkerProcess Start(ApiFactory api, IReadOnlyDictionary<string, string>? environment = null)
    {
        _ = api.Server; // the Api has migrated the database the Worker will use
        var port = Ports.FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(WorkerDll());
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ConnectionStrings__promptsdb"] = api.Database.ConnectionString;
        start.Environment["ConnectionStrings__redis"] = TestEnvironment.Redis;
        start.Environment["Keys__MasterKey"] = ApiFactory.MasterKey;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("The Worker did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, port);
    }

    private static string WorkerDll()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
        {
            dir = dir.Parent;
        }
        var dll = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("The repository root was not found."),
            "Worker", "bin", configuration, "net10.0", "AiPrompts.Worker.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} was not built.");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
