using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using k8s;
using k8s.Models;
using static AiPrompts.Deploy.Tests.ComposeDeployment;

namespace AiPrompts.Deploy.Tests;

/// <summary>
/// The containers as an operator runs them (deploy/compose.yaml, two Api and two Worker replicas, Postgres and Redis),
/// broken on purpose: a Worker killed mid-job, an Api stopped with requests in flight, Postgres restarted.
/// </summary>
[Trait("Category", "Containers")]
public sealed class ComposeDeploymentTests(ComposeDeployment deployment) : IClassFixture<ComposeDeployment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_services_run_as_a_non_root_user_on_a_read_only_root_filesystem_with_labels_of_their_source()
    {
        deployment.Require();
        var revision = (await Programs.RunAsync("git", ["rev-parse", "HEAD"], Ct)).Output.Trim();
        foreach (var container in new[] { Container("api", 1), Container("worker", 2), Container("web", 1) })
        {
            Assert.Equal("1654 true", (await Podman(["inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", container], Ct)).Trim());
            Assert.Equal("1654", (await Podman(["exec", container, "id", "-u"], Ct)).Trim());
            var write = await Programs.RunAsync("podman", ["exec", container, "touch", "/app/written"], Ct);
            Assert.NotEqual(0, write.ExitCode);
            Assert.Contains("Read-only file system", write.Error, StringComparison.Ordinal);
            Assert.Equal(0, (await Programs.RunAsync("podman", ["exec", container, "touch", "/tmp/written"], Ct)).ExitCode);
            // Every capability dropped, none to gain.
            Assert.Equal("0000000000000000", (await Podman(["exec", container, "sh", "-c", "grep CapEff /proc/1/status | cut -f2"], Ct)).Trim());

            var image = (await Podman(["inspect", "--format", "{{.ImageName}}", container], Ct)).Trim();
            var labels = JsonDocument.Parse(await Podman(["image", "inspect", "--format", "{{json .Labels}}", image], Ct)).RootElement;
            Assert.Equal(revision, labels.GetProperty("org.opencontainers.image.revision").GetString());
            Assert.False(string.IsNullOrEmpty(labels.GetProperty("org.opencontainers.image.version").GetString()));
            Assert.False(string.IsNullOrEmpty(labels.GetProperty("org.opencontainers.image.source").GetString()));
        }
    }

    [Fact]
    public async Task The_Kubernetes_ports_user_and_probe_paths_are_what_the_built_images_expose_and_answer()
    {
        deployment.Require();
        foreach (var (service, manifest) in new[] { ("api", "api.yaml"), ("worker", "worker.yaml"), ("web", "web.yaml") })
        {
            var pod = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Repository.PathOf("deploy", "kubernetes", "base", manifest), Ct))
                .OfType<V1Deployment>().Single().Spec.Template.Spec;
            var spec = pod.Containers.Single();
            var container = Container(service, 1);
            var image = (await Podman(["inspect", "--format", "{{.ImageName}}", container], Ct)).Trim();
            var config = JsonDocument.Parse(await Podman(["image", "inspect", "--format", "{{json .Config}}", image], Ct)).RootElement;

            var port = spec.Ports.Single(p => p.Name == "http").ContainerPort;
            Assert.True(config.GetProperty("ExposedPorts").TryGetProperty($"{port}/tcp", out _), $"{image} does not expose {port}/tcp");
            Assert.Equal(pod.SecurityContext.RunAsUser.ToString(), config.GetProperty("User").GetString());

            // Every probe's path answers 200 on the running container, at its address on the compose network.
            var address = (await Podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container], Ct)).Trim();
            using var http = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            foreach (var probe in new[] { spec.StartupProbe, spec.ReadinessProbe, spec.LivenessProbe })
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(probe.HttpGet.Path, Ct)).StatusCode);
            }
        }
    }

    [Fact]
    public async Task A_prompt_request_submitted_with_an_API_key_on_one_Api_completes_and_the_other_Api_reads_it()
    {
        deployment.Require();
        using var first = await ApiAsync(1, Ct, deployment.ApiKey);
        using var second = await ApiAsync(2, Ct, deployment.ApiKey);

        var id = await SubmitAsync(first, "Hello from the compose stack");
        var request = await WaitCompletedAsync(second, id);
        Assert.False(string.IsNullOrEmpty(request.GetProperty("response").GetProperty("text").GetString()));

        // Without the key, nothing.
        using var anonymous = await ApiAsync(2, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/prompt-requests/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_console_signs_in_through_the_Api_containers_and_shows_what_they_hold()
    {
        deployment.Require();
        using var api = await ApiAsync(1, Ct, deployment.ApiKey);
        var id = await SubmitAsync(api, "Shown by the console container");
        await WaitCompletedAsync(api, id);

        var cookies = new CookieContainer();
        using var console = await ConsoleAsync(cookies, Ct);
        var form = await console.GetStringAsync("/signin", Ct);
        var input = System.Text.RegularExpressions.Regex.Match(form, "<input[^>]*name=\"__RequestVerificationToken\"[^>]*>").Value;
        var antiforgery = System.Text.RegularExpressions.Regex.Match(input, "value=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(antiforgery), "the sign-in form carries its antiforgery token");
        var signIn = await console.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "admin@aiprompts.local", ["password"] = deployment.AdminPassword, ["returnUrl"] = "/requests", ["__RequestVerificationToken"] = antiforgery,
        }), Ct);
        Assert.Equal((HttpStatusCode.Redirect, "/requests"), (signIn.StatusCode, signIn.Headers.Location?.OriginalString));
        var session = Assert.Single(cookies.GetAllCookies(), c => c.Name == "aiprompts.console");
        Assert.True(session.HttpOnly);

        // The page, prerendered by the console container with what the Api containers hold: the request just made.
        var page = await console.GetAsync("/requests", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains($"requests/{id}", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_Apis_and_two_Workers_share_the_work()
    {
        deployment.Require();
        using var first = await ApiAsync(1, Ct, deployment.ApiKey);
        using var second = await ApiAsync(2, Ct, deployment.ApiKey);
        var workers = await WorkerHostnamesAsync();

        var ids = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await SubmitAsync(i % 2 == 0 ? first : second, $"Shared work {i}"));
        }

        // Each Worker takes two jobs at a time: while they run, both are seen holding jobs of these requests.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(JobTimeout);
        while (true)
        {
            var rows = await QueryAsync($"SELECT status, coalesce(split_part(lease_owner, ':', 1), '') FROM jobs WHERE subject_id IN ({string.Join(',', ids.Select(id => $"'{id}'"))})", timeout.Token);
            seen.UnionWith(rows.Select(r => r.Split('|')[1]).Where(h => h.Length > 0));
            if (rows.All(r => r.StartsWith("succeeded|", StringComparison.Ordinal)))
            {
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token);
        }
        Assert.Equal(workers.Values.ToHashSet(), seen);

        foreach (var (id, index) in ids.Select((id, index) => (id, index)))
        {
            await WaitCompletedAsync(index % 2 == 0 ? second : first, id);
        }
    }

    [Fact]
    public async Task A_Worker_killed_with_SIGKILL_mid_job_loses_nothing_the_other_Worker_completes_it()
    {
        deployment.Require();
        using var api = await ApiAsync(1, Ct, deployment.ApiKey);
        var workers = await WorkerHostnamesAsync();
        var id = await SubmitAsync(api, "A job whose Worker dies");

        var (owner, attempt) = await WaitForOwnerAsync(id, except: null);
        var victim = workers.Single(w => w.Value == owner.Split(':')[0]).Key;
        await Podman(["kill", "--signal", "KILL", victim], Ct);
        try
        {
            var (rescuer, rescued) = await WaitForOwnerAsync(id, except: owner);
            Assert.NotEqual(victim, workers.Single(w => w.Value == rescuer.Split(':')[0]).Key);
            Assert.True(rescued > attempt, $"attempt {rescued} after {attempt}");
            var request = await WaitCompletedAsync(api, id);
            Assert.False(string.IsNullOrEmpty(request.GetProperty("response").GetProperty("text").GetString()));
            Assert.Equal("exited 137", await EndStateAsync(victim));
        }
        finally
        {
            await StartAgainAsync(victim);
        }
    }

    [Fact]
    public async Task Podman_stop_of_an_Api_lets_its_in_flight_requests_finish_then_it_exits_cleanly()
    {
        deployment.Require();
        var victim = Container("api", 2);
        using var api = await ApiAsync(2, Ct, deployment.ApiKey);
        try
        {
            // The Api calls the model itself here (the OpenAI-compatible surface), so the request is in flight in it.
            var inFlight = api.PostAsJsonAsync("/openai/v1/chat/completions", new
            {
                model = "local/local-text",
                messages = new[] { new { role = "user", content = "Say something while I stop" } },
            }, Ct);
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);
            var stop = Programs.RunAsync("podman", ["stop", "-t", "30", victim], Ct);

            var answer = await inFlight;
            var body = await answer.Content.ReadAsStringAsync(Ct);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{(int)answer.StatusCode}: {body}");
            Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));

            (await stop).EnsureSuccess("podman stop");
            // Exit code 0: the process drained and ended on SIGTERM (killed at the timeout it would be 137).
            Assert.Equal("exited 0", await EndStateAsync(victim));
            using var other = await ApiAsync(1, Ct, deployment.ApiKey);
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/health", Ct)).StatusCode);
        }
        finally
        {
            await StartAgainAsync(victim);
        }
    }

    [Fact]
    public async Task Podman_stop_of_a_Worker_releases_or_finishes_its_running_job_and_exits_cleanly()
    {
        deployment.Require();
        using var api = await ApiAsync(1, Ct, deployment.ApiKey);
        var workers = await WorkerHostnamesAsync();
        var id = await SubmitAsync(api, "A job whose Worker is stopped");
        var (owner, _) = await WaitForOwnerAsync(id, except: null);
        var victim = workers.Single(w => w.Value == owner.Split(':')[0]).Key;
        try
        {
            (await Programs.RunAsync("podman", ["stop", "-t", "40", victim], Ct)).EnsureSuccess("podman stop");
            Assert.Equal("exited 0", await EndStateAsync(victim));
            await WaitCompletedAsync(api, id);
        }
        finally
        {
            await StartAgainAsync(victim);
        }
    }

    [Fact]
    public async Task The_stack_comes_back_after_Postgres_restarts()
    {
        deployment.Require();
        await Podman(["restart", Container("postgres", 1)], Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        for (var replica = 1; replica <= 2; replica++)
        {
            await WaitHealthyAsync(Container("api", replica), timeout.Token);
            await WaitHealthyAsync(Container("worker", replica), timeout.Token);
        }
        using var api = await ApiAsync(2, Ct, deployment.ApiKey);
        var id = await SubmitAsync(api, "After Postgres came back");
        await WaitCompletedAsync(api, id);
    }

    /// <summary>How a stopped container ended: <c>exited 0</c> after a clean stop, <c>exited 137</c> when killed.</summary>
    private static async Task<string> EndStateAsync(string container) =>
        (await Podman(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container], Ct)).Trim();

    /// <summary>Puts back a container a test stopped or killed, so the next test finds the whole deployment.</summary>
    private static async Task StartAgainAsync(string container)
    {
        await Podman(["start", container], Ct);
        await WaitHealthyAsync(container, Ct);
    }

    private static async Task<Guid> SubmitAsync(HttpClient api, string prompt)
    {
        var response = await api.PostAsJsonAsync("/api/v1/prompt-requests", new
        {
            promptType = "text",
            promptText = prompt,
            purpose = new { code = "deploy-test", text = "compose stack test" },
        }, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return (await Data(new HttpResponseMessage { Content = new StringContent(body) }, Ct)).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> WaitCompletedAsync(HttpClient api, Guid id)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(JobTimeout);
        while (true)
        {
            var response = await api.GetAsync($"/api/v1/prompt-requests/{id}", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var request = await Data(response, timeout.Token);
            var status = request.GetProperty("status").GetString();
            Assert.NotEqual("failed", status);
            if (status == "completed")
            {
                return request;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token);
        }
    }

    /// <summary>Waits until the request's job runs under an owner other than <paramref name="except"/>: its owner and attempt.</summary>
    private static async Task<(string Owner, int Attempt)> WaitForOwnerAsync(Guid id, string? except)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(JobTimeout);
        while (true)
        {
            var row = (await QueryAsync($"SELECT status, coalesce(lease_owner, ''), attempt FROM jobs WHERE subject_id = '{id}'", timeout.Token)).Single().Split('|');
            if (row[0] == "running" && row[1] != except)
            {
                return (row[1], int.Parse(row[2], System.Globalization.CultureInfo.InvariantCulture));
            }
            Assert.NotEqual("failed", row[0]);
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }
    }

    /// <summary>Each Worker container and the host name its process runs under (the first part of its lease owner).</summary>
    private static async Task<Dictionary<string, string>> WorkerHostnamesAsync()
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var replica = 1; replica <= 2; replica++)
        {
            var container = Container("worker", replica);
            names[container] = (await Podman(["exec", container, "cat", "/proc/sys/kernel/hostname"], Ct)).Trim();
        }
        Assert.Equal(2, names.Values.Distinct().Count());
        return names;
    }
}
