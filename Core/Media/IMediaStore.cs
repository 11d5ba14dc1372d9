using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Media;

/// <summary>
/// Where images are kept: their record (always in Postgres, <c>media_files</c>) and their bytes (Postgres or
/// an S3-compatible bucket, <see cref="MediaFile.Storage"/>), added and removed together.
/// </summary>
public interface IMediaStore
{
    Task AddAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken);

    /// <summary>
    /// For a job: the bytes put where they go now if that is outside Postgres (under the file's id, so a retried
    /// attempt overwrites rather than adds), and the rows to write in the job's fenced completion.
    /// </summary>
    Task<IReadOnlyList<NpgsqlBatchCommand>> StageAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken);

    /// <summary>The file's record, if it exists and has not expired.</summary>
    Task<MediaFile?> FindAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken);

    Task<byte[]?> ReadAsync(MediaFile file, CancellationToken cancellationToken);

    /// <summary>Deletes one of the owner's files; false when there is none.</summary>
    Task<bool> DeleteAsync(Guid id, Guid ownerUserId, CancellationToken cancellationToken);

    /// <summary>Deletes the files whose retention ended; how many.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The default store: both in Postgres, in one transaction (the bytes cascade with the record).</summary>
public sealed class PostgresMediaStore(AppDbContext db) : IMediaStore
{
    public async Task AddAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        db.MediaFiles.Add(file);
        db.MediaContents.Add(new MediaContent { Id = file.Id, Bytes = bytes });
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task<IReadOnlyList<NpgsqlBatchCommand>> StageAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<NpgsqlBatchCommand>>([Record(file), JobStore.Command("INSERT INTO media_contents (id, bytes) VALUES ($1, $2)", file.Id, bytes)]);

    public Task<MediaFile?> FindAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.MediaFiles.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id && (f.ExpiresAt == null || f.ExpiresAt > now), cancellationToken);

    /// <summary>Bytes kept in Postgres; a file in a bucket is read by <see cref="S3MediaStore"/> (keep <c>Media:Store=s3</c> while any remain).</summary>
    public Task<byte[]?> ReadAsync(MediaFile file, CancellationToken cancellationToken) =>
        file.Storage == MediaStorage.Postgres
            ? db.MediaContents.AsNoTracking().Where(c => c.Id == file.Id).Select(c => c.Bytes).FirstOrDefaultAsync(cancellationToken)
            : Task.FromResult<byte[]?>(null);

    /// <summary>The record's row, as a job writes it.</summary>
    internal static NpgsqlBatchCommand Record(MediaFile file)
    {
        var command = JobStore.Command("""
            INSERT INTO media_files (id, owner_user_id, content_type, width, height, length, origin, storage, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, file.Id, file.OwnerUserId, file.ContentType, file.Width, file.Height, file.Length, file.Origin, file.Storage, file.CreatedAt, file.ExpiresAt);
        command.Parameters[9].NpgsqlDbType = NpgsqlDbType.TimestampTz;
        return command;
    }

    public async Task<bool> DeleteAsync(Guid id, Guid ownerUserId, CancellationToken cancellationToken) =>
        await db.MediaFiles.Where(f => f.Id == id && f.OwnerUserId == ownerUserId).ExecuteDeleteAsync(cancellationToken) > 0;

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        db.MediaFiles.Where(f => f.ExpiresAt != null && f.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
}
