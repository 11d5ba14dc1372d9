using AiPrompts.Core.Errors;
using AiPrompts.Core.Media;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Errors;

internal sealed class RequestLimitsOptions
{
    public const string Section = "Api:Limits";

    /// <summary>The largest request body accepted, in bytes (1 MiB unless configured).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The longest request target (path and query) accepted, in characters; longer is a 414.</summary>
    public int MaxUrlLength { get; set; } = 8 * 1024;

    /// <summary>The most header bytes accepted (names and values); more is a 431.</summary>
    public int MaxHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// Kestrel's own limits sit well above these, so that a request between the two gets this API's
    /// problem+json answer; only a request past Kestrel's limits gets the server's bare status line.
    /// </summary>
    public int ServerHardLimit => Math.Max(256 * 1024, 4 * Math.Max(MaxUrlLength, MaxHeaderBytes));
}

internal static class RequestBodyLimitExtensions
{
    /// <summary>
    /// Refuses a body over the limit with 413 before any handler reads it: at once when Content-Length
    /// says so, and through the server's own limit for chunked bodies.
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limits = context.RequestServices.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
        var request = context.Request;
        if (request.Path.Value?.Length + request.PathBase.Value?.Length + request.QueryString.Value?.Length > limits.MaxUrlLength)
        {
            await ApiProblem.Of(ErrorCode.UriTooLong,
                detail: $"The URL is longer than {limits.MaxUrlLength} characters.").ExecuteAsync(context);
            return;
        }
        if (HeaderBytes(request.Headers) > limits.MaxHeaderBytes)
        {
            await ApiProblem.Of(ErrorCode.HeadersTooLarge,
                detail: $"The request headers are larger than {limits.MaxHeaderBytes} bytes.").ExecuteAsync(context);
            return;
        }
        // An upload may be as large as the media store takes, with room for the multipart framing.
        var limit = request.Path.StartsWithSegments("/api/v1/file/uploads", StringComparison.OrdinalIgnoreCase)
            ? Math.Max(limits.MaxRequestBodyBytes, context.RequestServices.GetRequiredService<IOptions<MediaOptions>>().Value.MaxBytes + MultipartAllowance)
            : limits.MaxRequestBodyBytes;
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

    private const long MultipartAllowance = 64 * 1024;

    private static long HeaderBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                total += name.Length + (value?.Length ?? 0) + 4;
            }
        }
        return total;
    }

    /// <summary>Kestrel's limits above the API's own (see <see cref="RequestLimitsOptions.ServerHardLimit"/>).</summary>
    public static IServiceCollection AddServerLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(RequestLimitsOptions.Section).Get<RequestLimitsOptions>() ?? new RequestLimitsOptions();
        return services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestLineSize = limits.ServerHardLimit;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.ServerHardLimit;
        });
    }
}
