using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The real Api, in process, against a database of its own and the test Redis. Postgres and Redis are
/// reached through proxies, so a test can take either away while the Api runs.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "root@aiprompts.test";
    public const string AdminPassword = "correct horse battery staple";
    public const string SigningKey = "test-signing-key-0123456789abcdef-0123456789abcdef";

    /// <summary>The master key of vendor-key encryption in tests (32 bytes, base64).</summary>
    public static readonly string MasterKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private TestDatabase? _database;
    private readonly ConfigurationOptions _redis = ConfigurationOptions.Parse(TestEnvironment.Redis);

    public TestDatabase Database => _database ?? throw new InvalidOperationException("Not initialised.");
    public TcpProxy PostgresProxy { get; private set; } = null!;
    public TcpProxy RedisProxy { get; private set; } = null!;

    /// <summary>The superuser connection of the Postgres server this Api's database is made on: the tests' shared one, unless a factory brings its own.</summary>
    protected virtual Task<string> PostgresAdminAsync() => Task.FromResult(TestEnvironment.PostgresAdmin);

    /// <summary>Extra settings a test class needs (e.g. a small login limit).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>The settings this Api runs with, so a Worker process can be given the same.</summary>
    public IReadOnlyDictionary<string, string?> SharedSettings => Settings;

    /// <summary>This Api's Redis key prefix: a Worker must use the same one to hear its channels.</summary>
    public string RedisKeyPrefix { get; } = $"test-{Guid.NewGuid():N}:";

    /// <summary>The Redis connection string through <see cref="RedisProxy"/>, so tests can cut Redis.</summary>
    public string RedisViaProxy => $"127.0.0.1:{RedisProxy.Port},password={_redis.Password},ssl=False,connectTimeout=1000,syncTimeout=2000";

    public virtual async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(await PostgresAdminAsync());
        var pg = new Npgsql.NpgsqlConnectionStringBuilder(_database.ConnectionString);
        PostgresProxy = new TcpProxy(pg.Host!, pg.Port);
        var redisEndpoint = (System.Net.IPEndPoint)_redis.EndPoints.Single();
        RedisProxy = new TcpProxy(redisEndpoint.Address.ToString(), redisEndpoint.Port);
        StartServer(); // start the host (TestServer, or Kestrel where a factory asks for it): migrations and the bootstrap admin run now
    }

    /// <summary>
    /// The test server has no client address; each factory gets one of its own, so the per-address login
    /// limit of one test class never counts another's attempts.
    /// </summary>
    public IPAddress ClientAddress { get; } = new([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255)]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ClientAddressFilter(ClientAddress)));
        UseSameSettings(builder);
    }

    /// <summary>This Api's settings (database, Redis and its prefix, keys, extras), for another Api instance beside it.</summary>
    public void UseSameSettings(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in HostSettings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>The configuration every host of this test class runs with: an Api instance, or a Worker host in the test's process.</summary>
    public IReadOnlyDictionary<string, string?> HostSettings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:promptsdb"] = Database.Via(PostgresProxy.Port),
        ["ConnectionStrings:redis"] = RedisViaProxy,
        ["Redis:KeyPrefix"] = RedisKeyPrefix,
        ["Auth:Jwt:SigningKey"] = SigningKey,
        ["Bootstrap:SuperAdmin:Email"] = AdminEmail,
        ["Bootstrap:SuperAdmin:Password"] = AdminPassword,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Keys:MasterKey"] = MasterKey,
        // Fake vendors listen on loopback; the SSRF tests switch this off again.
        ["Ai:AllowPrivateBaseUrls"] = "true",
        // Tests make many requests as one user: the request limits are counted, and high (RateLimitTests sets its own).
        ["RateLimits:UserPermitLimit"] = "1000000",
        ["RateLimits:ApiKeyPermitLimit"] = "1000000",
        ["RateLimits:UserTokenLimit"] = "2000000000",
        ["RateLimits:ApiKeyTokenLimit"] = "2000000000",
    }.Concat(Settings).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary>Waits until the Api's Redis check is healthy again (after a test cut the proxy).</summary>
    public async Task WaitForRedisAsync()
    {
        using var client = CreateClient();
        for (var i = 0; i < 100; i++)
        {
            using var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
            if (health.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString() == "Healthy")
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("Redis did not come back within 10 seconds.");
    }

    public HttpClient CreateClient(string? bearer, string? language = null)
    {
        var client = CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        if (language is not null)
        {
            client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        }
        return client;
    }

    public async Task<string> LoginAsync(string email, string password)
    {
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { email, password });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("data").GetProperty("accessToken").GetString()!;
    }

    private string? _adminToken;

    /// <summary>The bootstrap super admin's token, signed in once per factory.</summary>
    public async Task<string> AdminTokenAsync() => _adminToken ??= await LoginAsync(AdminEmail, AdminPassword);

    /// <summary>Creates a user through the API as the super admin and signs them in.</summary>
    public async Task<TestUser> CreateUserAsync(string role, string? email = null)
    {
        email ??= $"{role}-{Guid.NewGuid():N}@aiprompts.test";
        const string password = "a long enough password";
        using var admin = CreateClient(await AdminTokenAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/users", new { email, password, displayName = $"Test {role}", role });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("data").GetProperty("id").GetGuid();
        return new TestUser(id, email, password, await LoginAsync(email, password));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await PostgresProxy.DisposeAsync();
        await RedisProxy.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}

internal sealed class ClientAddressFilter(IPAddress address) : IStartupFilter
{
    public const string TestClientAddressHeader = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            // A test may speak for another client address (the login limits are per address).
            context.Connection.RemoteIpAddress = context.Request.Headers.TryGetValue(TestClientAddressHeader, out var given) && IPAddress.TryParse(given, out var other)
                ? other
                : context.Connection.RemoteIpAddress ?? address;
            return nextMiddleware(context);
        });
        next(app);
    };
}

public sealed record TestUser(Guid Id, string Email, string Password, string Token);
