using System.Net;
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
        await using var worker = WorkerProcess.Start(api);

        JsonElement health = default;
        var status = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 150 && status != HttpStatusCode.OK; i++)
        {
            try
            {
                var response = await worker.Http.GetAsync("/health", Ct);
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
        Assert.Equal(HttpStatusCode.OK, (await worker.Http.GetAsync("/alive", Ct)).StatusCode);
    }
}
