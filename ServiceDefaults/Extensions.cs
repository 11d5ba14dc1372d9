using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The Aspire service defaults: OpenTelemetry (collected and exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set),
/// health checks with /health and /alive, and service discovery with the standard resilience handler for
/// ordinary HttpClients. Npgsql, EF Core and Redis telemetry and checks come from their Aspire integrations.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    /// <summary>This product's activity sources and meters, and Microsoft.Extensions.AI's.</summary>
    public static IReadOnlyList<string> ProductSources { get; } = ["AiPrompts.*", "Experimental.Microsoft.Extensions.AI"];

    /// <summary>Where secrets mounted as files are read from (compose secrets, a Kubernetes Secret volume).</summary>
    public const string SecretsDirectorySetting = "SecretsDirectory";
    public const string DefaultSecretsDirectory = "/run/secrets";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddSecretFiles();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // A POST is never replayed by the transport: the job engine decides what a failed call means.
            http.AddStandardResilienceHandler(options => options.Retry.DisableForUnsafeHttpMethods());
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>
    /// Settings from files, one per file, named as the environment variable would be (<c>Keys__MasterKey</c> is
    /// <c>Keys:MasterKey</c>), in <c>SecretsDirectory</c> (default <c>/run/secrets</c>; absent is fine). They win over
    /// the environment, so a secret never has to be an environment variable.
    /// </summary>
    public static TBuilder AddSecretFiles<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var directory = builder.Configuration[SecretsDirectorySetting] ?? DefaultSecretsDirectory;
        builder.Configuration.AddKeyPerFile(directory, optional: true, reloadOnChange: false);
        return builder;
    }

    /// <summary>
    /// Whether telemetry goes anywhere: only then is it collected. Collection with no exporter costs every
    /// request a span and every metric a measurement for nothing (measured: docs/benchmarks.md).
    /// </summary>
    public static bool ExportsTelemetry(this IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!builder.ExportsTelemetry())
        {
            return builder;
        }
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([.. ProductSources]))
            .WithTracing(tracing => tracing
                .AddSource([builder.Environment.ApplicationName, .. ProductSources])
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    aspNetCore.Filter = context => !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// /health: every check (readiness: the process and its dependencies); /alive: only the checks tagged
    /// "live" (the process itself). Both are public and answer JSON with each check's status.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteHealthAsync }).AllowAnonymous().ExcludeFromDescription();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
            ResponseWriter = WriteHealthAsync,
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Writes a health report as JSON; descriptions are fixed texts, never exception messages (which may name hosts or users).</summary>
    public static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new HealthResponse(
            report.Status.ToString(),
            Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            report.Entries.ToDictionary(
                e => e.Key,
                e => new HealthEntry(
                    e.Value.Status.ToString(),
                    e.Value.Exception is null ? e.Value.Description : "The check failed.",
                    Math.Round(e.Value.Duration.TotalMilliseconds, 1))));
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, HealthJson));
    }

    private static readonly JsonSerializerOptions HealthJson = new(JsonSerializerDefaults.Web);

    public sealed record HealthResponse(string Status, double TotalDurationMs, IReadOnlyDictionary<string, HealthEntry> Checks);

    public sealed record HealthEntry(string Status, string? Description, double DurationMs);
}
