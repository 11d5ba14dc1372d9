using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Errors;

/// <summary>
/// The one way handlers report a failure: a code from <see cref="ErrorCode"/>. The texts (message,
/// userMessage, recoveryAction) are filled in by <see cref="ProblemDetailsEnricher"/> in the caller's language.
/// </summary>
internal static class ApiProblem
{
    public const string CodeKey = "code";
    public const string ArgsKey = "messageArgs";

    public static ProblemHttpResult Of(ErrorCode code, IReadOnlyDictionary<string, string>? args = null, string? detail = null)
    {
        var extensions = new Dictionary<string, object?> { [CodeKey] = code.Code };
        if (args is not null)
        {
            extensions[ArgsKey] = args;
        }
        return TypedResults.Problem(statusCode: code.Status, detail: detail, extensions: extensions);
    }

    /// <summary>The same validation problem, where a handler's result type is a <see cref="ProblemHttpResult"/>.</summary>
    public static ProblemHttpResult ValidationAsProblem(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = ErrorCode.ValidationFailed.Status,
            Extensions = { [CodeKey] = ErrorCode.ValidationFailed.Code },
        });

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, extensions: new Dictionary<string, object?> { [CodeKey] = ErrorCode.ValidationFailed.Code });
}
