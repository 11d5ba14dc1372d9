using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Usage;

/// <summary>How long usage is kept: the raw rows and the daily rollups each have their own retention.</summary>
public sealed class UsageRetentionOptions
{
    public const string Section = "Usage";

    /// <summary>Raw usage rows older than this are deleted (null: kept). The rollups keep their totals.</summary>
    public TimeSpan? RawRetention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Daily rollups older than this are deleted (null, the default: kept for good).</summary>
    public TimeSpan? RollupRetention { get; set; }

    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted per statement, so a large backlog never holds long locks or one huge transaction.</summary>
    public int SweepBatchSize { get; set; } = 5_000;
}

/// <summary>
/// Keeps the monthly partitions of the raw usage rows ahead of the clock, and deletes usage past its retention: whole
/// months of raw rows by dropping their partitions, the rest oldest first in batches. The rollups are untouched by
/// raw-row deletion.
/// </summary>
public sealed class UsageRetention(NpgsqlDataSource dataSource, IOptions<UsageRetentionOptions> options)
{
    /// <summary>Months of partitions made ahead of the current one.</summary>
    public const int PartitionsAhead = 2;

    /// <summary>Makes the partitions of this month and the next <see cref="PartitionsAhead"/> that are missing.</summary>
    public async Task EnsurePartitionsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT usage_events_ensure_partitions($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = PartitionsAhead });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Answers how many raw rows and rollup rows were deleted.</summary>
    public async Task<(long Rows, long Rollups)> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        long rows = 0, rollups = 0;
        if (settings.RawRetention is { } raw)
        {
            var before = new NpgsqlParameter { Value = now - raw, NpgsqlDbType = NpgsqlDbType.TimestampTz };
            await using (var drop = dataSource.CreateCommand("SELECT usage_events_drop_partitions($1)"))
            {
                drop.Parameters.Add(before.Clone());
                rows = (long)(await drop.ExecuteScalarAsync(cancellationToken))!;
            }
            rows += await DeleteInBatchesAsync("""
                DELETE FROM usage_events WHERE (id, created_at) IN
                    (SELECT id, created_at FROM usage_events WHERE created_at < $1 ORDER BY created_at LIMIT $2)
                """, before, settings.SweepBatchSize, cancellationToken);
        }
        if (settings.RollupRetention is { } kept)
        {
            rollups = await DeleteInBatchesAsync("""
                DELETE FROM usage_rollups WHERE id IN (SELECT id FROM usage_rollups WHERE day < $1 ORDER BY day LIMIT $2)
                """, new NpgsqlParameter { Value = DateOnly.FromDateTime((now - kept).UtcDateTime) }, settings.SweepBatchSize, cancellationToken);
        }
        return (rows, rollups);
    }

    private async Task<long> DeleteInBatchesAsync(string sql, NpgsqlParameter before, int batch, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(before.Clone());
            command.Parameters.Add(new NpgsqlParameter { Value = batch });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < batch)
            {
                return total;
            }
        }
    }
}
