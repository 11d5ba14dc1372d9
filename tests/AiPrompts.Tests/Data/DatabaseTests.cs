using AiPrompts.Core.Data;
using AiPrompts.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AiPrompts.Tests.Data;

public sealed class DatabaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DatabaseMigrator Migrator(NpgsqlDataSource source) => new(source, TimeProvider.System, NullLogger<DatabaseMigrator>.Instance);

    [Fact]
    public async Task Several_instances_migrating_at_once_apply_each_migration_exactly_once()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var source = NpgsqlDataSource.Create(database.ConnectionString);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Migrator(source).MigrateAsync(Ct)));

        Assert.Equal(DatabaseMigrator.All.Count, results.Sum(r => r.Count));
        Assert.Equal(DatabaseMigrator.All.Count, await database.ScalarAsync<int>("SELECT count(*) FROM schema_migrations"));
        Assert.Empty(await Migrator(source).MigrateAsync(Ct));
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_stops_start_up()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var source = NpgsqlDataSource.Create(database.ConnectionString);
        await Migrator(source).MigrateAsync(Ct);
        await database.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001_initial'");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrator(source).MigrateAsync(Ct));

        Assert.Contains("0001_initial", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_EF_model_matches_the_migrated_schema_column_by_column()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var source = NpgsqlDataSource.Create(database.ConnectionString);
        await Migrator(source).MigrateAsync(Ct);
        await using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql(source).Options);

        var columns = new Dictionary<(string Table, string Column), (string Type, bool Nullable)>();
        await using (var command = source.CreateCommand(
            "SELECT table_name, column_name, udt_name, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = 'public'"))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                columns[(reader.GetString(0), reader.GetString(1))] = (reader.GetString(2), reader.GetBoolean(3));
            }
        }

        foreach (var entity in db.Model.GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            var mapped = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in entity.GetProperties())
            {
                var column = property.GetColumnName(store)!;
                mapped.Add(column);
                Assert.True(columns.TryGetValue((table, column), out var actual), $"{table}.{column} is in the EF model but not in the schema");
                Assert.True(actual.Nullable == property.IsNullable, $"{table}.{column}: nullable in schema {actual.Nullable}, in model {property.IsNullable}");
                Assert.Equal(ExpectedUdt(property.GetColumnType()), actual.Type);
            }
            // A NOT NULL column the model does not know would make every insert fail.
            var unmapped = columns.Where(c => c.Key.Table == table && !mapped.Contains(c.Key.Column)).Select(c => c.Key.Column).ToList();
            Assert.True(unmapped.Count == 0, $"{table} has columns the model does not map: {string.Join(", ", unmapped)}");
        }
    }

    private static string ExpectedUdt(string efType) => efType.Split('(')[0] switch
    {
        "uuid" => "uuid",
        "text" => "text",
        "boolean" => "bool",
        "timestamp with time zone" => "timestamptz",
        "bytea" => "bytea",
        "jsonb" => "jsonb",
        "integer" => "int4",
        "bigint" => "int8",
        "numeric" => "numeric",
        "text[]" => "_text",
        var other => other,
    };

    [Theory]
    [InlineData("Id", "id")]
    [InlineData("ActorUserId", "actor_user_id")]
    [InlineData("KeyHash", "key_hash")]
    [InlineData("HTTPStatus", "http_status")]
    [InlineData("Version2Name", "version2_name")]
    public void Names_are_made_snake_case(string name, string expected) =>
        Assert.Equal(expected, SnakeCaseNames.ToSnakeCase(name));
}
