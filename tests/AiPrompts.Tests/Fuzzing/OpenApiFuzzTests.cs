using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Fuzzing;

/// <summary>
/// The real Api on Kestrel (so the server's own request parsing and limits are part of what is tested), with
/// every vendor pointed at the fake vendor and short waits, so that no generated request can sit on a timer.
/// </summary>
public sealed class KestrelApiFactory : AiFactory
{
    public KestrelApiFactory() => UseKestrel(0);

    protected override IReadOnlyDictionary<string, string?> Settings =>
        base.Settings.Concat(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Templates:SandboxWait"] = "00:00:00.200",
            ["PromptRequests:MaxWait"] = "00:00:01",
            ["Assistants:ChatWait"] = "00:00:01",
            ["Studio:Wait"] = "00:00:01",
            ["Auth:LoginRateLimit:PermitLimitPerAddress"] = "100000",
        }).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary>The address Kestrel listens on.</summary>
    public Uri Address => ClientOptions.BaseAddress;
}

/// <summary>
/// Every operation of the Api's own OpenAPI document, fuzzed while signed in as the super admin. The run is
/// deterministic for its seed: AIPROMPTS_FUZZ_SEED (default 20261202) and AIPROMPTS_FUZZ_CASES per operation
/// (default 24; a hand run can ask for thousands). The figures go to the test output and, when the test
/// state folder is set, to fuzz-report.txt there.
/// </summary>
public sealed class OpenApiFuzzTests(KestrelApiFactory api) : IClassFixture<KestrelApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_generated_or_boundary_input_to_any_operation_gets_a_5xx_an_undeclared_answer_or_a_slow_one()
    {
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("AIPROMPTS_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261202UL;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("AIPROMPTS_FUZZ_CASES"), CultureInfo.InvariantCulture, out var c) ? c : 24;
        using var client = api.CreateClient(await api.AdminTokenAsync());
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct));
        var fuzzer = new OpenApiFuzzer(client, document.RootElement);
        if (Environment.GetEnvironmentVariable("AIPROMPTS_TEST_STATE") is { Length: > 0 } dump)
        {
            // The document the run was generated from, beside its report, to read a failure against.
            await File.WriteAllTextAsync(Path.Combine(dump, "openapi.json"), document.RootElement.GetRawText(), Ct);
        }

        // Every operation, the streaming one included: the fuzzer never has a real request id, so its
        // /events calls are 404s and are checked like the rest.
        var report = await fuzzer.RunAsync(cases, seed, Ct);

        var summary = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"fuzz: seed {seed}, {report.Operations} operations, {report.Cases} cases, {report.Elapsed.TotalSeconds:0.0} s")
            .AppendLine(CultureInfo.InvariantCulture, $"statuses: {string.Join(", ", report.Statuses.Select(p => $"{p.Key}×{p.Value}"))}")
            .AppendLine(CultureInfo.InvariantCulture, $"failures: {report.Failures.Count}");
        foreach (var failure in report.Failures.Take(40))
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"- {failure.Request.OperationId}: {failure.Problem} ({failure.Status})\n  {failure.Request}\n  {failure.Body}");
        }
        TestContext.Current.SendDiagnosticMessage(summary.ToString());
        if (Environment.GetEnvironmentVariable("AIPROMPTS_TEST_STATE") is { Length: > 0 } state)
        {
            await File.WriteAllTextAsync(Path.Combine(state, "fuzz-report.txt"), summary.ToString(), Ct);
        }
        Assert.True(report.Operations >= 50, $"only {report.Operations} operations in the document");
        Assert.True(report.Failures.Count == 0, summary.ToString());
    }

    [Fact]
    public async Task The_document_declares_every_operation_the_Api_serves()
    {
        using var client = api.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct));
        var operations = new OpenApiFuzzer(client, document.RootElement).Operations;

        Assert.Contains(operations, o => o.Path == "/ai/prompts" && o.Method == "POST");
        Assert.All(operations, o => Assert.True(o.Operation.GetProperty("responses").EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{o.Method} {o.Path} declares no success"));
    }

    /// <summary>Raw HTTP/1.1, so that nothing on the client side tidies the request up first.</summary>
    private async Task<(int Status, string Head, string Body)> RawAsync(string requestLine, string headers = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(api.Address.Host, api.Address.Port, Ct);
        await using var stream = tcp.GetStream();
        var request = $"{requestLine}\r\nHost: {api.Address.Authority}\r\n{headers}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), Ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(Ct);
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? response : response[..split];
        var status = int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture);
        return (status, head, split < 0 ? "" : response[(split + 4)..]);
    }

    [Fact]
    public async Task A_very_long_URL_and_very_large_headers_get_414_and_431_problems_not_empty_bodies()
    {
        var (status, head, body) = await RawAsync($"GET /api/v1/prompt-requests?q={new string('x', 100_000)} HTTP/1.1");
        Assert.Equal(414, status);
        Assert.Contains("application/problem+json", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"uri_too_long\"", body, StringComparison.Ordinal);

        (status, head, body) = await RawAsync("GET /api/v1/me HTTP/1.1", $"X-Big: {new string('h', 40_000)}\r\n");
        Assert.Equal(431, status);
        Assert.Contains("application/problem+json", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"headers_too_large\"", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Kestrel refuses a percent-encoded NUL in the path while it parses the request line ("the path contains
    /// null characters"), before any application code runs, so there is no hook that could give it a body;
    /// the README says so. What this test holds: it is a 400, the connection is closed, and it reaches nothing.
    /// </summary>
    [Fact]
    public async Task A_NUL_in_the_path_is_refused_by_the_server_itself_with_400_and_reaches_nothing()
    {
        var before = await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests");

        var (status, head, _) = await RawAsync("POST /api/v1/prompt-requests/%00 HTTP/1.1", "Content-Length: 0\r\n");

        Assert.Equal(400, status);
        Assert.Contains("Connection: close", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await api.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_requests"));
        // The same NUL where the application does see it, in the query, is its usual problem.
        var (queryStatus, queryHead, queryBody) = await RawAsync("GET /api/v1/prompt-requests?type=%00 HTTP/1.1");
        Assert.Equal(400, queryStatus);
        Assert.Contains("application/problem+json", queryHead, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"validation_failed\"", queryBody, StringComparison.Ordinal);
    }
}
