using System.Globalization;
using AiPrompts.Core.Errors;
using SkiaSharp;

namespace AiPrompts.Core.Media;

/// <summary>An image as it is kept, or why it is refused (a code of the catalogue and its arguments).</summary>
public sealed record SanitizedImage(byte[]? Bytes, string? ContentType, int Width, int Height, ErrorCode? Refusal = null, IReadOnlyDictionary<string, string>? RefusalArgs = null)
{
    public static SanitizedImage Refused(ErrorCode code, IReadOnlyDictionary<string, string> args) => new(null, null, 0, 0, code, args);
}

/// <summary>
/// Reads what an image is from its bytes (PNG, JPEG, WebP, GIF: whatever it was declared as), refuses it when
/// it is too large in bytes or in pixels (read from its header, before anything is decoded, so a small file
/// that would decode to gigabytes never does), then decodes it, turns it upright by its EXIF orientation and
/// encodes it again with SkiaSharp. The new file carries pixels only: EXIF (GPS position, camera, time), XMP
/// and any bytes hidden after the image are gone.
/// </summary>
public static class ImageSanitizer
{
    private const int Quality = 90;

    public static SanitizedImage Sanitize(byte[] bytes, string? declaredType, MediaOptions limits)
    {
        if (bytes.LongLength > limits.MaxBytes)
        {
            return SanitizedImage.Refused(ErrorCode.MediaTooLarge, new Dictionary<string, string> { ["bytes"] = Text(bytes.LongLength), ["limit"] = Text(limits.MaxBytes) });
        }
        using var data = SKData.CreateCopy(bytes);
        using var codec = bytes.Length == 0 ? null : SKCodec.Create(data);
        if (codec is null || codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Webp or SKEncodedImageFormat.Gif))
        {
            return NotAnImage(declaredType);
        }
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width > limits.MaxDimension || height > limits.MaxDimension || (long)width * height > limits.MaxPixels)
        {
            return SanitizedImage.Refused(ErrorCode.MediaTooManyPixels, new Dictionary<string, string>
            {
                ["width"] = Text(width), ["height"] = Text(height), ["maxDimension"] = Text(limits.MaxDimension), ["maxPixels"] = Text(limits.MaxPixels),
            });
        }
        using var decoded = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        if (codec.GetPixels(decoded.Info, decoded.GetPixels()) is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            return NotAnImage(declaredType);
        }
        using var upright = Upright(decoded, codec.EncodedOrigin);
        var (format, contentType) = codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Jpeg => (SKEncodedImageFormat.Jpeg, "image/jpeg"),
            SKEncodedImageFormat.Webp => (SKEncodedImageFormat.Webp, "image/webp"),
            _ => (SKEncodedImageFormat.Png, "image/png"), // a GIF is kept as its first frame
        };
        using var image = SKImage.FromBitmap(upright);
        using var encoded = image.Encode(format, Quality);
        return encoded is null ? NotAnImage(declaredType) : new SanitizedImage(encoded.ToArray(), contentType, upright.Width, upright.Height);
    }

    private static SanitizedImage NotAnImage(string? declaredType) =>
        SanitizedImage.Refused(ErrorCode.MediaNotAnImage, new Dictionary<string, string> { ["declared"] = declaredType ?? "none" });

    /// <summary>The pixels as they are meant to be seen: EXIF orientations 2–8 are mirrors and quarter turns.</summary>
    private static SKBitmap Upright(SKBitmap source, SKEncodedOrigin origin)
    {
        var turned = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (w, h) = turned ? (source.Height, source.Width) : (source.Width, source.Height);
        // Where each source pixel (x, y) goes: x' = a·x + b·y + c, y' = d·x + e·y + f.
        SKMatrix? matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, w, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, w, -1, 0, h, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, h, 0, 0, 1),
            _ => null,
        };
        var result = new SKBitmap(new SKImageInfo(w, h, source.ColorType, source.AlphaType));
        using var canvas = new SKCanvas(result);
        if (matrix is { } m)
        {
            canvas.SetMatrix(m);
        }
        using var pixels = SKImage.FromBitmap(source);
        canvas.DrawImage(pixels, 0, 0, SKSamplingOptions.Default);
        return result;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
