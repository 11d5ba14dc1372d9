using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AiPrompts.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiPrompts.Core.Media;

/// <summary>
/// The scale-out store (<c>Media:Store=s3</c>): records in Postgres as always, bytes in an S3-compatible bucket
/// under <c>KeyPrefix + id</c>. Files kept in Postgres before the switch are still read from there. The object
/// is written before its record and deleted after it, so a record never points at nothing; an object whose
/// record was never written (a crash in between) is what a bucket lifecycle rule on the prefix sweeps.
/// </summary>
public sealed class S3MediaStore(AppDbContext db, IAmazonS3 s3, IOptions<MediaOptions> options, PostgresMediaStore postgres) : IMediaStore
{
    private const int DeleteBatch = 1000; // the most keys one DeleteObjects takes

    private MediaOptions.S3Options Settings => options.Value.S3;

    /// <summary>The client for <see cref="MediaOptions.S3"/>: the SDK's checksums only where S3 requires them, which every compatible server understands.</summary>
    public static IAmazonS3 CreateClient(MediaOptions.S3Options settings)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = settings.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.ServiceUrl is { Length: > 0 } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = settings.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region);
        }
        return settings.AccessKey is { Length: > 0 } accessKey
            ? new AmazonS3Client(new BasicAWSCredentials(accessKey, settings.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public async Task AddAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        file.Storage = MediaStorage.S3;
        await PutAsync(file, bytes, cancellationToken);
        try
        {
            db.MediaFiles.Add(file);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            await DeleteObjectsAsync([file.Id], CancellationToken.None);
            throw;
        }
    }

    public async Task<IReadOnlyList<NpgsqlBatchCommand>> StageAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        file.Storage = MediaStorage.S3;
        await PutAsync(file, bytes, cancellationToken);
        return [PostgresMediaStore.Record(file)];
    }

    public Task<MediaFile?> FindAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) => postgres.FindAsync(id, now, cancellationToken);

    public async Task<byte[]?> ReadAsync(MediaFile file, CancellationToken cancellationToken)
    {
        if (file.Storage != MediaStorage.S3)
        {
            return await postgres.ReadAsync(file, cancellationToken);
        }
        try
        {
            using var response = await s3.GetObjectAsync(Settings.Bucket, Key(file.Id), cancellationToken);
            using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(Guid id, Guid ownerUserId, CancellationToken cancellationToken)
    {
        var storage = await db.MediaFiles.Where(f => f.Id == id && f.OwnerUserId == ownerUserId).Select(f => f.Storage).FirstOrDefaultAsync(cancellationToken);
        if (storage is null || !await postgres.DeleteAsync(id, ownerUserId, cancellationToken))
        {
            return false;
        }
        if (storage == MediaStorage.S3)
        {
            await DeleteObjectsAsync([id], cancellationToken);
        }
        return true;
    }

    /// <summary>Objects first, then their records, a batch at a time: a failure leaves both for the next sweep.</summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (true)
        {
            var expired = await db.MediaFiles.AsNoTracking().Where(f => f.ExpiresAt != null && f.ExpiresAt <= now)
                .OrderBy(f => f.ExpiresAt).Select(f => new { f.Id, f.Storage }).Take(DeleteBatch).ToListAsync(cancellationToken);
            if (expired.Count == 0)
            {
                return deleted;
            }
            await DeleteObjectsAsync([.. expired.Where(f => f.Storage == MediaStorage.S3).Select(f => f.Id)], cancellationToken);
            var ids = expired.Select(f => f.Id).ToList();
            deleted += await db.MediaFiles.Where(f => ids.Contains(f.Id)).ExecuteDeleteAsync(cancellationToken);
            if (expired.Count < DeleteBatch)
            {
                return deleted;
            }
        }
    }

    private string Key(Guid id) => Settings.KeyPrefix + id.ToString("N");

    private async Task PutAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(bytes, writable: false);
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Settings.Bucket,
            Key = Key(file.Id),
            InputStream = content,
            ContentType = file.ContentType,
            AutoCloseStream = false,
            UseChunkEncoding = false,
        }, cancellationToken);
    }

    private async Task DeleteObjectsAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }
        await s3.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = Settings.Bucket,
            Objects = [.. ids.Select(id => new KeyVersion { Key = Key(id) })],
            Quiet = true,
        }, cancellationToken);
    }
}
