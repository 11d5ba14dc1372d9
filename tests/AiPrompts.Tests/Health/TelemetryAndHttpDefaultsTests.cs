using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Health;

public sealed class TelemetryAndHttpDefaultsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_an_OTLP_endpoint_set_the_worker_exports_traces_metrics_and_logs_to_it()
    {
        // A fake collector that records which OTLP/HTTP signal paths it receives.
        var received = new ConcurrentDictionary<string, int>();
        var collectorPort = FreePort();
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.UseUrls($"http://127.0.0.1:{collectorPort}");
        collectorBuilder.Logging.ClearProviders();
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (body.Length > 0)
            {
                received.AddOrUpdate(signal, 1, (_, n) => n + 1);
            }
            return Results.Ok();
        });
        await collector.StartAsync(Ct);

        _ = api.Server;
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(WorkerProcessTests.WorkerDll());
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ConnectionStrings__promptsdb"] = api.Database.ConnectionString;
        start.Environment["ConnectionStrings__redis"] = TestEnvironment.Redis;
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}";
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        start.Environment["OTEL_SERVICE_NAME"] = "worker-under-test";
        start.Environment["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        start.Environment["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
        start.Environment["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
        using var worker = Process.Start(start)!;
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            for (var i = 0; i < 200 && !(received.ContainsKey("traces") && received.ContainsKey("metrics") && received.ContainsKey("logs")); i++)
            {
                try
                {
                    await http.GetAsync("/alive", Ct); // each request is a server span
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(100, Ct);
            }
            Assert.True(received.ContainsKey("traces"), $"no traces; got {string.Join(", ", received.Keys)}");
            Assert.True(received.ContainsKey("metrics"), $"no metrics; got {string.Join(", ", received.Keys)}");
            Assert.True(received.ContainsKey("logs"), $"no logs; got {string.Join(", ", received.Keys)}");
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync(Ct);
            await collector.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task The_default_HttpClient_pipeline_retries_idempotent_requests_on_transient_failures_only()
    {
        var calls = new ConcurrentDictionary<HttpMethod, int>();
        var inner = new ScriptedHandler(request =>
        {
            var n = calls.AddOrUpdate(request.Method, 1, (_, c) => c + 1);
            return n <= 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK;
        });
        using var client = new HttpClient(new ResilienceHandler { InnerHandler = inner });

        var get = await client.GetAsync("http://vendor.test/models", Ct);
        var post = await client.PostAsync("http://vendor.test/chat", new StringContent("{}"), Ct);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(3, calls[HttpMethod.Get]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode); // a completion is never replayed here
        Assert.Equal(1, calls[HttpMethod.Post]);

        calls.Clear();
        var notFound = new ScriptedHandler(_ => { calls.AddOrUpdate(HttpMethod.Get, 1, (_, c) => c + 1); return HttpStatusCode.NotFound; });
        using var plain = new HttpClient(new ResilienceHandler { InnerHandler = notFound });
        Assert.Equal(HttpStatusCode.NotFound, (await plain.GetAsync("http://vendor.test/missing", Ct)).StatusCode);
        Assert.Equal(1, calls[HttpMethod.Get]);
    }

    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpStatusCode> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(answer(request)));
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

public sealed class CorsFactory : ApiFactory
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Cors:AllowedOrigins:0"] = "https://admin.example.com",
    };
}

public sealed class CorsTests(CorsFactory api) : IClassFixture<CorsFactory>
{
    [Theory]
    [InlineData("https://admin.example.com", true)]
    [InlineData("https://evil.example.net", false)]
    public async Task Only_configured_origins_are_allowed(string origin, bool allowed)
    {
        using var client = api.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/users");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");

        var response = await client.SendAsync(preflight, TestContext.Current.CancellationToken);

        Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
    }
}
