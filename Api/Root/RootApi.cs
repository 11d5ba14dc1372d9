using System.Reflection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Root;

public sealed record ApiInfo(string Name, string Version, string Description, IReadOnlyDictionary<string, string> Links);

/// <summary>The Korean document's <c>GET /</c> (what this is, where the docs are) and <c>GET /api/v1/health</c>.</summary>
internal static class RootApi
{
    private static readonly string Version =
        typeof(RootApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapRootApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", GetInfo).AllowAnonymous().WithTags("Service").WithName("GetApiInfo").WithSummary("API name, version and links");
        app.MapHealthChecks("/api/v1/health", new HealthCheckOptions { ResponseWriter = ServiceDefaultsExtensions.WriteHealthAsync })
            .AllowAnonymous()
            .WithTags("Service")
            .WithName("GetHealth")
            .WithSummary("Health of the Api and its dependencies (Postgres, Redis)");
        return app;
    }

    internal static Ok<ApiInfo> GetInfo() => TypedResults.Ok(new ApiInfo(
        "AiPrompts",
        Version,
        "Managed, traceable access to AI models: prompts, versioned templates, vendors and keys, usage.",
        new Dictionary<string, string>
        {
            ["docs"] = "/scalar",
            ["openapi"] = "/openapi/v1.json",
            ["health"] = "/api/v1/health",
            ["token"] = "/api/v1/auth/token",
        }));
}
