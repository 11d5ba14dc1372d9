using System.Diagnostics;
using Aspire.Hosting;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace AiPrompts.AppHost.Tests;

/// <summary>
/// The AppHost itself, as `scripts/run` starts it (executables mode: PostgreSQL and redis-server from this
/// machine, started by DCP), with its data in a folder of its own and every secret given, so nothing is
/// generated into user secrets.
/// </summary>
public sealed class AppHostTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task In_executables_mode_api_and_worker_become_healthy_and_a_prompt_request_is_completed_by_the_worker()
    {
        var data = Directory.CreateTempSubdirectory("aiprompts-apphost-").FullName;
        try
        {
            await RunAndSeeAPromptRequestCompletedAsync(
            [
                "AppHost:Infrastructure=executables",
                $"AppHost:DataDirectory={data}",
                $"Parameters:postgres-password={Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}",
                $"Parameters:redis-password={Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}",
            ], redis: "redis-server");
        }
        finally
        {
            AppHostDataFolder.Remove(data);
        }
    }

    [Fact]
    [Trait("Category", "Containers")]
    public async Task In_containers_mode_under_Podman_postgres_and_redis_run_as_containers_and_a_prompt_request_completes()
    {
        if (Environment.GetEnvironmentVariable("AIPROMPTS_TEST_CONTAINERS") != "1")
        {
            Assert.Skip("Runs under Podman when AIPROMPTS_TEST_CONTAINERS=1: deploy/test-containers.sh (run by scripts/test) builds the stand-in images and sets it.");
        }
        var volume = $"aiprompts-apphost-test-{Guid.NewGuid():N}";
        try
        {
            await RunAndSeeAPromptRequestCompletedAsync(
            [
                "AppHost:Infrastructure=containers",
                // No public registry here: the stand-ins deploy/images/build.sh --standins made from Debian's packages.
                "AppHost:PostgresImage=localhost/aiprompts/postgres-standin:15",
                "AppHost:RedisImage=localhost/aiprompts/redis-standin:7",
                $"AppHost:PostgresVolume={volume}",
            ], redis: "redis");
        }
        finally
        {
            using var process = Process.Start(new ProcessStartInfo("podman", ["volume", "rm", "-f", volume]) { RedirectStandardOutput = true, RedirectStandardError = true });
            await process!.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Starts the AppHost with these settings and fresh secrets, waits until Postgres, Redis, the Api and the Worker are
    /// healthy, and sees the Worker complete a prompt request submitted to the Api.
    /// </summary>
    private static async Task RunAndSeeAPromptRequestCompletedAsync(string[] settings, string redis)
    {
        const string adminPassword = "apphost test password";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            .. settings,
            $"Parameters:master-key={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            $"Parameters:jwt-signing-key={Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}",
            $"Parameters:bootstrap-admin-password={adminPassword}",
        ], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        foreach (var resource in new[] { "postgres", redis, "api", "worker" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }
        await AssertAPromptRequestCompletesAsync(app, adminPassword, timeout.Token);
        await app.StopAsync(timeout.Token);
    }

    /// <summary>Signs in as the bootstrap super admin and sees the Worker complete a prompt request submitted to the Api.</summary>
    private static async Task AssertAPromptRequestCompletesAsync(DistributedApplication app, string adminPassword, CancellationToken cancellationToken)
    {
        using var api = app.CreateHttpClient("api");
        var signIn = await api.PostAsJsonAsync("/api/v1/auth/token", new { email = "admin@aiprompts.local", password = adminPassword }, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var token = JsonDocument.Parse(await signIn.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("data").GetProperty("accessToken").GetString();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests")
        {
            Content = JsonContent.Create(new { promptType = "text", promptText = "Hello from the AppHost test", purpose = new { code = "test", text = "AppHost end to end" } }),
        };
        submit.Headers.Add("Prefer", "wait=60");
        var answer = await api.SendAsync(submit, cancellationToken);
        var body = await answer.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{(int)answer.StatusCode}: {body}");
        var request = JsonDocument.Parse(body).RootElement.GetProperty("data");
        Assert.Equal("completed", request.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(request.GetProperty("response").GetProperty("text").GetString()));
    }
}
