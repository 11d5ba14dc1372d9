using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (a fresh cluster from the machine's initdb, on a free loopback port) that
/// the test can kill outright and start again, as a crash would: its data survives, and it recovers from its WAL.
/// As root the server runs as the <c>postgres</c> account that Debian's package makes, as scripts/test does.
/// </summary>
public sealed class PostgresServerProcess : IAsyncDisposable
{
    private const string Password = "test-only-password";

    private readonly string _directory;
    private readonly string _bin;
    private readonly bool _asRoot = Environment.UserName == "root";

    private PostgresServerProcess(string directory, string bin)
    {
        _directory = directory;
        _bin = bin;
        Port = Ports.FreeLoopbackPort();
    }

    public int Port { get; }

    /// <summary>The superuser's connection string (the maintenance database), for <see cref="TestDatabase"/>.</summary>
    public string AdminConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "aiprompts", Password = Password, Database = "postgres", Pooling = false,
    }.ConnectionString;

    private string DataDirectory => Path.Combine(_directory, "pgdata");

    /// <summary>Makes the cluster and starts the server.</summary>
    public static async Task<PostgresServerProcess> StartNewAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => int.Parse(Path.GetFileName(Path.GetDirectoryName(d)!), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault() ?? throw new InvalidOperationException("No PostgreSQL binaries in /usr/lib/postgresql (scripts/test installs them).");
        // /tmp: the postgres account may not reach the checkout (under /root, say).
        var directory = Directory.CreateTempSubdirectory("aiprompts-pg-test-").FullName;
        var server = new PostgresServerProcess(directory, bin);
        var passwordFile = Path.Combine(directory, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (server._asRoot)
        {
            await RunAsync("chown", ["-R", "postgres", directory]);
        }
        await server.RunPgAsync("initdb", ["-D", server.DataDirectory, "-U", "aiprompts", $"--pwfile={passwordFile}", "--auth-host=scram-sha-256", "--auth-local=trust",
            "--encoding=UTF8", "--locale=C.UTF-8"]);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts the server (again), waiting until it accepts connections: after a kill, crash recovery runs first.</summary>
    public async Task StartAsync()
    {
        var options = $"-c listen_addresses=127.0.0.1 -c port={Port} -c unix_socket_directories={_directory} -c fsync=off -c max_connections=200";
        for (var tries = 0; ; tries++)
        {
            try
            {
                // Started detached (-W): pg_ctl returns at once, the server lives on until it is killed.
                await RunPgAsync("pg_ctl", ["-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-o", options, "-W", "start"]);
                break;
            }
            catch (InvalidOperationException) when (tries < 20)
            {
                // The killed server's backends may still be exiting (their shared memory is still in use).
                await Task.Delay(250);
            }
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString);
                await connection.OpenAsync();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>SIGKILL to the server and every one of its processes, as a crash of the machine's Postgres would be.</summary>
    public async Task KillAsync()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse((await File.ReadAllLinesAsync(pidFile))[0], out var postmaster))
        {
            return;
        }
        var children = Directory.GetDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == postmaster).ToList();
        foreach (var pid in (int[])[postmaster, .. children])
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && IsListening())
        {
            await Task.Delay(50);
        }
    }

    private bool IsListening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    private Task RunPgAsync(string tool, IReadOnlyList<string> args) =>
        _asRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
