using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace AiPrompts.Deploy.Tests;

/// <summary>
/// deploy/kubernetes, validated offline (no cluster runs here): every file and every overlay's rendering
/// (kubectl's built-in kustomize) parse into the Kubernetes API's typed models with no unknown field, and what
/// they say matches what the images really are (repository names, port, health paths, user, secrets folder).
/// </summary>
public sealed class KubernetesManifestsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string ContainerProps = "ServiceDefaults/Container.props";

    public static TheoryData<string> Overlays => ["external", "trial"];

    [Fact]
    public void Every_manifest_file_parses_strictly_into_the_typed_models()
    {
        var files = Directory.EnumerateFiles(Repository.PathOf("deploy", "kubernetes"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .ToList();
        Assert.True(files.Count >= 6, $"only {files.Count} manifest files");
        foreach (var file in files)
        {
            var objects = Parse(File.ReadAllText(file), file);
            Assert.NotEmpty(objects);
        }
    }

    [Fact]
    public void A_misspelled_field_is_refused_by_the_strict_parse()
    {
        // The check above can fail: an unknown field is an error, not silently dropped.
        var yaml = File.ReadAllText(Repository.PathOf("deploy", "kubernetes", "base", "worker.yaml"))
            .Replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(yaml, strict: true));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_overlay_renders_into_typed_objects_whose_references_resolve(string overlay)
    {
        var objects = await RenderAsync(overlay);

        var kinds = objects.GroupBy(o => o.GetType()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1, kinds[typeof(V1Namespace)]);
        Assert.Equal(["aiprompts-api", "aiprompts-web", "aiprompts-worker"], objects.OfType<V1Deployment>().Select(d => d.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal(3, objects.OfType<V1PodDisruptionBudget>().Count());
        Assert.All(objects.OfType<IMetadata<V1ObjectMeta>>().Where(o => o is not V1Namespace),
            o => Assert.Equal("aiprompts", o.Metadata.NamespaceProperty));

        // Every Secret and ConfigMap a pod names exists (kustomize renamed them with their content's hash).
        var secrets = objects.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name);
        foreach (var pod in PodTemplates(objects))
        {
            foreach (var container in pod.Spec.Containers)
            {
                foreach (var source in container.EnvFrom ?? [])
                {
                    Assert.Contains(source.ConfigMapRef.Name, configMaps.Keys);
                }
                foreach (var env in container.Env ?? [])
                {
                    if (env.ValueFrom?.SecretKeyRef is { } key)
                    {
                        Assert.Contains(key.Name, secrets.Keys);
                        Assert.Contains(key.Key, secrets[key.Name].Data.Keys);
                    }
                }
            }
            foreach (var volume in pod.Spec.Volumes ?? [])
            {
                foreach (var projection in volume.Projected?.Sources ?? [])
                {
                    var secret = Assert.Contains(projection.Secret.Name, secrets);
                    Assert.All(projection.Secret.Items ?? [], item => Assert.Contains(item.Key, secret.Data.Keys));
                }
            }
        }

        // What each service reads from its secrets folder is there: the settings start-up fails without.
        Assert.Equivalent(
            new[] { "Auth__Jwt__SigningKey", "Bootstrap__SuperAdmin__Password", "ConnectionStrings__promptsdb", "ConnectionStrings__redis", "Keys__MasterKey" },
            MountedSecretKeys(Deployment(objects, "aiprompts-api"), secrets));
        Assert.Equivalent(
            new[] { "ConnectionStrings__promptsdb", "ConnectionStrings__redis", "Keys__MasterKey" },
            MountedSecretKeys(Deployment(objects, "aiprompts-worker"), secrets));
        // The console: Redis (its data-protection keys) and nothing else; no database, no vendor or signing key.
        Assert.Equivalent(new[] { "ConnectionStrings__redis" }, MountedSecretKeys(Deployment(objects, "aiprompts-web"), secrets));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_deployments_use_what_the_images_expose_and_run_locked_down(string overlay)
    {
        var objects = await RenderAsync(overlay);
        var port = int.Parse(Repository.ProjectItems(ContainerProps, "ContainerPort").Single(), CultureInfo.InvariantCulture);
        var user = long.Parse(Repository.ProjectProperty(ContainerProps, "ContainerUser"), CultureInfo.InvariantCulture);

        foreach (var (name, project) in new[] { ("aiprompts-api", "Api/Api.csproj"), ("aiprompts-worker", "Worker/Worker.csproj"), ("aiprompts-web", "Web/Web.csproj") })
        {
            var deployment = Deployment(objects, name);
            var pod = deployment.Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);
            var repository = Repository.ProjectProperty(project, "ContainerRepository");
            Assert.Matches($"(^|/){repository}:[^:]+$", container.Image);

            var http = Assert.Single(container.Ports, p => p.Name == "http");
            Assert.Equal(port, http.ContainerPort);
            foreach (var probe in new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe })
            {
                Assert.NotNull(probe);
                Assert.Equal("http", probe.HttpGet.Port.Value);
                Assert.Contains(probe.HttpGet.Path, new[] { ServiceDefaultsExtensions.HealthEndpointPath, ServiceDefaultsExtensions.AlivenessEndpointPath });
            }
            Assert.Equal(ServiceDefaultsExtensions.AlivenessEndpointPath, container.LivenessProbe.HttpGet.Path);

            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.Equal(user, pod.SecurityContext.RunAsUser);
            Assert.False(pod.AutomountServiceAccountToken);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
            Assert.NotNull(container.Resources.Requests);
            Assert.Contains("memory", container.Resources.Limits.Keys);

            // Read-only root: /tmp is an emptyDir; the secrets are where the services read them.
            var mounts = container.VolumeMounts.ToDictionary(m => m.MountPath);
            Assert.NotNull(pod.Volumes.Single(v => v.Name == mounts["/tmp"].Name).EmptyDir);
            Assert.True(mounts[ServiceDefaultsExtensions.DefaultSecretsDirectory].ReadOnlyProperty);

            // A graceful stop has time: the host's own shutdown timeout is 30 s (the Worker's: its grace + 15 s).
            Assert.True(pod.TerminationGracePeriodSeconds >= 35, $"{name}: terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds}");

            var budget = Assert.Single(objects.OfType<V1PodDisruptionBudget>(), b => Selects(b.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels));
            Assert.NotNull(budget.Spec.MinAvailable);
            Assert.True(Selects(deployment.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels));
        }

        var api = Deployment(objects, "aiprompts-api");
        var autoscaler = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal(("Deployment", api.Metadata.Name), (autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.True(autoscaler.Spec.MinReplicas >= 2);
        var service = Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == "aiprompts-api");
        Assert.True(Selects(service.Spec.Selector, api.Spec.Template.Metadata.Labels));
        Assert.Equal("http", Assert.Single(service.Spec.Ports).TargetPort.Value);

        // The console reaches the Api by its Service, and keeps a browser's circuit on one pod.
        var web = Deployment(objects, "aiprompts-web");
        var apiUrl = new Uri(Assert.Single(web.Spec.Template.Spec.Containers.Single().Env, e => e.Name == "Console__ApiBaseUrl").Value);
        Assert.Equal((service.Metadata.Name, Assert.Single(service.Spec.Ports).Port), (apiUrl.Host, apiUrl.Port));
        var console = Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == "aiprompts-web");
        Assert.True(Selects(console.Spec.Selector, web.Spec.Template.Metadata.Labels));
        Assert.Equal("ClientIP", console.Spec.SessionAffinity);
    }

    /// <summary>Renders an overlay from a copy of deploy/kubernetes, with secrets made by its own script.</summary>
    private static async Task<IReadOnlyList<object>> RenderAsync(string overlay)
    {
        var copy = Repository.CopyToTemporary(Path.Combine("deploy", "kubernetes"), "aiprompts-kustomize-");
        try
        {
            (await Programs.RunAsync("bash", [Path.Combine(copy, "make-secrets.sh"), overlay], Ct)).EnsureSuccess("make-secrets.sh " + overlay);
            var secrets = Path.Combine(copy, "overlays", overlay, "secrets");
            if (overlay == "external")
            {
                await File.WriteAllTextAsync(Path.Combine(secrets, "promptsdb"), "Host=db.example.com;Username=aiprompts;Password=x;Database=aiprompts;SSL Mode=VerifyFull", Ct);
                await File.WriteAllTextAsync(Path.Combine(secrets, "redis"), "redis.example.com:6380,password=x,ssl=True", Ct);
            }
            var rendered = (await Programs.RunAsync("kubectl", ["kustomize", Path.Combine(copy, "overlays", overlay)], Ct)).EnsureSuccess("kubectl kustomize " + overlay);
            return Parse(rendered.Output, "the rendering of " + overlay);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static List<object> Parse(string yaml, string what)
    {
        var objects = KubernetesYaml.LoadAllFromString(yaml, strict: true);
        Assert.All(objects, o => Assert.True(o is IKubernetesObject, $"{what}: {o?.GetType().Name ?? "null"} is not a Kubernetes object"));
        return objects;
    }

    private static V1Deployment Deployment(IEnumerable<object> objects, string name) =>
        Assert.Single(objects.OfType<V1Deployment>(), d => d.Metadata.Name == name);

    private static IEnumerable<V1PodTemplateSpec> PodTemplates(IEnumerable<object> objects) =>
        objects.OfType<V1Deployment>().Select(d => d.Spec.Template).Concat(objects.OfType<V1StatefulSet>().Select(s => s.Spec.Template));

    private static SortedSet<string> MountedSecretKeys(V1Deployment deployment, Dictionary<string, V1Secret> secrets)
    {
        var container = deployment.Spec.Template.Spec.Containers.Single();
        var mount = container.VolumeMounts.Single(m => m.MountPath == ServiceDefaultsExtensions.DefaultSecretsDirectory);
        var volume = deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name);
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var projection in volume.Projected.Sources)
        {
            var items = projection.Secret.Items?.Select(i => i.Path) ?? secrets[projection.Secret.Name].Data.Keys;
            keys.UnionWith(items);
        }
        return keys;
    }

    private static bool Selects(IDictionary<string, string> selector, IDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
}
