using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>PEM files for a TLS redis-server: its certificate and key, and the CA that signed it.</summary>
public sealed record TlsFiles(string CertificatePath, string KeyPath, string AuthorityPath);

/// <summary>A redis-server process of the test's own, on a free loopback port, that the test can stop and start.</summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private readonly TlsFiles? _tls;

    public RedisServerProcess(string? password = null, TlsFiles? tls = null)
    {
        Password = password;
        _tls = tls;
        Port = Ports.FreeLoopbackPort();
        _directory = Path.Combine(TestEnvironment.StateDirectory, "redis-" + Port);
        Directory.CreateDirectory(_directory);
    }

    public int Port { get; }
    public string? Password { get; }

    public string ConnectionString(string extra = "") =>
        $"127.0.0.1:{Port}{(Password is null ? "" : ",password=" + Password)},ssl=False,connectTimeout=1000,syncTimeout=2000{extra}";

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(TestEnvironment.RedisServerBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] listen = _tls is null
            ? ["--port", port]
            : ["--port", "0", "--tls-port", port, "--tls-cert-file", _tls.CertificatePath, "--tls-key-file", _tls.KeyPath,
               "--tls-ca-cert-file", _tls.AuthorityPath, "--tls-auth-clients", "no"];
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory }.Concat(listen))
        {
            start.ArgumentList.Add(arg);
        }
        if (Password is not null)
        {
            start.ArgumentList.Add("--requirepass");
            start.ArgumentList.Add(Password);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on {Port}.");
    }

    /// <summary>Kills the server outright (SIGKILL): clients see their connections drop.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
