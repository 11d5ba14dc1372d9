namespace AiPrompts.Core.Media;

/// <summary>
/// A stored image: uploaded, or made by an image model. Its bytes are the re-encoded image (never the bytes
/// as sent), kept by an <see cref="IMediaStore"/>. Kept until <see cref="ExpiresAt"/> when the request's
/// <c>store</c> choice was not to keep it; for good otherwise (until deleted).
/// </summary>
public sealed class MediaFile
{
    public Guid Id { get; set; }
    public Guid OwnerUserId { get; set; }

    /// <summary>image/png, image/jpeg, image/webp (a GIF is kept as a PNG of its first frame).</summary>
    public required string ContentType { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public long Length { get; set; }

    /// <summary>upload, or generated (by an image model).</summary>
    public required string Origin { get; set; }

    /// <summary>Where the bytes are: <c>postgres</c> (media_contents) or <c>s3</c> (the bucket, under the file's id).</summary>
    public string Storage { get; set; } = MediaStorage.Postgres;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>The bytes of a <see cref="MediaFile"/> in Postgres, the store every Api and Worker instance sees with nothing more to run.</summary>
public sealed class MediaContent
{
    public Guid Id { get; set; }
    public required byte[] Bytes { get; set; }
}

public sealed class MediaOptions
{
    public const string Section = "Media";

    /// <summary>The largest upload, in bytes.</summary>
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The longest side, in pixels.</summary>
    public int MaxDimension { get; set; } = 8192;

    /// <summary>The most pixels in all (a small file that decodes to a huge bitmap is refused before it is decoded).</summary>
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>How long a file is kept when the request chose not to store it.</summary>
    public TimeSpan UnstoredRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a signed file URL works.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the Worker deletes expired files.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The key that signs file URLs (base64, 32 bytes or more); unset: derived from the JWT signing key.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The address clients reach the Api at (e.g. https://api.example.com), for absolute file URLs; unset: the request's own.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Where new files' bytes go: <c>postgres</c> (the default, nothing else to run) or <c>s3</c> (<see cref="S3"/>).</summary>
    public string Store { get; set; } = MediaStorage.Postgres;

    public S3Options S3 { get; set; } = new();

    /// <summary>An S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...). Credentials: these, else the AWS SDK's usual chain.</summary>
    public sealed class S3Options
    {
        /// <summary>The endpoint of an S3-compatible server; unset: AWS S3 in <see cref="Region"/>.</summary>
        public string? ServiceUrl { get; set; }
        public string Region { get; set; } = "us-east-1";
        public string? Bucket { get; set; }
        public string? AccessKey { get; set; }
        public string? SecretKey { get; set; }

        /// <summary>Bucket in the path (https://host/bucket/key), as most S3-compatible servers want.</summary>
        public bool ForcePathStyle { get; set; } = true;

        /// <summary>Put before every object key, so installations can share a bucket.</summary>
        public string KeyPrefix { get; set; } = "media/";
    }
}

public static class MediaStorage
{
    public const string Postgres = "postgres";
    public const string S3 = "s3";
}
