using System.Text.Json;
using System.Text.RegularExpressions;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Diagnostics;

namespace AiPrompts.Api.Errors;

/// <summary>
/// A request the framework could not bind (a query value that is not a number, a body that is not JSON, a
/// missing body) is the client's mistake: it becomes a 400 <c>validation_failed</c> naming the field, like
/// the errors handlers report themselves, and is logged as one Information line without a stack trace.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        var reason = bad.InnerException is JsonException json ? $"{bad.Message} ({json.Path})" : bad.Message;
        LogRefused(logger, bad.StatusCode, httpContext.Request.Method, httpContext.Request.Path.Value ?? "", reason);
        var result = bad.StatusCode switch
        {
            StatusCodes.Status400BadRequest when FieldErrors(bad) is { } errors => ApiProblem.Validation(errors),
            StatusCodes.Status413PayloadTooLarge => (IResult)ApiProblem.Of(ErrorCode.PayloadTooLarge),
            StatusCodes.Status415UnsupportedMediaType => ApiProblem.Of(ErrorCode.UnsupportedMediaType),
            _ => ApiProblem.Of(ErrorCode.ForStatus(bad.StatusCode) with { Status = bad.StatusCode }),
        };
        await result.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>The framework's own wording names the parameter; it is turned into a field and a plain message.</summary>
    internal static Dictionary<string, string[]>? FieldErrors(BadHttpRequestException bad)
    {
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            return new() { [bind.Groups["name"].Value] = [$"The value is not a valid {Describe(bind.Groups["type"].Value)}."] };
        }
        if (Missing().Match(bad.Message) is { Success: true } missing)
        {
            return missing.Groups["source"].Value.Contains("body", StringComparison.Ordinal)
                ? new() { ["body"] = ["A JSON body is required."] }
                : new() { [missing.Groups["name"].Value] = ["A value is required."] };
        }
        if (bad.Message.Contains("no body was provided", StringComparison.Ordinal))
        {
            return new() { ["body"] = ["A JSON body is required."] };
        }
        if (bad.InnerException is JsonException json)
        {
            var field = json.Path is { Length: > 2 } path ? FieldOf(path) : "body";
            return new() { [field] = [field == "body" ? "The body is not valid JSON." : "The value is not valid JSON of the documented type for this field."] };
        }
        return null;
    }

    /// <summary>A JSON path from System.Text.Json ($.purpose.code, $['odd name'], $.items[2]) as a field name.</summary>
    private static string FieldOf(string path)
    {
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Length == 0 ? "body" : field;
    }

    // The framework writes the type as C# would ("int?", "Nullable<int>", "Int32").
    private static string Describe(string type) => Unwrap(type) switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" or "Int16" => "whole number",
        "decimal" or "double" or "float" or "Decimal" or "Double" or "Single" => "number",
        "bool" or "Boolean" => "boolean (true or false)",
        "Guid" => "id (a UUID)",
        "DateTimeOffset" or "DateTime" => "date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)",
        _ => "value of this field's type",
    };

    private static string Unwrap(string type) =>
        type.StartsWith("Nullable<", StringComparison.Ordinal) && type.EndsWith('>') ? type["Nullable<".Length..^1] : type.TrimEnd('?');

    [GeneratedRegex("""^Failed to bind parameter "(?<type>[^ "]+) (?<name>[^ "]+)" from""")]
    private static partial Regex BindFailure();

    [GeneratedRegex("""^Required parameter "(?<type>[^ "]+) (?<name>[^ "]+)" was not provided from (?<source>.+)\.$""")]
    private static partial Regex Missing();

    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Refused a bad request with {Status}: {Method} {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, int status, string method, string path, string reason);
}
