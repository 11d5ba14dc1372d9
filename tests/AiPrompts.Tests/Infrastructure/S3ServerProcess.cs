using System.Diagnostics;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// An S3-compatible server of the test's own: s3rver (npm, tests/s3-server, installed by scripts/test) on a free
/// loopback port, with one bucket, its objects on the local disk. It speaks S3's REST protocol with
/// signature V4, so the real AWS SDK client is exercised.
/// </summary>
public sealed class S3ServerProcess : IAsyncDisposable
{
    public const string AccessKey = "S3RVER"; // s3rver's own credentials
    public const string SecretKey = "S3RVER";

    private readonly string _directory;
    private Process? _process;

    public S3ServerProcess(string bucket)
    {
        Bucket = bucket;
        Port = Ports.FreeLoopbackPort();
        _directory = Path.Combine(TestEnvironment.StateDirectory, "s3-" + Port);
        Directory.CreateDirectory(_directory);
    }

    public int Port { get; }
    public string Bucket { get; }
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Where s3rver keeps the bucket's objects (one folder per key).</summary>
    public string BucketDirectory => Path.Combine(_directory, Bucket);

    public async Task StartAsync()
    {
        var server = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "s3-server");
        if (!Directory.Exists(Path.Combine(server, "node_modules", "s3rver")))
        {
            throw new InvalidOperationException("tests/s3-server has no node_modules: run scripts/test (it installs it with npm ci).");
        }
        _process = Process.Start(new ProcessStartInfo("node", [Path.Combine(server, "serve.mjs"), Port.ToString(System.Globalization.CultureInfo.InvariantCulture), _directory, Bucket])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("node did not start.");
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "listening")
            {
                return;
            }
        }
        throw new InvalidOperationException("s3rver stopped before it listened.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
