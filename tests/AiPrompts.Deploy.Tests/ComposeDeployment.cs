using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AiPrompts.Deploy.Tests;

/// <summary>
/// deploy/compose.yaml running under podman-compose with two Api and two Worker replicas, on the images
/// deploy/images/build.sh built and the Postgres and Redis stand-ins of deploy/compose.standins.yaml. Started
/// when <c>AIPROMPTS_TEST_CONTAINERS=1</c> (deploy/test-containers.sh sets it after building the images); otherwise
/// the tests that need it are skipped, saying so. Runs in its own copy of deploy/ with its own secrets, and
/// removes every container, volume and network of its project at the end.
/// </summary>
public sealed class ComposeDeployment : IAsyncLifetime
{
    public const string Project = "aiprompts_ci";
    public const string EnabledVariable = "AIPROMPTS_TEST_CONTAINERS";
    public const string ChatLatency = "00:00:03";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private string? _directory;
    private string[] _files = [];

    public bool Enabled { get; } = Environment.GetEnvironmentVariable(EnabledVariable) == "1";
    public string ApiKey { get; private set; } = "";
    public string AdminPassword { get; private set; } = "";

    public static string Container(string service, int replica) => $"{Project}_{service}_{replica}";

    public async ValueTask InitializeAsync()
    {
        if (!Enabled)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(StartTimeout);
        var ct = timeout.Token;
        await DownAsync(ct); // what a crashed earlier run left
        _directory = Directory.CreateTempSubdirectory("aiprompts-compose-").FullName;
        foreach (var file in new[] { "compose.yaml", "compose.standins.yaml", "make-secrets.sh" })
        {
            File.Copy(Repository.PathOf("deploy", file), Path.Combine(_directory, file));
        }
        (await Programs.RunAsync("bash", ["make-secrets.sh"], ct, _directory)).EnsureSuccess("make-secrets.sh");
        AdminPassword = (await File.ReadAllTextAsync(Path.Combine(_directory, "secrets", "admin-password"), ct)).Trim();

        // The test's own settings: a model call takes a while (so one can be caught in flight), a Worker takes two
        // jobs at a time and gives up a lost lease soon, and a killed Worker stays dead (so the other must finish).
        await File.WriteAllTextAsync(Path.Combine(_directory, "compose.test.yaml"), $"""
            services:
              api:
                environment:
                  Vendors__LocalLatency: "{ChatLatency}"
              worker:
                restart: "no"
                environment:
                  Vendors__LocalLatency: "{ChatLatency}"
                  Jobs__Concurrency: "2"
                  Jobs__ClaimBatchSize: "2"
                  Jobs__LeaseDuration: "00:00:06"
            """, ct);
        _files = ["-f", "compose.yaml", "-f", "compose.standins.yaml", "-f", "compose.test.yaml"];
        // Output is not shown: podman-compose echoes the commands it runs, secrets included.
        var up = await Programs.RunAsync("podman-compose", ["-p", Project, .. _files, "up", "-d"], ct, _directory, new Dictionary<string, string>
        {
            ["AIPROMPTS_API_REPLICAS"] = "2",
            ["AIPROMPTS_WORKER_REPLICAS"] = "2",
            ["AIPROMPTS_API_PUBLISH"] = "127.0.0.1::8080",
            ["AIPROMPTS_WEB_PUBLISH"] = "127.0.0.1::8080",
        });
        if (up.ExitCode != 0)
        {
            throw new InvalidOperationException($"podman-compose up failed ({up.ExitCode}).");
        }

        for (var replica = 1; replica <= 2; replica++)
        {
            await WaitHealthyAsync(Container("api", replica), ct);
            await WaitHealthyAsync(Container("worker", replica), ct);
        }
        await WaitHealthyAsync(Container("web", 1), ct);

        using var api = await ApiAsync(1, ct);
        var signIn = await api.PostAsJsonAsync("/api/v1/auth/token", new { email = "admin@aiprompts.local", password = AdminPassword }, ct);
        signIn.EnsureSuccessStatusCode();
        var token = (await Data(signIn, ct)).GetProperty("accessToken").GetString();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var key = await api.PostAsJsonAsync("/api/v1/api-keys", new { name = "compose test", scopes = new[] { "prompts" } }, ct);
        key.EnsureSuccessStatusCode();
        ApiKey = (await Data(key, ct)).GetProperty("key").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Enabled)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await DownAsync(timeout.Token);
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Skips the calling test, saying why, when the stack is not to run here.</summary>
    public void Require()
    {
        if (!Enabled)
        {
            Assert.Skip($"The compose stack runs when {EnabledVariable}=1: deploy/test-containers.sh (run by scripts/test) builds the images and sets it.");
        }
    }

    /// <summary>An HttpClient for Api replica 1 or 2 at the host port Podman gave it (read anew: a restart may change it).</summary>
    public static async Task<HttpClient> ApiAsync(int replica, CancellationToken ct, string? apiKey = null)
    {
        var address = (await Podman(["port", Container("api", replica), "8080/tcp"], ct)).Trim().Split('\n')[0];
        var client = new HttpClient { BaseAddress = new Uri($"http://{address}"), Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    /// <summary>A browser-like client of the console at the host port Podman gave it: cookies kept, redirects not followed.</summary>
    public static async Task<HttpClient> ConsoleAsync(CookieContainer cookies, CancellationToken ct)
    {
        var address = (await Podman(["port", Container("web", 1), "8080/tcp"], ct)).Trim().Split('\n')[0];
        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://{address}"),
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>Runs podman with these arguments and answers what it printed; a failure is an exception.</summary>
    public static async Task<string> Podman(IEnumerable<string> arguments, CancellationToken ct)
    {
        var list = arguments.ToList();
        return (await Programs.RunAsync("podman", list, ct)).EnsureSuccess("podman " + string.Join(' ', list.Take(2))).Output;
    }

    /// <summary>One SQL query in the stack's database (as the stand-in's local superuser), rows of |-separated columns.</summary>
    public static async Task<IReadOnlyList<string>> QueryAsync(string sql, CancellationToken ct)
    {
        var output = await Podman(["exec", Container("postgres", 1), "psql", "-U", "aiprompts", "-d", "aiprompts", "-AtX", "-c", sql], ct);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>Waits until the container's own health check (the image's <c>health</c> command) passes.</summary>
    public static async Task WaitHealthyAsync(string container, CancellationToken ct)
    {
        ProgramResult last;
        do
        {
            last = await Programs.RunAsync("podman", ["healthcheck", "run", container], ct);
            if (last.ExitCode == 0)
            {
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        while (!ct.IsCancellationRequested);
        throw new OperationCanceledException($"{container} did not become healthy: {last.Output} {last.Error}");
    }

    public static async Task<JsonElement> Data(HttpResponseMessage response, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var root = json.RootElement.Clone();
        return root.TryGetProperty("data", out var data) ? data : root;
    }

    /// <summary>Removes every container, volume and network of the project, whatever state they are in.</summary>
    private static async Task DownAsync(CancellationToken ct)
    {
        var label = $"label=io.podman.compose.project={Project}";
        var containers = (await Programs.RunAsync("podman", ["ps", "-aq", "--filter", label], ct)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (containers.Length > 0)
        {
            await Programs.RunAsync("podman", ["rm", "-f", "-t", "0", .. containers], ct);
        }
        var volumes = (await Programs.RunAsync("podman", ["volume", "ls", "-q", "--filter", label], ct)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (volumes.Length > 0)
        {
            await Programs.RunAsync("podman", ["volume", "rm", "-f", .. volumes], ct);
        }
        var networks = (await Programs.RunAsync("podman", ["network", "ls", "-q", "--filter", label], ct)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (networks.Length > 0)
        {
            await Programs.RunAsync("podman", ["network", "rm", "-f", .. networks], ct);
        }
    }
}
