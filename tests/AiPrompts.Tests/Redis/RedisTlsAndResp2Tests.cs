using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AiPrompts.Core.Redis;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiPrompts.Tests.Redis;

public sealed class RedisTlsAndResp2Tests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Over_TLS_the_client_talks_to_a_server_whose_certificate_chains_to_the_configured_CA_and_refuses_otherwise()
    {
        var folder = Directory.CreateTempSubdirectory("aiprompts-tls-").FullName;
        var tls = MakeCertificates(folder);
        await using var server = new RedisServerProcess(password: "tls-secret", tls: tls);
        await server.StartAsync();

        var options = RedisOptions.Parse($"127.0.0.1:{server.Port},password=tls-secret,ssl=True,connectTimeout=2000") with
        {
            CertificateAuthority = RedisOptions.LoadCertificateAuthority(tls.AuthorityPath),
        };
        await using (var trusted = new RedisClient(options, NullLogger<RedisClient>.Instance))
        {
            await trusted.SetAsync("over-tls", "encrypted", null, Ct);
            Assert.Equal("encrypted", await trusted.GetStringAsync("over-tls", Ct));
        }

        // Without the CA the server's certificate is not trusted: no connection, a clear error.
        await using var untrusted = new RedisClient(options with { CertificateAuthority = null }, NullLogger<RedisClient>.Instance);
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => untrusted.PingAsync(Ct));
        Assert.DoesNotContain("tls-secret", error.ToString(), StringComparison.Ordinal);

        // And a plain-text client cannot talk to the TLS port.
        await using var plain = new RedisClient(options with { Ssl = false }, NullLogger<RedisClient>.Instance);
        await Assert.ThrowsAnyAsync<RedisException>(() => plain.PingAsync(Ct));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task With_a_server_that_has_no_HELLO_the_client_falls_back_to_RESP2_with_AUTH_and_SELECT()
    {
        await using var fake = new Resp2OnlyServer("old-secret");
        await using var redis = new RedisClient(
            RedisOptions.Parse($"127.0.0.1:{fake.Port},password=old-secret,defaultDatabase=2"), NullLogger<RedisClient>.Instance);

        await redis.PingAsync(Ct);
        Assert.Equal("from-resp2", await redis.GetStringAsync("anything", Ct));

        Assert.Equal(["HELLO 3 AUTH default old-secret", "AUTH old-secret", "SELECT 2", "PING", "GET anything"], fake.Commands);
    }

    /// <summary>A peer that speaks only RESP2, as Redis before version 6 does: HELLO is an unknown command.</summary>
    private sealed class Resp2OnlyServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly string _password;

        public Resp2OnlyServer(string password)
        {
            _password = password;
            _listener.Start();
            _ = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public List<string> Commands { get; } = [];

        private async Task ServeAsync()
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            var reader = new RespReader(stream);
            while (!_stop.IsCancellationRequested)
            {
                RedisReply command;
                try
                {
                    command = await reader.ReadAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                var words = command.Items.Select(i => i.AsString()!).ToArray();
                lock (Commands)
                {
                    Commands.Add(string.Join(' ', words));
                }
                var answer = words[0] switch
                {
                    "HELLO" => "-ERR unknown command 'HELLO'\r\n",
                    "AUTH" => words.Length == 2 && words[1] == _password ? "+OK\r\n" : "-ERR invalid password\r\n",
                    "SELECT" => "+OK\r\n",
                    "PING" => "+PONG\r\n",
                    "GET" => "$10\r\nfrom-resp2\r\n",
                    _ => "-ERR unexpected\r\n",
                };
                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
            }
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A CA and a server certificate for 127.0.0.1 and localhost that it signed, written as PEM files.</summary>
    private static TlsFiles MakeCertificates(string folder)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=AiPrompts Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCertificate = serverRequest.Create(ca, now.AddHours(-1), now.AddHours(12), RandomNumberGenerator.GetBytes(8));

        var files = new TlsFiles(Path.Combine(folder, "server.crt"), Path.Combine(folder, "server.key"), Path.Combine(folder, "ca.crt"));
        File.WriteAllText(files.CertificatePath, serverCertificate.ExportCertificatePem());
        File.WriteAllText(files.KeyPath, serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(files.AuthorityPath, ca.ExportCertificatePem());
        return files;
    }
}
