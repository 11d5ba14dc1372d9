using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Errors;

/// <summary>
/// Every error on the Assistants surface (<c>/api/v1/assistants</c>, <c>/threads</c>, <c>/chat</c>) and the OpenAI-compatible
/// surface (<c>/openai/v1</c>), whatever
/// produced it (validation, sign-in, a 404, the input rule, an exception), in the shape the OpenAI SDKs read:
/// <c>{"error": {"message", "type", "param", "code"}}</c>. It carries the same content as our problem
/// details (the stable code, userMessage and recoveryAction in the caller's language, field errors, traceId).
/// </summary>
internal sealed class OpenAIErrorWriter(IOptions<ProblemDetailsOptions> problemOptions, IOptions<JsonOptions> jsonOptions) : IProblemDetailsWriter
{
    private static readonly string[] Prefixes = ["/api/v1/assistants", "/api/v1/threads", "/api/v1/chat", "/openai/v1"];

    public static bool Covers(PathString path) => Prefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    public bool CanWrite(ProblemDetailsContext context) => Covers(context.HttpContext.Request.Path);

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        problemOptions.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var errors = (problem as HttpValidationProblemDetails)?.Errors;
        string? Text(string key) => problem.Extensions.TryGetValue(key, out var value) ? value as string : null;
        var error = new OpenAIError(
            Message: problem.Detail ?? Text("message") ?? problem.Title ?? "Error",
            Type: status switch
            {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "invalid_request_error",
                429 => "rate_limit_error",
                >= 500 => "server_error",
                _ => "invalid_request_error",
            },
            Param: errors?.Keys.FirstOrDefault(),
            Code: Text("code") ?? "error",
            UserMessage: Text("userMessage"),
            RecoveryAction: Text("recoveryAction"),
            Errors: errors is { Count: > 0 } ? errors : null,
            TraceId: Text("traceId"));
        context.HttpContext.Response.StatusCode = status;
        await context.HttpContext.Response.WriteAsJsonAsync(new OpenAIErrorBody(error), jsonOptions.Value.SerializerOptions, "application/json", context.HttpContext.RequestAborted);
    }
}

/// <summary>The error shape the OpenAI SDKs read, with our stable code and the caller's-language texts inside.</summary>
public sealed record OpenAIError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("userMessage")] string? UserMessage,
    [property: JsonPropertyName("recoveryAction")] string? RecoveryAction,
    [property: JsonPropertyName("errors")] IDictionary<string, string[]>? Errors,
    [property: JsonPropertyName("traceId")] string? TraceId);

public sealed record OpenAIErrorBody([property: JsonPropertyName("error")] OpenAIError Error);
