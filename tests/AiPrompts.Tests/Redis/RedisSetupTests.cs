using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AiPrompts.Core.Caching;
using AiPrompts.Tests.Infrastructure;
using StackExchange.Redis;

namespace AiPrompts.Tests.Redis;

/// <summary>How the product uses StackExchange.Redis (<see cref="RedisRegistration"/>), against real servers.</summary>
public sealed class RedisSetupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Prefix() => $"setup-{Guid.NewGuid():N}:";

    [Fact]
    public async Task Keys_and_channels_carry_the_installations_prefix_so_installations_sharing_one_Redis_never_meet()
    {
        var prefixA = Prefix();
        await using var a = RedisHost.Create(TestEnvironment.Redis, prefixA);
        await using var b = RedisHost.Create(TestEnvironment.Redis, Prefix());

        await a.Database.StringSetAsync("k", "from a");
        Assert.Equal("from a", (string?)await a.Database.StringGetAsync("k"));
        Assert.True((await b.Database.StringGetAsync("k")).IsNull);
        Assert.Equal("from a", (string?)await a.Multiplexer.GetDatabase().StringGetAsync(prefixA + "k")); // the raw name

        var heardByA = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var heardByB = 0;
        await a.Subscriber.SubscribeAsync(RedisChannel.Literal("ch"), (_, m) => heardByA.TrySetResult((string)m!));
        await b.Subscriber.SubscribeAsync(RedisChannel.Literal("ch"), (_, _) => Interlocked.Increment(ref heardByB));

        // A script that publishes to a key name (as the stream deltas do) reaches the same installation's subscribers only.
        var receivers = (long)await a.Database.ScriptEvaluateAsync("return redis.call('PUBLISH', KEYS[1], ARGV[1])", ["ch"], ["via script"]);
        Assert.Equal(1, receivers);
        Assert.Equal("via script", await heardByA.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(1, await a.Subscriber.PublishAsync(RedisChannel.Literal("ch"), "direct"));
        Assert.Equal(0, Volatile.Read(ref heardByB));
    }

    [Fact]
    public async Task While_Redis_is_down_commands_fail_at_once_and_caches_are_off_and_after_a_restart_all_of_it_comes_back()
    {
        await using var server = new RedisServerProcess(password: "restart-secret");
        await server.StartAsync();
        var prefix = Prefix();
        await using var instance = RedisHost.Create(server.ConnectionString(), prefix);
        await using var peer = RedisHost.Create(server.ConnectionString(), prefix);
        var cache = new CoherentCache<string>(instance.Bus, "thing", TimeSpan.FromMinutes(5), 100, TimeProvider.System);
        await instance.Bus.StartAsync(Ct);
        await peer.Bus.StartAsync(Ct);
        await instance.Bus.WaitUntilLiveAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        cache.Store("k", "before the outage", cache.BeginLoad());
        Assert.True(cache.TryGet("k", out _));

        await server.KillAsync();

        // Not the multiplexer's 5-second backlog: a command fails straight away with a connection error...
        await WaitUntil(() => !instance.Multiplexer.IsConnected);
        await Assert.ThrowsAsync<RedisConnectionException>(() => instance.Database.StringGetAsync("k"));
        // ...and nothing cached is trusted, since an invalidation may be missed.
        await WaitUntil(() => instance.Bus.Live is null);
        Assert.False(cache.TryGet("k", out _));
        Assert.False(await peer.Bus.PublishAsync("thing", "k", Ct)); // reported, not thrown

        await server.StartAsync();

        // The subscription comes back by itself; entries from before the outage stay dropped.
        await instance.Bus.WaitUntilLiveAsync(Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        await peer.Bus.WaitUntilLiveAsync(Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.False(cache.TryGet("k", out _));
        await instance.Database.StringSetAsync("after", "2");
        Assert.Equal("2", (string?)await instance.Database.StringGetAsync("after"));
        cache.Store("k", "after the outage", cache.BeginLoad());
        Assert.True(await peer.Bus.PublishAsync("thing", "k", Ct)); // the restored instance hears and confirms
        Assert.False(cache.TryGet("k", out _));
    }

    [Fact]
    public async Task Over_TLS_the_server_certificate_must_chain_to_the_configured_CA()
    {
        var folder = Directory.CreateTempSubdirectory("aiprompts-tls-").FullName;
        var tls = MakeCertificates(folder);
        await using var server = new RedisServerProcess(password: "tls-secret", tls: tls);
        await server.StartAsync();
        var connection = $"127.0.0.1:{server.Port},password=tls-secret,ssl=True,connectTimeout=2000";

        await using (var trusted = RedisHost.Create(connection, Prefix(), new Dictionary<string, string?> { [RedisRegistration.CaCertificateSetting] = tls.AuthorityPath }))
        {
            await trusted.Database.StringSetAsync("over-tls", "encrypted");
            Assert.Equal("encrypted", (string?)await trusted.Database.StringGetAsync("over-tls"));
        }

        // Without the CA the server's certificate is not trusted: no connection, and no password in the error.
        await using var untrusted = RedisHost.Create(connection, Prefix());
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => untrusted.Database.StringGetAsync("over-tls"));
        Assert.DoesNotContain("tls-secret", error.ToString(), StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25, Ct);
        }
        Assert.True(condition());
    }

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
