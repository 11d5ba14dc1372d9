using System.Collections.Concurrent;
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

    private WorkerProcess(Process process, int port, ConcurrentQueue<string> output)
    {
        _process = process;
        Output = output;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public HttpClient Http { get; }

    /// <summary>Everything the process wrote to stdout and stderr.</summary>
    public ConcurrentQueue<string> Output { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts the Worker against the Api's database and Redis (through the Api's Redis proxy, with its
    /// key prefix) and the Api's settings, then <paramref name="environment"/> on top.
    /// </summary>
    public static WorkerProcess Start(ApiFactory api, IReadOnlyDictionary<string, string>? environment = null) => Start(api, "Worker", environment);

    /// <summary>One of our services (<c>Worker</c>, or <c>Api</c> for a test that kills it) as a process, set up as <see cref="Start(ApiFactory, IReadOnlyDictionary{string, string}?)"/> says.</summary>
    public static WorkerProcess Start(ApiFactory api, string service, IReadOnlyDictionary<string, string>? environment = null)
    {
        _ = api.Services; // the Api has started (and migrated the database the Worker will use), on a test server or Kestrel
        var port = Ports.FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ServiceDll(service));
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ConnectionStrings__promptsdb"] = api.Database.ConnectionString;
        start.Environment["ConnectionStrings__redis"] = api.RedisViaProxy;
        start.Environment["Redis__KeyPrefix"] = api.RedisKeyPrefix;
        start.Environment["Keys__MasterKey"] = ApiFactory.MasterKey;
        start.Environment["Ai__AllowPrivateBaseUrls"] = "true";
        foreach (var (key, value) in api.SharedSettings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["Logging__LogLevel__Microsoft"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        if (!process.Start())
        {
            throw new InvalidOperationException("The Worker did not start.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, port, output);
    }

    /// <summary>Sends a POSIX signal: KILL, STOP, CONT, TERM.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits until the job runner has started (it logs so once the schema is current).</summary>
    public async Task WaitUntilRunningAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!Output.Any(l => l.Contains("Job runner", StringComparison.Ordinal) && l.Contains("started", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"The Worker's job runner did not start. Output:\n{string.Join('\n', Output)}");
            }
            await Task.Delay(50);
        }
    }

    internal static string WorkerDll() => ServiceDll("Worker");

    internal static string ServiceDll(string service)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
        {
            dir = dir.Parent;
        }
        var dll = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("The repository root was not found."),
            service, "bin", configuration, "net10.0", $"AiPrompts.{service}.dll");
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
