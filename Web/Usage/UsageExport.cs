using System.Security.Claims;
using AiPrompts.Web.ApiAccess;

namespace AiPrompts.Web.Usage;

/// <summary>
/// The usage report as a CSV download: a plain link the browser follows, answered with the Api's own CSV for the
/// signed-in user (the browser never holds the Api's token, so it cannot ask the Api itself).
/// </summary>
internal static class UsageExport
{
    public const string Path = "/usage/export.csv";

    public static IEndpointRouteBuilder MapUsageExport(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, ExportAsync).RequireAuthorization();
        return app;
    }

    public static string Link(DateTimeOffset from, DateTimeOffset to, string groupBy) =>
        $"{Path}?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}&groupBy={Uri.EscapeDataString(groupBy)}";

    private static async Task<IResult> ExportAsync(DateTimeOffset? from, DateTimeOffset? to, string? groupBy, ClaimsPrincipal user, ConsoleApi api, CancellationToken cancellationToken)
    {
        var query = "/api/v1/usage?"
            + (from is { } since ? $"from={Uri.EscapeDataString(since.ToString("O"))}&" : "")
            + (to is { } until ? $"to={Uri.EscapeDataString(until.ToString("O"))}&" : "")
            + (groupBy is { Length: > 0 } ? $"groupBy={Uri.EscapeDataString(groupBy)}" : "");
        try
        {
            var csv = await api.GetCsvAsync(user, query, cancellationToken);
            return Results.File(csv, "text/csv; charset=utf-8", "usage.csv");
        }
        catch (SessionEndedException)
        {
            return Results.Redirect($"/signin?returnUrl={Uri.EscapeDataString("/usage")}");
        }
        catch (ApiUnavailableException)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service cannot be reached just now. Try again in a moment.");
        }
        catch (ApiProblemException e)
        {
            return Results.Problem(statusCode: (int)e.Status, title: e.Detail);
        }
    }
}
