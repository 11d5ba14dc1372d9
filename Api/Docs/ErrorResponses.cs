using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace AiPrompts.Api.Docs;

/// <summary>
/// Makes the document tell the truth about failures: every error an operation can answer is declared, and
/// each one is the one problem shape this API sends (<c>Problem</c>: code, message, userMessage,
/// recoveryAction, traceId, and <c>errors</c> for validation). What every request can meet comes from the
/// edge (input rule 400, 414, 415, 431); 401 and 403 from being signed in; 404 from a path parameter; 413
/// from a body; what an endpoint adds itself it declares with <c>ProducesProblem</c>. The fuzzer
/// (tests/…/Fuzzing) fails on any status or body the document does not declare.
/// </summary>
internal static class ErrorResponses
{
    public const string SchemaName = "Problem";

    /// <summary>The Assistants surface's errors, as the OpenAI SDKs read them.</summary>
    public const string OpenAISchemaName = "OpenAIError";

    public static void AddProblemSchema(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        static OpenApiSchema Text(string description, bool nullable = false) => new()
        {
            Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String,
            Description = description,
        };
        document.Components.Schemas[SchemaName] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "Every error: RFC 9457 problem details with this API's stable code and texts in the caller's language (Accept-Language).",
            Required = new HashSet<string> { "status", "title", "code", "message", "userMessage", "recoveryAction", "traceId" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = Text("A URI for the kind of problem.", nullable: true),
                ["title"] = Text("The HTTP reason phrase."),
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The HTTP status." },
                ["detail"] = Text("More about this occurrence, when there is more to say.", nullable: true),
                ["instance"] = Text("The request this occurrence concerns.", nullable: true),
                ["code"] = Text("The stable, machine-readable error code (e.g. validation_failed)."),
                ["message"] = Text("What went wrong, for the developer."),
                ["userMessage"] = Text("What went wrong, for the person using the app."),
                ["recoveryAction"] = Text("What to do about it."),
                ["traceId"] = Text("The W3C trace id of the request, for support."),
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "For validation_failed: the messages of each invalid field, by field name.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
                ["usableModels"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "When a provider or model cannot be used: the provider/model pairs the caller can use.",
                    Items = new OpenApiSchema { Type = JsonSchemaType.String },
                },
            },
        };
    }

    public static void AddOpenAIErrorSchema(OpenApiDocument document)
    {
        static OpenApiSchema Text(string description, bool nullable = false) => new()
        {
            Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String,
            Description = description,
        };
        document.Components!.Schemas![OpenAISchemaName] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "Every error of the Assistants surface (/api/v1/assistants, /threads, /chat), in OpenAI's shape, with this API's texts inside.",
            Required = new HashSet<string> { "error" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["error"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "message", "type", "code" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["message"] = Text("What went wrong (the detail when there is one)."),
                        ["type"] = Text("OpenAI's error type: invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error."),
                        ["param"] = Text("The first invalid field, for a validation error.", nullable: true),
                        ["code"] = Text("The stable, machine-readable error code (e.g. thread_run_active)."),
                        ["userMessage"] = Text("What went wrong, for the person using the app, in their language.", nullable: true),
                        ["recoveryAction"] = Text("What to do about it.", nullable: true),
                        ["traceId"] = Text("The W3C trace id of the request, for support.", nullable: true),
                        ["errors"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object | JsonSchemaType.Null,
                            Description = "For validation_failed: the messages of each invalid field.",
                            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                        },
                    },
                },
            },
        };
    }

    public static void Declare(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var statuses = new SortedSet<int> { 400, 414, 415, 431, 503 }; // 503: any request may find the database unreachable
        if (!metadata.OfType<IAllowAnonymous>().Any())
        {
            statuses.UnionWith([401, 403, 429]); // 429: the rate limits count every signed-in request; budgets refuse new model work
        }
        if (description.ParameterDescriptions.Any(p => p.Source.Id == "Path"))
        {
            statuses.Add(404);
        }
        if (description.ParameterDescriptions.Any(p => p.Source.Id is "Body" or "Form") || metadata.OfType<IAcceptsMetadata>().Any())
        {
            statuses.Add(413);
        }
        statuses.UnionWith(metadata.OfType<IProducesResponseTypeMetadata>().Select(p => p.StatusCode).Where(s => s >= 400));

        operation.Responses ??= [];
        var openAI = Errors.OpenAIErrorWriter.Covers("/" + description.RelativePath);
        var problem = new OpenApiSchemaReference(openAI ? OpenAISchemaName : SchemaName, context.Document);
        var mediaType = openAI ? "application/json" : "application/problem+json";
        foreach (var status in statuses)
        {
            var key = status.ToString(CultureInfo.InvariantCulture);
            operation.Responses[key] = new OpenApiResponse
            {
                Description = ReasonPhrases.GetReasonPhrase(status),
                Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = problem } },
            };
        }
    }
}
