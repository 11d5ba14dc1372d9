using AiPrompts.Core.Audit;
using AiPrompts.Core.Data;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Keys;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Vendors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AiPrompts.Core;

public static class CoreServiceExtensions
{
    public const string PostgresConnectionName = "promptsdb";
    public const string RedisConnectionName = "redis";
    public const string ReadyTag = "ready";

    /// <summary>
    /// Postgres (one NpgsqlDataSource shared by raw SQL and a pooled DbContext), Redis, time, the message
    /// catalogue, audit and the readiness checks for both servers, through Aspire's client integrations.
    /// Reads exactly what Aspire's WithReference injects: ConnectionStrings:promptsdb and ConnectionStrings:redis.
    /// </summary>
    public static IHostApplicationBuilder AddCoreServices(this IHostApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString(PostgresConnectionName) ?? "";
        // The integrations' traces and metrics are collected only when they are exported (ServiceDefaults).
        var telemetry = ExportsTelemetry(builder.Configuration);
        builder.AddNpgsqlDataSource(PostgresConnectionName, settings =>
        {
            settings.DisableTracing = !telemetry;
            settings.DisableMetrics = !telemetry;
        }, dataSource =>
        {
            // The same few statements run all day (auth, submit, claim, heartbeat): prepare them once per
            // connection instead of planning them on every call, unless the connection string says otherwise.
            if (!postgres.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
                dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            }
            // Nothing here leaves session state behind (no SET, LISTEN, temporary tables; the migrator releases its
            // advisory lock itself), so a connection going back to the pool is not reset: the reset costs Postgres
            // seven statements on every checkout (each submit, each job completion, an idle Worker's every poll).
            if (!postgres.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase))
            {
                dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            }
            // A command is traced only as part of a span (a request, a job run): the Worker's claim poll and
            // heartbeat would otherwise fill the dashboard with a root trace a second.
            dataSource.ConfigureTracing(tracing => tracing.ConfigureCommandFilter(_ => Activity.Current is not null));
        });
        builder.Services.AddDbContextPool<AppDbContext>((sp, options) => options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        // EF's traces and metrics. The data source's check stands for Postgres, and the job engine owns
        // retries (an execution strategy would also refuse the explicit transactions used here).
        builder.EnrichNpgsqlDbContext<AppDbContext>(settings =>
        {
            settings.DisableRetry = true;
            settings.DisableHealthChecks = true;
            settings.DisableTracing = !telemetry;
            settings.DisableMetrics = !telemetry;
        });
        builder.AddProductRedis(RedisConnectionName);
        builder.Services.NameDependencyHealthChecks(ReadyTag);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MessageCatalog>();
        services.AddSingleton<TextCatalog>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddScoped<AuditWriter>();

        // Vendor keys: fail at start-up, not at the first call, when the master key is missing or malformed.
        var masterKeys = MasterKeyRing.FromConfiguration(builder.Configuration, builder.Environment);
        services.AddSingleton(masterKeys);
        services.AddSingleton<KeyVault>();
        services.AddSingleton<CataloguePopulator>();
        services.AddScoped<AiAccess>();
        services.AddOptions<VendorOptions>().BindConfiguration(VendorOptions.Section)
            .Validate(o => o.Timeout > TimeSpan.Zero && o.StreamIdleTimeout > TimeSpan.Zero && o.LocalLatency >= TimeSpan.Zero,
                "Vendors:Timeout and StreamIdleTimeout are positive time spans, LocalLatency zero or more.")
            .ValidateOnStart();
        services.AddSingleton<VendorClientFactory>();
        services.AddSingleton<VendorClientPool>();
        services.AddTransient<VendorCallHandler>();

        // Background work: the queue (both hosts), prompt requests' types, events and retention.
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section)
            .Validate(o => o.Concurrency >= 1 && o.ClaimBatchSize >= 1 && o.MaxAttempts >= 1, "Jobs:Concurrency, ClaimBatchSize and MaxAttempts are at least 1.")
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.LeaseDuration > o.HeartbeatInterval,
                "Jobs:HeartbeatInterval is positive and LeaseDuration longer than it (a lease outlives several heartbeats).")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.IdlePollInterval > TimeSpan.Zero && o.RetryBaseDelay >= TimeSpan.Zero
                && o.RetryMaxDelay >= o.RetryBaseDelay && o.ShutdownGrace >= TimeSpan.Zero,
                "Jobs:PollInterval and IdlePollInterval are positive, RetryMaxDelay at least RetryBaseDelay, ShutdownGrace zero or more.")
            .ValidateOnStart();
        services.AddOptions<PromptRequestOptions>().BindConfiguration(PromptRequestOptions.Section)
            .Validate(o => o.ResultTtl > TimeSpan.Zero && o.MaxWait >= TimeSpan.Zero && o.DeltaInterval >= TimeSpan.Zero,
                "PromptRequests:ResultTtl is positive, MaxWait and DeltaInterval zero or more.")
            .Validate(o => o.MaxPromptLength >= 1 && o.MaxMetadataBytes >= 2 && o.MaxAttempts >= 1,
                "PromptRequests:MaxPromptLength and MaxAttempts are at least 1, MaxMetadataBytes at least 2.")
            .ValidateOnStart();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobScheduler>();
        // Every kind of job, known to both hosts: the Worker runs them, and a cancellation anywhere applies their final writes.
        services.AddSingleton<IJobHandler, PromptRequestHandler>();
        services.AddSingleton<IJobHandler, Assistants.AssistantRunHandler>();
        services.AddSingleton<IJobHandler, ImageGenerationHandler>();
        services.AddSingleton<IJobHandler, PromptRefineHandler>();
        services.AddSingleton<IJobHandler, ChatReplyHandler>();
        services.AddSingleton<IJobHandler, Gateway.BackgroundResponseHandler>();
        services.AddSingleton<JobCancellation>();
        services.AddScoped<Assistants.ThreadStore>();
        services.AddOptions<BudgetOptions>().BindConfiguration(BudgetOptions.Section)
            .Validate(o => o.DefaultOutputTokens >= 0 && o.ReservationTimeout >= TimeSpan.FromSeconds(10) && o.SweepInterval >= TimeSpan.FromSeconds(1),
                "Budgets:DefaultOutputTokens is 0 or more, ReservationTimeout at least 10 seconds and SweepInterval at least a second.")
            .ValidateOnStart();
        services.AddSingleton<ChargeEstimator>();
        services.AddSingleton<BudgetReservations>();
        services.AddOptions<Gateway.GatewayOptions>().BindConfiguration(Gateway.GatewayOptions.Section)
            .Validate(o => o.SweepInterval >= TimeSpan.FromSeconds(1) && o.AbandonedAfter >= TimeSpan.FromSeconds(10),
                "Gateway:SweepInterval is at least a second and AbandonedAfter at least 10 seconds.")
            .Validate(o => o.StreamKeptFor >= TimeSpan.FromSeconds(10) && o.BackgroundAttempts >= 1,
                "Gateway:StreamKeptFor is at least 10 seconds and BackgroundAttempts at least 1.")
            .ValidateOnStart();
        services.AddSingleton<Gateway.GatewayCalls>();
        services.AddSingleton<Gateway.ResponseEventLog>();
        services.AddOptions<UsageRetentionOptions>().BindConfiguration(UsageRetentionOptions.Section)
            .Validate(o => o.RawRetention is null || o.RawRetention > TimeSpan.Zero, "Usage:RawRetention is a positive time span, or empty to keep raw rows.")
            .Validate(o => o.RollupRetention is null || o.RollupRetention > TimeSpan.Zero, "Usage:RollupRetention is a positive time span, or empty to keep rollups.")
            .Validate(o => o.SweepInterval >= TimeSpan.FromSeconds(1) && o.SweepBatchSize >= 1, "Usage:SweepInterval is at least a second and SweepBatchSize at least 1.")
            .ValidateOnStart();
        services.AddSingleton<UsageRetention>();
        services.AddSingleton(new PromptTypes(builder.Configuration)); // fails start-up on a bad prompt type
        services.AddSingleton<JobEvents>();
        services.AddSingleton<RetainedTexts>();
        services.AddOptions<MediaOptions>().BindConfiguration(MediaOptions.Section)
            .Validate(o => o.MaxBytes >= 1 && o.MaxDimension >= 1 && o.MaxPixels >= 1, "Media:MaxBytes, MaxDimension and MaxPixels are at least 1.")
            .Validate(o => o.UnstoredRetention > TimeSpan.Zero && o.LinkLifetime > TimeSpan.Zero && o.SweepInterval >= TimeSpan.FromSeconds(1),
                "Media:UnstoredRetention and LinkLifetime are positive, SweepInterval at least a second.")
            .Validate(o => o.Store is MediaStorage.Postgres or MediaStorage.S3, $"Media:Store is {MediaStorage.Postgres} or {MediaStorage.S3}.")
            .Validate(o => o.PublicBaseUrl is null || Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out _), "Media:PublicBaseUrl is an absolute URL.")
            .ValidateOnStart();
        services.AddOptions<RefineOptions>().BindConfiguration(RefineOptions.Section)
            .Validate(o => o.ImageIntents.Count > 0 && !string.IsNullOrWhiteSpace(o.Fallback) && !o.ImageIntents.ContainsKey(o.Fallback) && o.MaxKeywords is >= 1 and <= 50,
                "Studio:Refine needs at least one image intent, a fallback intent that is not one of them, and MaxKeywords from 1 to 50.")
            .ValidateOnStart();
        services.AddScoped<PostgresMediaStore>();
        if (builder.Configuration.GetValue<string>($"{MediaOptions.Section}:Store") is MediaStorage.S3)
        {
            var s3 = builder.Configuration.GetSection($"{MediaOptions.Section}:S3").Get<MediaOptions.S3Options>() ?? new();
            if (string.IsNullOrWhiteSpace(s3.Bucket))
            {
                throw new InvalidOperationException("Media:Store is s3, and Media:S3:Bucket is not set.");
            }
            services.AddSingleton(S3MediaStore.CreateClient(s3));
            services.AddScoped<IMediaStore, S3MediaStore>();
        }
        else
        {
            services.AddScoped<IMediaStore>(sp => sp.GetRequiredService<PostgresMediaStore>());
        }
        services.AddScoped<MediaLibrary>();
        var allowPrivate = builder.Configuration.GetValue<bool>(BaseUrlPolicy.AllowPrivateSetting);
        services.AddHttpClient(VendorClientFactory.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan) // TimeoutChatClient owns vendor timeouts
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Clear()) // and the job engine owns retries
            .AddHttpMessageHandler<VendorCallHandler>()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectCallback = (context, cancellationToken) => ConnectAsync(context, allowPrivate, cancellationToken),
            });

        return builder;
    }

    /// <summary>Connects only to addresses that <see cref="BaseUrlPolicy"/> allows, checked after DNS resolution (no rebinding).</summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (!allowPrivate)
        {
            addresses = [.. addresses.Where(a => !BaseUrlPolicy.IsInternal(a))];
            if (addresses.Length == 0)
            {
                throw new HttpRequestException($"Vendor host {host} resolves only to internal addresses, which are not allowed ({BaseUrlPolicy.AllowPrivateSetting}).");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The rule of ServiceDefaults' ExportsTelemetry: telemetry is collected only when OTLP export is configured.</summary>
    internal static bool ExportsTelemetry(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
}
