using System.Diagnostics;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace AiPrompts.Api.Errors;

internal static class ProblemDetailsSetup
{
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDetailsEnricher.Enrich);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<DatabaseOutageHandler>();
        // Binding failures throw in every environment, so that one handler turns them into field errors.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<ExceptionHandlerOptions>(o =>
        {
            // A bad request the server itself detected (oversized body, unreadable JSON) keeps its own status.
            o.StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode
                : Core.Data.DatabaseOutage.Find(ex) is not null ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status500InternalServerError;
            // A client's mistake is not a server error, nor is an outage a bug: their handlers log each as one line.
            o.SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException || Core.Data.DatabaseOutage.Find(c.Exception) is not null;
        });
        return services;
    }
}

/// <summary>
/// Gives every problem+json response the same fields: status, title, code, message, userMessage,
/// recoveryAction (the contract's ErrorResponse) and traceId, with texts from the message catalogue in
/// the language that Accept-Language prefers. A server error never carries exception details.
/// </summary>
internal static class ProblemDetailsEnricher
{
    public static void Enrich(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? http.Response.StatusCode;
        problem.Status = status;

        var code = problem.Extensions.TryGetValue(ApiProblem.CodeKey, out var given) && given is string text
            ? text
            : problem is HttpValidationProblemDetails ? ErrorCode.ValidationFailed.Code : ErrorCode.ForStatus(status).Code;
        var args = problem.Extensions.TryGetValue(ApiProblem.ArgsKey, out var rawArgs) ? rawArgs as IReadOnlyDictionary<string, string> : null;
        problem.Extensions.Remove(ApiProblem.ArgsKey);

        var catalog = http.RequestServices.GetRequiredService<MessageCatalog>();
        var language = catalog.ChooseLanguage(PreferredLanguages(http.Request));
        if (language != MessageCatalog.DefaultLanguage)
        {
            Translate(problem, ref args, http.RequestServices.GetRequiredService<TextCatalog>(), language);
        }
        var message = catalog.Get(code, language, args);

        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        if (status >= 500)
        {
            problem.Detail = null;
        }
        problem.Extensions[ApiProblem.CodeKey] = code;
        problem.Extensions["message"] = message.Message;
        problem.Extensions["userMessage"] = message.UserMessage;
        problem.Extensions["recoveryAction"] = message.RecoveryAction;
        problem.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
        problem.Extensions.Remove("exception");
        problem.Extensions.Remove("requestId");

        http.Response.Headers.ContentLanguage = language;
    }

    /// <summary>The free texts of the answer (detail, field messages, the values its message quotes) in the language.</summary>
    private static void Translate(ProblemDetails problem, ref IReadOnlyDictionary<string, string>? args, TextCatalog texts, string language)
    {
        if (problem.Detail is { } detail)
        {
            problem.Detail = texts.Translate(detail, language);
        }
        if (problem is HttpValidationProblemDetails validation)
        {
            foreach (var field in validation.Errors.Keys.ToList())
            {
                validation.Errors[field] = [.. validation.Errors[field].Select(m => texts.Translate(m, language))];
            }
        }
        if (args is not null)
        {
            args = args.ToDictionary(a => a.Key, a => texts.Translate(a.Value, language), StringComparer.Ordinal);
        }
    }

    /// <summary>Accept-Language tags, most preferred first.</summary>
    public static IEnumerable<string> PreferredLanguages(HttpRequest request) =>
        request.GetTypedHeaders().AcceptLanguage
            .Where(l => l.Quality is null or > 0)
            .OrderByDescending(l => l.Quality ?? 1)
            .Select(l => l.Value.Value ?? "")
            .Where(v => v.Length > 0 && v != "*");
}
