using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Media;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AiPrompts.Api.Media;

/// <summary>An uploaded or generated image: where it is (a signed URL for an &lt;img src&gt;) and what it is.</summary>
public sealed record MediaFileView(
    [property: JsonPropertyName("file_url")] string FileUrl,
    [property: JsonPropertyName("file_id")] string FileId,
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("url_expires_at")] DateTimeOffset UrlExpiresAt,
    [property: JsonPropertyName("kept_until")] DateTimeOffset? KeptUntil);

/// <summary>
/// The Vietnamese document's media service: <c>POST /api/v1/file/uploads</c> (multipart,
/// <c>file</c>) → <c>{file_url}</c>. Only images are kept, judged by their bytes and re-encoded; the URL is
/// signed and expires; the owner reads, refreshes and deletes their files (anyone else gets 404).
/// </summary>
internal static class MediaApi
{
    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Media");
        group.MapPost("/file/uploads", UploadAsync).RequireScope(ApiKeyScopes.Prompts).DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithName("UploadFile").WithSummary("Upload an image (multipart field file; store=false keeps it only for Media:UnstoredRetention): its signed file_url");
        group.MapGet("/file/uploads/{file_id}", GetAsync).RequireScope(ApiKeyScopes.Prompts)
            .WithName("GetFile").WithSummary("One of my files, with a fresh signed URL");
        group.MapDelete("/file/uploads/{file_id}", DeleteAsync).RequireScope(ApiKeyScopes.Prompts)
            .WithName("DeleteFile").WithSummary("Delete one of my files");
        group.MapGet("/files/{file_id}", ServeAsync).AllowAnonymous().ProducesProblem(StatusCodes.Status410Gone)
            .Produces<byte[]>(StatusCodes.Status200OK, "image/png", "image/jpeg", "image/webp")
            .WithName("ServeFile").WithSummary("A file's bytes, through its signed URL (the signature is the credential, so an <img src> works)");
        return app;
    }

    internal static async Task<Results<Created<MediaFileView>, ValidationProblem, ProblemHttpResult>> UploadAsync(
        IFormFile? file, [FromForm] bool? store, ClaimsPrincipal principal, MediaLibrary library, MediaLinks links, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["file"] = ["A multipart/form-data field 'file' with the image is required."] });
        }
        byte[] bytes;
        await using (var stream = file.OpenReadStream())
        {
            using var copy = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
            await stream.CopyToAsync(copy, cancellationToken);
            bytes = copy.ToArray();
        }
        var (kept, image) = await library.AddImageAsync(principal.UserId(), bytes, file.ContentType, MediaLibrary.Uploaded, store ?? true, cancellationToken);
        if (kept is null)
        {
            return ApiProblem.Of(image.Refusal!, image.RefusalArgs);
        }
        var view = View(kept, links);
        return TypedResults.Created($"/api/v1/file/uploads/{view.FileId}", view);
    }

    internal static async Task<Results<Ok<MediaFileView>, ProblemHttpResult>> GetAsync(
        string file_id, ClaimsPrincipal principal, IMediaStore store, MediaLinks links, TimeProvider time, CancellationToken cancellationToken) =>
        Guid.TryParse(file_id, out var id) && await store.FindAsync(id, time.GetUtcNow(), cancellationToken) is { } file && principal.CanRead(file.OwnerUserId, Visibility.Private)
            ? TypedResults.Ok(View(file, links))
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string file_id, ClaimsPrincipal principal, IMediaStore store, CancellationToken cancellationToken) =>
        Guid.TryParse(file_id, out var id) && await store.DeleteAsync(id, principal.UserId(), cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblem.Of(ErrorCode.NotFound);

    /// <summary>A wrong or missing signature is 404 (nothing says the file exists); a right one past its time is 410.</summary>
    internal static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ServeAsync(
        string file_id, HttpContext http, IMediaStore store, MediaLinks links, TimeProvider time, CancellationToken cancellationToken,
        long? expires = null, string? signature = null)
    {
        if (!Guid.TryParse(file_id, out var id) || expires is not { } until || !links.IsSigned(id, until, signature))
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var now = time.GetUtcNow();
        if (until < now.ToUnixTimeSeconds())
        {
            return ApiProblem.Of(ErrorCode.MediaLinkExpired, new Dictionary<string, string> { ["expiresAt"] = DateTimeOffset.FromUnixTimeSeconds(until).ToString("O", CultureInfo.InvariantCulture) });
        }
        if (await store.FindAsync(id, now, cancellationToken) is not { } file || await store.ReadAsync(file, cancellationToken) is not { } bytes)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var headers = http.Response.Headers;
        headers.CacheControl = $"private, max-age={Math.Max(0, until - now.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture)}";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.File(bytes, file.ContentType, $"{file.Id:N}{Extension(file.ContentType)}");
    }

    public static MediaFileView View(MediaFile file, MediaLinks links)
    {
        var (url, expires) = links.For(file);
        return new MediaFileView(url, file.Id.ToString("N"), file.ContentType, file.Width, file.Height, file.Length, expires, file.ExpiresAt);
    }

    private static string Extension(string contentType) => contentType switch
    {
        "image/jpeg" => ".jpg",
        "image/webp" => ".webp",
        _ => ".png",
    };
}
