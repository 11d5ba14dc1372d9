using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.AppHost;

/// <summary>
/// Postgres and Redis for Api and Worker, always as the connection strings <c>promptsdb</c> and <c>redis</c>,
/// from one of three places chosen by <c>AppHost:Infrastructure</c>:
/// <list type="bullet">
/// <item><c>containers</c> (default): Aspire's Postgres (with a data volume) and Redis containers, for a machine with Docker or Podman.</item>
/// <item><c>executables</c>: the machine's own PostgreSQL and redis-server, started by DCP as executable
/// resources (logs in the dashboard, data under <c>AppHost:DataDirectory</c>), for a machine without a container engine.</item>
/// <item><c>external</c>: <c>ConnectionStrings:promptsdb</c> and <c>ConnectionStrings:redis</c> from configuration, for servers someone else runs.</item>
/// </list>
/// </summary>
internal sealed record Infrastructure(
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IReadOnlyList<IResourceBuilder<IResource>> Servers)
{
    public const string ModeSetting = "AppHost:Infrastructure";
    public const string DataDirectorySetting = "AppHost:DataDirectory";
    /// <summary><c>containers</c> mode: another image than Aspire's public one (<c>registry/name:tag</c>), e.g. the stand-ins of deploy/images/build.sh.</summary>
    public const string PostgresImageSetting = "AppHost:PostgresImage";
    public const string RedisImageSetting = "AppHost:RedisImage";
    /// <summary><c>containers</c> mode: the name of Postgres's data volume (default: Aspire's, named after this AppHost).</summary>
    public const string PostgresVolumeSetting = "AppHost:PostgresVolume";
    private const string DatabaseName = "promptsdb";
    private const string RedisName = "redis";

    public static Infrastructure Add(IDistributedApplicationBuilder builder)
    {
        var mode = builder.Configuration[ModeSetting] ?? "containers";
        return mode.ToLowerInvariant() switch
        {
            "containers" => Containers(builder),
            "executables" => Executables(builder),
            "external" => new Infrastructure(builder.AddConnectionString(DatabaseName), builder.AddConnectionString(RedisName), []),
            _ => throw new InvalidOperationException($"{ModeSetting} is '{mode}'; it must be containers, executables or external."),
        };
    }

    private static Infrastructure Containers(IDistributedApplicationBuilder builder)
    {
        var postgres = builder.AddPostgres("postgres").WithDataVolume(builder.Configuration[PostgresVolumeSetting]).WithConfiguredImage(builder, PostgresImageSetting);
        var database = postgres.AddDatabase(DatabaseName);
        var redis = builder.AddRedis(RedisName).WithConfiguredImage(builder, RedisImageSetting);
        return new Infrastructure(database, redis, [database, redis]);
    }

    private static Infrastructure Executables(IDistributedApplicationBuilder builder)
    {
        var data = Path.GetFullPath(builder.Configuration[DataDirectorySetting] ?? Path.Combine(builder.AppHostDirectory, "..", ".local", "aspire"));
        var launchers = Path.Combine(builder.AppHostDirectory, "executables");
        var postgresPassword = builder.AddParameter("postgres-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
        var redisPassword = builder.AddParameter("redis-password", new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

        var postgres = builder.AddExecutable("postgres", "bash", launchers, "postgres.sh")
            .WithEnvironment("AIPROMPTS_DATA", data)
            .WithEnvironment("POSTGRES_PASSWORD", postgresPassword)
            .WithEndpoint(port: builder.Configuration.GetValue<int?>("AppHost:PostgresPort"), name: "tcp", scheme: "tcp", env: "PGPORT");
        var redis = builder.AddExecutable("redis-server", "bash", launchers, "redis.sh")
            .WithEnvironment("AIPROMPTS_DATA", data)
            .WithEnvironment("REDIS_PASSWORD", redisPassword)
            .WithEndpoint(port: builder.Configuration.GetValue<int?>("AppHost:RedisPort"), name: "tcp", scheme: "tcp", env: "REDIS_PORT");

        var pg = postgres.GetEndpoint("tcp");
        var database = builder.AddConnectionString(DatabaseName, ReferenceExpression.Create(
            $"Host={pg.Property(EndpointProperty.Host)};Port={pg.Property(EndpointProperty.Port)};Username=aiprompts;Password={postgresPassword};Database={DatabaseName}"));
        var rd = redis.GetEndpoint("tcp");
        var redisConnection = builder.AddConnectionString(RedisName, ReferenceExpression.Create(
            $"{rd.Property(EndpointProperty.Host)}:{rd.Property(EndpointProperty.Port)},password={redisPassword}"));

        // Running is not ready: the projects wait until each server answers (and the database exists).
        postgres.WithHealthCheck(AddReadinessCheck(builder, postgres, "postgres-ready", database.Resource, static (services, name, connection) =>
            services.AddHealthChecks().AddNpgSql(_ => connection(), name: name)));
        redis.WithHealthCheck(AddReadinessCheck(builder, redis, "redis-ready", redisConnection.Resource, static (services, name, connection) =>
            services.AddHealthChecks().AddRedis(_ => connection(), name: name)));
        return new Infrastructure(database, redisConnection, [postgres, redis]);
    }

    /// <summary>Registers a check of <paramref name="server"/> whose connection string is resolved just before it starts, when its endpoint is allocated.</summary>
    private static string AddReadinessCheck(
        IDistributedApplicationBuilder builder, IResourceBuilder<ExecutableResource> server, string name, IResourceWithConnectionString connection,
        Action<IServiceCollection, string, Func<string>> register)
    {
        string? value = null;
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server.Resource, async (_, cancellationToken) =>
            value = await connection.GetConnectionStringAsync(cancellationToken));
        register(builder.Services, name, () => value ?? throw new InvalidOperationException($"{server.Resource.Name} has not started yet."));
        return name;
    }
}

internal static class InfrastructureExtensions
{
    /// <summary>Uses the image a setting names (<c>registry/name:tag</c>) instead of the integration's own, when it is set.</summary>
    public static IResourceBuilder<T> WithConfiguredImage<T>(this IResourceBuilder<T> container, IDistributedApplicationBuilder builder, string setting)
        where T : ContainerResource
    {
        if (builder.Configuration[setting] is not { Length: > 0 } reference)
        {
            return container;
        }
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        var colon = reference.LastIndexOf(':');
        if (slash <= 0 || colon < slash)
        {
            throw new InvalidOperationException($"{setting} is '{reference}'; it must be registry/name:tag, e.g. localhost/aiprompts/postgres-standin:15.");
        }
        return container.WithImageRegistry(reference[..slash]).WithImage(reference[(slash + 1)..colon], reference[(colon + 1)..]);
    }

    /// <summary>Waits for each server of the chosen infrastructure to be healthy (none for external servers).</summary>
    public static IResourceBuilder<ProjectResource> WaitForInfrastructure(this IResourceBuilder<ProjectResource> project, Infrastructure infrastructure)
    {
        foreach (var server in infrastructure.Servers)
        {
            project.WaitFor(server);
        }
        return project;
    }
}
