using AiPrompts.Api.Errors;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AiPrompts.Api.Docs;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and the Scalar reference at /scalar. Scalar's browser bundle
/// comes from the npm package @scalar/api-reference, copied into wwwroot/scalar by the build, so the
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

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapGet("/scalar", () => TypedResults.Content(ScalarPage, "text/html; charset=utf-8"))
            .AllowAnonymous()
            .ExcludeFromDescription();
        app.MapGet("/scalar/standalone.js", GetScalarBundle)
            .AllowAnonymous()
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The bundle beside the assembly (build and publish output), else in the project's node_modules.</summary>
    internal static Results<PhysicalFileHttpResult, ProblemHttpResult> GetScalarBundle(IWebHostEnvironment environment, HttpContext http)
    {
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "scalar", "standalone.js"),
            Path.Combine(environment.ContentRootPath, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js"),
        ];
        var path = candidates.FirstOrDefault(File.Exists);
        if (path is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound, detail: "The Scalar bundle is not installed: build the Api project (it runs npm ci).");
        }
        http.Response.Headers.CacheControl = "public, max-age=3600";
        return TypedResults.PhysicalFile(path, "text/javascript; charset=utf-8", enableRangeProcessing: false);
    }

    private const string ScalarPage = """
        <!doctype html>
        <html lang="en">
          <head>
            <title>AiPrompts API reference</title>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
          </head>
          <body>
            <div id="app"></div>
            <script src="/scalar/standalone.js"></script>
            <script>
              Scalar.createApiReference('#app', {
                url: '/openapi/v1.json',
                withDefaultFonts: false,
                showDeveloperTools: 'never',
                telemetry: false,
                persistAuth: true,
              })
            </script>
          </body>
        </html>
        """;
}
