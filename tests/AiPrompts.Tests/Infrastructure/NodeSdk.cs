using System.Diagnostics;
using System.Text.Json;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The official OpenAI SDK for Node (tests/sdk-clients, installed by scripts/test with <c>npm ci</c>): runs one of its
/// scripts against us and answers the JSON line it printed last (what it saw).
/// </summary>
public static class NodeSdk
{
    public static async Task<JsonElement> RunAsync(string script, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var clients = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "sdk-clients");
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "openai")), "run scripts/test (it installs tests/sdk-clients with npm ci)");
        using var node = Process.Start(new ProcessStartInfo("node", [Path.Combine(clients, script), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = clients,
        })!;
        var output = node.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = node.StandardError.ReadToEndAsync(cancellationToken);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            await node.WaitForExitAsync(timeout.Token);
        }
        Assert.True(node.ExitCode == 0, $"node exited {node.ExitCode}: {await errors}\n{await output}");
        return JsonDocument.Parse((await output).Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
