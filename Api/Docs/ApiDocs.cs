using AiPrompts.Api.Errors;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace AiPrompts.Api.Docs;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and the Scalar reference at /scalar (Scalar.AspNetCore), so the
/// page works with no internet access.
/// </summary>
internal static class ApiDocs
{
    public static IServiceCollection AddApiDocs(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "AiPrompts API",
                    Version = "v1",
                    Description = "Managed, traceable access to AI models. Every error is application/problem+json with code, message, userMessage, recoveryAction and traceId.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT or API key (aip_...)",
                    Description = "A JWT from POST /api/v1/auth/token, or an API key.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (!metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference("Bearer", context.Document)] = [],
                    });
                }
                return Task.CompletedTask;
            });
        });

    /// <summary>
    /// The document and its reference page. Scalar's assets are embedded in its package; the page loads
    /// nothing from another host (no web fonts, no request proxy, no telemetry, agent or MCP).
    /// </summary>
    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/scalar", options => options
                .WithTitle("AiPrompts API reference")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .AddPreferredSecuritySchemes("Bearer")
                .EnablePersistentAuthentication()
                .WithProxy("")
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp()
                .HideDeveloperTools())
            .AllowAnonymous();
        return app;
    }
}
