using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AiPrompts.Core.Data;

/// <summary>
/// Applies the EF Core migrations (Data/Migrations) under a Postgres advisory lock, so that several
/// processes starting together apply each one exactly once. A database made before EF Core migrations (by
/// the SQL runner of 0.1, recorded in schema_migrations) is the baseline already: it is adopted in place,
/// nothing rewritten, and migrated on from there.
/// </summary>
public sealed partial class DatabaseMigrator(IServiceProvider services, NpgsqlDataSource dataSource, ILogger<DatabaseMigrator> logger)
{
    private const long LockKey = 0x41_69_50_72_6F_6D_70_74; // "AiPrompt"

    /// <summary>What the SQL runner had applied when it was replaced; the baseline migration is exactly that schema.</summary>
    public static IReadOnlyList<string> LegacyVersions { get; } =
        ["0001_initial", "0002_providers_and_keys", "0003_jobs_prompt_requests_usage", "0004_prompt_templates"];

    /// <summary>Migrates; answers the migrations this call applied (none when another process already had).</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            await AdoptLegacySchemaAsync(db, connection, cancellationToken);
            // On a new database EF would first read a history table that is not there yet, and log that failure as an
            // error (a red mark on every first start): make the table first.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync(cancellationToken);
                foreach (var migration in pending)
                {
                    LogApplied(logger, migration);
                }
            }
            return pending;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    private async Task AdoptLegacySchemaAsync(AppDbContext db, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }
        }
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }
        if (!applied.SetEquals(LegacyVersions))
        {
            throw new InvalidOperationException(
                $"This database was made by the SQL migrations of AiPrompts 0.1 but has [{string.Join(", ", applied.Order())}] of " +
                $"[{string.Join(", ", LegacyVersions)}]: start AiPrompts 0.1 against it once to finish those, then this version.");
        }

        // The baseline is exactly the schema those four files made: record it as applied, in one transaction.
        var history = db.GetService<IHistoryRepository>();
        var baseline = db.Database.GetMigrations().First();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
#pragma warning disable CA2100 // EF's own DDL and insert for its history table, with the migration id from this assembly.
        await using (var adopt = new NpgsqlCommand(
            history.GetCreateIfNotExistsScript() + ";\n" +
            history.GetInsertScript(new HistoryRow(baseline, ProductInfo.EfVersion)) + ";\n" +
            "DROP TABLE schema_migrations;", connection, transaction))
#pragma warning restore CA2100
        {
            await adopt.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        LogAdopted(logger, baseline);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
#pragma warning disable CA2100 // Fixed statements of this class.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied database migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Adopted a database made by the SQL migrations of 0.1 as {Migration}; schema_migrations was dropped")]
    private static partial void LogAdopted(ILogger logger, string migration);

    private static class ProductInfo
    {
        /// <summary>The EF Core version written to the history row, as EF itself writes it.</summary>
        public static string EfVersion { get; } =
            typeof(DbContext).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "10.0";
    }
}
