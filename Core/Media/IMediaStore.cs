using AiPrompts.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Core.Media;

/// <summary>Where images are kept: their record and their bytes, added and removed together.</summary>
public interface IMediaStore
{
    Task AddAsync(MediaFile file, byte[] bytes, CancellationToken cancellationToken);

    /// <summary>The file's record, if it exists and has not expired.</summary>
    Task<MediaFile?> FindAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken);

    Task<byte[]?> ReadAsync(Guid id, CancellationToken cancellationToken);

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

    public Task<MediaFile?> FindAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.MediaFiles.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id && (f.ExpiresAt == null || f.ExpiresAt > now), cancellationToken);

    public Task<byte[]?> ReadAsync(Guid id, CancellationToken cancellationToken) =>
        db.MediaContents.AsNoTracking().Where(c => c.Id == id).Select(c => c.Bytes).FirstOrDefaultAsync(cancellationToken);

    public async Task<bool> DeleteAsync(Guid id, Guid ownerUserId, CancellationToken cancellationToken) =>
        await db.MediaFiles.Where(f => f.Id == id && f.OwnerUserId == ownerUserId).ExecuteDeleteAsync(cancellationToken) > 0;

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        db.MediaFiles.Where(f => f.ExpiresAt != null && f.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
}
