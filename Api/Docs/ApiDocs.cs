using AiPrompts.Api.Auth;
using Microsoft.AspNetCore.Authorization;
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
                // A JsonElement? property (metadata, audit before/after) comes out as oneOf [null, JsonElement], and
                // JsonElement is {} (any JSON value, null included), so a null matched both branches and oneOf refused
                // it. Any JSON value already allows null: point such properties at JsonElement alone.
                foreach (var component in document.Components?.Schemas?.Values ?? [])
                {
                    foreach (var (name, property) in (component.Properties ?? new Dictionary<string, IOpenApiSchema>()).ToList())
                    {
                        if (property is OpenApiSchema { OneOf: { Count: 2 } oneOf }
                            && oneOf.OfType<OpenApiSchemaReference>().FirstOrDefault(r => r.Reference.Id == "JsonElement") is { } any
                            && oneOf.Any(s => s is OpenApiSchema { Type: JsonSchemaType.Null }))
                        {
                            component.Properties![name] = any;
                        }
                    }
                }
                ErrorResponses.AddProblemSchema(document);
                ErrorResponses.AddOpenAIErrorSchema(document);
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT or API key (aip_...)",
                    Description = "A JWT from POST /api/v1/auth/token, or an API key (aip_...). A key is limited to the scopes chosen when it was made: "
                        + "prompts, templates:read, templates:write, admin; each operation says which one it needs.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (!metadata.OfType<IAllowAnonymous>().Any())
                {
                    // The API-key scope the operation needs (the innermost declaration), as the requirement's
                    // scope list (OpenAPI 3.1 allows role names there for non-OAuth schemes) and in words.
                    var scope = metadata.OfType<RequiredScope>().LastOrDefault()?.Scope;
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference("Bearer", context.Document)] = scope is null or RequiredScope.AnyKey ? [] : [scope],
                    });
                    var note = scope switch
                    {
                        null => "API keys cannot call this operation; sign in with a password.",
                        RequiredScope.AnyKey => "Any API key may call this operation.",
                        _ => $"An API key needs the scope `{scope}` (or `admin`).",
                    };
                    operation.Description = string.IsNullOrEmpty(operation.Description) ? note : $"{operation.Description}\n\n{note}";
                }
                ErrorResponses.Declare(operation, context);
                return Task.CompletedTask;
            });
        });

    /// <summary>
    /// The document and its reference page. Scalar's assets are embedded in its package; the page loads
    /// nothing from another host (no web fonts, no request proxy, no telemetry, agent or MCP).
    /// </summary>
    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        // The one document by its own path: another name is the API's usual 404 problem, not the library's plain text.
        app.MapOpenApi("/openapi/v1.json").AllowAnonymous();
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
