using Microsoft.Extensions.Options;

namespace AiPrompts.Core.Media;

/// <summary>Adds images to the store: checked and re-encoded first, with the retention the request's <c>store</c> choice gives.</summary>
public sealed class MediaLibrary(IMediaStore store, IOptions<MediaOptions> options, TimeProvider time)
{
    public const string Uploaded = "upload";
    public const string Generated = "generated";

    /// <summary>The file kept, or the refusal (nothing stored).</summary>
    public async Task<(MediaFile? File, SanitizedImage Image)> AddImageAsync(Guid ownerUserId, byte[] bytes, string? declaredType, string origin, bool keep, CancellationToken cancellationToken)
    {
        var image = ImageSanitizer.Sanitize(bytes, declaredType, options.Value);
        if (image.Refusal is not null)
        {
            return (null, image);
        }
        var now = time.GetUtcNow();
        var file = new MediaFile
        {
            Id = Guid.CreateVersion7(now),
            OwnerUserId = ownerUserId,
            ContentType = image.ContentType!,
            Width = image.Width,
            Height = image.Height,
            Length = image.Bytes!.LongLength,
            Origin = origin,
            CreatedAt = now,
            ExpiresAt = keep ? null : now + options.Value.UnstoredRetention,
        };
        await store.AddAsync(file, image.Bytes, cancellationToken);
        return (file, image);
    }
}
