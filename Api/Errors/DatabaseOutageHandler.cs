using System.Globalization;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace AiPrompts.Api.Errors;

/// <summary>
/// A request that cannot reach Postgres (refused or dropped connections, a server shutting down or starting up, an
/// exhausted pool) is told to come back: 503 <c>service_unavailable</c> with <c>Retry-After</c>, in the caller's
/// language and in the shape of the surface it called, never a 500. Whatever the request had written before the
/// outage either committed whole or not at all, so a retry is safe (a submit with an Idempotency-Key replays).
/// </summary>
internal sealed partial class DatabaseOutageHandler(ILogger<DatabaseOutageHandler> logger) : IExceptionHandler
{
    /// <summary>How long a client is asked to wait: Postgres restarts and crash recovery take seconds.</summary>
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (DatabaseOutage.Find(exception) is not { } cause)
        {
            return false;
        }
        LogOutage(logger, httpContext.Request.Method, httpContext.Request.Path.Value ?? "", cause.GetType().Name, (cause as PostgresException)?.SqlState ?? "", cause.Message);
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await ApiProblem.Of(ErrorCode.ServiceUnavailable).ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "The database is unreachable: answered 503 to {Method} {Path} ({Exception} {SqlState}: {Reason})")]
    private static partial void LogOutage(ILogger logger, string method, string path, string exception, string sqlState, string reason);
}
