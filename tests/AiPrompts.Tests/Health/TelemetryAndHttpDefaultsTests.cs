using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AiPrompts.Api.Extensions;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Health;

public sealed class TelemetryAndHttpDefaultsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_an_OTLP_endpoint_set_the_worker_exports_traces_metrics_and_logs_and_a_job_continues_the_trace_that_enqueued_it()
    {
        // A fake collector that records which OTLP/HTTP signal paths it receives, and the trace payloads.
        var received = new ConcurrentDictionary<string, int>();
        var traces = new ConcurrentQueue<byte[]>();
        var collectorPort = Ports.FreeLoopbackPort();
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
                if (signal == "traces")
                {
                    traces.Enqueue(body.ToArray());
                }
            }
            return Results.Ok();
        });
        await collector.StartAsync(Ct);

        await using var worker = WorkerProcess.Start(api, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "worker-under-test",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        try
        {
            for (var i = 0; i < 200 && !(received.ContainsKey("traces") && received.ContainsKey("metrics") && received.ContainsKey("logs")); i++)
            {
                try
                {
                    await worker.Http.GetAsync("/alive", Ct); // health probes are not traced,
                    await worker.Http.GetAsync("/not-a-route", Ct); // but every other request is a server span
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(100, Ct);
            }
            Assert.True(received.ContainsKey("traces"), $"no traces; got {string.Join(", ", received.Keys)}");
            Assert.True(received.ContainsKey("metrics"), $"no metrics; got {string.Join(", ", received.Keys)}");
            Assert.True(received.ContainsKey("logs"), $"no logs; got {string.Join(", ", received.Keys)}");

            // A prompt request submitted inside a trace: the job row carries it, and the Worker's spans join it.
            var traceId = ActivityTraceId.CreateRandom();
            using var client = api.CreateClient(await api.AdminTokenAsync());
            using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { promptType = "text", promptText = "Trace me" }),
            };
            submit.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            submit.Headers.Add("Prefer", "wait=20");
            var answer = await client.SendAsync(submit, Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var traceParent = await api.Database.ScalarAsync<string>("SELECT trace_parent FROM jobs ORDER BY created_at DESC LIMIT 1");
            Assert.StartsWith($"00-{traceId}-", traceParent, StringComparison.Ordinal);
            var traceIdBytes = Convert.FromHexString(traceId.ToHexString());
            for (var i = 0; i < 100 && !traces.Any(t => t.AsSpan().IndexOf(traceIdBytes) >= 0); i++)
            {
                await Task.Delay(100, Ct);
            }
            Assert.Contains(traces, t => t.AsSpan().IndexOf(traceIdBytes) >= 0);
        }
        finally
        {
            await collector.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task The_default_HttpClient_pipeline_retries_idempotent_requests_on_transient_failures_only()
    {
        var calls = new ConcurrentDictionary<string, int>();
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient("ordinary").ConfigurePrimaryHttpMessageHandler(() => new ScriptedHandler(request =>
        {
            var n = calls.AddOrUpdate($"{request.Method} {request.RequestUri!.AbsolutePath}", 1, (_, c) => c + 1);
            return request.RequestUri.AbsolutePath == "/missing" ? HttpStatusCode.NotFound
                : n <= 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK;
        }));
        // Only the pause between attempts is shortened; what is retried is the service defaults' choice.
        builder.Services.Configure<HttpStandardResilienceOptions>("ordinary-standard", o => o.Retry.Delay = TimeSpan.FromMilliseconds(1));
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("ordinary");

        var get = await client.GetAsync("http://vendor.test/models", Ct);
        var post = await client.PostAsync("http://vendor.test/chat", new StringContent("{}"), Ct);
        var missing = await client.GetAsync("http://vendor.test/missing", Ct);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(3, calls["GET /models"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode); // a POST is never replayed here
        Assert.Equal(1, calls["POST /chat"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); // not transient: asked once
        Assert.Equal(1, calls["GET /missing"]);
    }

    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpStatusCode> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(answer(request)));
    }
}

public sealed class CorsFactory : ApiFactory
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // The Korean document's .env name for Cors:AllowedOrigins.
        ["CORS_ORIGINS"] = "https://admin.example.com, https://signage.example.org",
    };
}

public sealed class CorsTests(CorsFactory api) : IClassFixture<CorsFactory>
{
    [Theory]
    [InlineData("https://admin.example.com", "/api/v1/users", true)]
    [InlineData("https://signage.example.org", "/api/v1/chat", true)]
    [InlineData("https://evil.example.net", "/api/v1/chat", false)]
    public async Task Only_configured_origins_are_allowed(string origin, string path, bool allowed)
    {
        using var client = api.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");

        var response = await client.SendAsync(preflight, TestContext.Current.CancellationToken);

        Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
    }
}

public sealed class DocumentEnvironmentTests
{
    [Fact]
    public void The_documents_env_names_set_our_settings_unless_ours_are_given()
    {
        var document = new ConfigurationManager();
        document.AddInMemoryCollection(new Dictionary<string, string?> { ["ASSISTANT_ID"] = "asst_0193a000000070008000000000000002", ["CORS_ORIGINS"] = "https://a.example, https://b.example" });
        document.AddDocumentAliases();
        Assert.Equal("asst_0193a000000070008000000000000002", document["Assistants:DefaultAssistantId"]);
        Assert.Equal(["https://a.example", "https://b.example"], document.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? []);

        var ours = new ConfigurationManager();
        ours.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ASSISTANT_ID"] = "asst_0193a000000070008000000000000002", ["Assistants:DefaultAssistantId"] = "asst_0193a000000070008000000000000003",
            ["CORS_ORIGINS"] = "https://a.example", ["Cors:AllowedOrigins:0"] = "https://ours.example",
        });
        ours.AddDocumentAliases();
        Assert.Equal("asst_0193a000000070008000000000000003", ours["Assistants:DefaultAssistantId"]);
        Assert.Equal(["https://ours.example"], ours.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? []);
    }
}
