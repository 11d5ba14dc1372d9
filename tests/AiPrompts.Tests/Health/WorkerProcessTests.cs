using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Health;

/// <summary>The Worker as operators run it: its own process, with its own /health and /alive.</summary>
public sealed class WorkerProcessTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_worker_process_reports_ready_once_the_schema_is_current()
    {
        _ = api.Server; // the Api has migrated this database
        var port = FreePort();
        var dll = WorkerDll();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ConnectionStrings__promptsdb"] = api.Database.ConnectionString;
        start.Environment["ConnectionStrings__redis"] = TestEnvironment.Redis;
        using var worker = Process.Start(start)!;
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            JsonElement health = default;
            var status = HttpStatusCode.ServiceUnavailable;
            for (var i = 0; i < 150 && status != HttpStatusCode.OK; i++)
            {
                try
                {
                    var response = await http.GetAsync("/health", Ct);
                    status = response.StatusCode;
                    health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
                }
                catch (HttpRequestException)
                {
                }
                if (status != HttpStatusCode.OK)
                {
                    await Task.Delay(100, Ct);
                }
            }
            Assert.Equal(HttpStatusCode.OK, status);
            var checks = health.GetProperty("checks");
            Assert.Equal("Healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
            Assert.Equal("Healthy", checks.GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("Healthy", checks.GetProperty("schema").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", Ct)).StatusCode);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync(Ct);
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>The Worker as built next to these tests (the test project builds it, without referencing its assembly).</summary>
    public static string WorkerDll()
    {
        var dll = Path.Combine(RepositoryRoot(), "Worker", "bin", Configuration(), "net10.0", "AiPrompts.Worker.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        return dll;
    }

    private static string Configuration() => AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("The repository root was not found.");
    }
}
