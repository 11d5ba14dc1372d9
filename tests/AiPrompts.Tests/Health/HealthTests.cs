using System.Net;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Health;

/// <summary>Health as an orchestrator sees it, with Postgres or Redis taken away under a running Api.</summary>
public sealed class HealthTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path)
    {
        using var client = api.CreateClient();
        var response = await client.GetAsync(path, Ct);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone());
    }

    private static string Check(JsonElement body, string name) => body.GetProperty("checks").GetProperty(name).GetProperty("status").GetString()!;

    [Fact]
    public async Task Health_reports_each_dependency_and_reacts_when_one_goes_away()
    {
        // All up.
        var (status, body) = await GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", Check(body, "postgres"));
        Assert.Equal("Healthy", Check(body, "redis"));
        var (v1Status, v1Body) = await GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, v1Status);
        Assert.Equal("Healthy", Check(v1Body, "postgres"));

        // Redis gone: degraded, not down: the product keeps working without it.
        api.RedisProxy.Cut();
        (status, body) = await GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        Assert.Equal("Degraded", Check(body, "redis"));
        Assert.Equal("Healthy", Check(body, "postgres"));
        api.RedisProxy.Restore();

        // Postgres gone: unhealthy, 503, and /alive still says the process is fine.
        api.PostgresProxy.Cut();
        (status, body) = await GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", Check(body, "postgres"));
        Assert.DoesNotContain("127.0.0.1", body.ToString(), StringComparison.Ordinal);
        var (aliveStatus, alive) = await GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, aliveStatus);
        Assert.False(alive.GetProperty("checks").TryGetProperty("postgres", out _));
        api.PostgresProxy.Restore();

        // Both back: healthy again (Redis reconnects after its backoff).
        for (var i = 0; i < 50; i++)
        {
            (status, body) = await GetAsync("/health");
            if (body.GetProperty("status").GetString() == "Healthy")
            {
                break;
            }
            await Task.Delay(200, Ct);
        }
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_root_names_the_service_and_links_its_docs_and_health()
    {
        var (status, body) = await GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("AiPrompts", body.GetProperty("name").GetString());
        Assert.Equal("/scalar", body.GetProperty("links").GetProperty("docs").GetString());
        Assert.Equal("/api/v1/health", body.GetProperty("links").GetProperty("health").GetString());
    }

    [Fact]
    public async Task The_OpenAPI_document_and_the_offline_Scalar_page_are_served()
    {
        using var client = api.CreateClient();
        var openApi = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct)).RootElement;
        Assert.StartsWith("3.", openApi.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/v1/auth/token", out _));
        Assert.Equal("bearer", openApi.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());

        // Scalar.AspNetCore's page: every asset it loads comes from this server, and its configuration turns
        // off what would reach another host (the request proxy, web fonts, telemetry).
        using var pageResponse = await client.GetAsync("/scalar", Ct);
        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        var page = await pageResponse.Content.ReadAsStringAsync(Ct);
        var assets = System.Text.RegularExpressions.Regex.Matches(page, "(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(assets);
        foreach (var asset in assets)
        {
            Assert.False(Uri.TryCreate(asset, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal), $"{asset} is on another host");
            var uri = new Uri(pageResponse.RequestMessage!.RequestUri!, asset);
            using var assetResponse = await client.GetAsync(uri, Ct);
            Assert.True(assetResponse.IsSuccessStatusCode, $"{uri} answered {(int)assetResponse.StatusCode}");
        }
        Assert.True(assets.Sum(a => a.EndsWith(".js", StringComparison.Ordinal) ? 1 : 0) >= 1, string.Join(", ", assets));
        Assert.DoesNotContain("proxy.scalar.com", page, StringComparison.Ordinal);
        Assert.DoesNotContain("fonts.scalar.com", page, StringComparison.Ordinal);
        Assert.Contains("Bearer", page, StringComparison.Ordinal);
    }
}
