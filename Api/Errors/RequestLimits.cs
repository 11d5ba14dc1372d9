using AiPrompts.Core.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Errors;

internal sealed class RequestLimitsOptions
{
    public const string Section = "Api:Limits";

    /// <summary>The largest request body accepted, in bytes (1 MiB unless configured).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

internal static class RequestBodyLimitExtensions
{
    /// <summary>
    /// Refuses a body over the limit with 413 before any handler reads it: at once when Content-Length
    /// says so, and through the server's own limit for chunked bodies.
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<RequestLimitsOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await ApiProblem.Of(ErrorCode.PayloadTooLarge).ExecuteAsync(context);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        await next(context);
    });
}
