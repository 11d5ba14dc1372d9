using AiPrompts.Core.Data;
using AiPrompts.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AiPrompts.Tests.Data;

public sealed class DatabaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What one process has: its own data source and pooled contexts, as AddCoreServices registers them.</summary>
    private static ServiceProvider Process(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddDbContextPool<AppDbContext>((sp, options) => options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<DatabaseMigrator>();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Several_processes_migrating_at_once_apply_each_migration_exactly_once()
    {
        await using var database = await TestDatabase.CreateAsync();
        var processes = Enumerable.Range(0, 4).Select(_ => Process(database.ConnectionString)).ToList();

        var results = await Task.WhenAll(processes.Select(p => p.GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct)));

        await using var db = processes[0].CreateScope().ServiceProvider.GetRequiredService<AppDbContext>();
        var all = db.Database.GetMigrations().ToList();
        Assert.Equal(all, results.SelectMany(r => r).Order(StringComparer.Ordinal));
        Assert.Equal(all.Count, await database.ScalarAsync<int>("""SELECT count(*) FROM "__EFMigrationsHistory" """));
        Assert.Empty(await processes[1].GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct));
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }
    }

    [Fact]
    public void The_model_has_no_changes_that_a_migration_does_not_hold()
    {
        using var process = Process("Host=localhost;Database=unused");
        using var scope = process.CreateScope();
        Assert.False(scope.ServiceProvider.GetRequiredService<AppDbContext>().Database.HasPendingModelChanges(),
            "The model changed: add a migration (dotnet ef migrations add <Name> --project Core).");
    }

    [Fact]
    public async Task A_database_made_by_the_SQL_runner_of_0_1_upgrades_in_place_keeps_its_rows_and_ends_identical_to_a_new_one()
    {
        await using var legacy = await TestDatabase.CreateAsync();
        await MakeLegacyAsync(legacy, DatabaseMigrator.LegacyVersions);
        await legacy.ExecuteAsync("""
            INSERT INTO users (id, email, display_name, password_hash, role, security_stamp, created_at, updated_at)
            VALUES ('01900000-0000-7000-8000-000000000001', 'old@aiprompts.test', 'Old Timer', 'hash', 'super_admin', gen_random_uuid(), now(), now());
            INSERT INTO providers (id, display_name, kind, enabled_default, shared_key_enabled, created_at, updated_at)
            VALUES ('acme', 'Acme AI', 'openai_compatible', true, false, now(), now());
            INSERT INTO ai_models (provider_id, model_id, display_name, capabilities, input_price, created_at, updated_at)
            VALUES ('acme', 'acme-1', 'Acme One', ARRAY['chat'], 1.250000, now(), now());
            INSERT INTO jobs (id, kind, subject_id, status, attempt, max_attempts, run_after, created_at, finished_at, updated_at)
            VALUES ('01900000-0000-7000-8000-000000000002', 'prompt_request', '01900000-0000-7000-8000-000000000003', 'succeeded', 1, 5, now(), now(), now(), now());
            INSERT INTO prompt_requests (id, user_id, job_id, prompt_type, section, provider_id, model_id, prompt_text, purpose_code, store, created_at)
            VALUES ('01900000-0000-7000-8000-000000000003', '01900000-0000-7000-8000-000000000001', '01900000-0000-7000-8000-000000000002',
                    'text', 'chat', 'acme', 'acme-1', 'Who ran this before EF?', 'history', true, now());
            INSERT INTO prompt_template_versions (id, prompt_type, version_number, template, is_active, created_at)
            VALUES ('01900000-0000-7000-8000-000000000004', 'ocr_extraction', 1, 'Read {{ocr_text}}', true, now());
            UPDATE prompt_templates SET next_version = 2, revision = 1 WHERE prompt_type = 'ocr_extraction';
            """);

        await using var process = Process(legacy.ConnectionString);
        var applied = await process.GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct);

        // Adopted as the baseline, not rebuilt: nothing else was pending, the old bookkeeping is gone.
        await using var scope = process.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(db.Database.GetMigrations().Skip(1), applied);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
        Assert.Equal(0, await legacy.ScalarAsync<int>("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'"));

        // Every row reads back through the model.
        var user = await db.Users.SingleAsync(u => u.Email == "old@aiprompts.test", Ct);
        Assert.Equal("Old Timer", user.DisplayName);
        Assert.False((await db.Providers.SingleAsync(p => p.Id == "acme", Ct)).SharedKeyEnabled);
        Assert.Equal(1.25m, (await db.Models.SingleAsync(m => m.ModelId == "acme-1", Ct)).InputPrice);
        Assert.Equal("Who ran this before EF?", (await db.PromptRequests.SingleAsync(Ct)).PromptText);
        Assert.Equal("succeeded", (await db.Jobs.SingleAsync(Ct)).Status);
        Assert.True((await db.PromptTemplateVersions.SingleAsync(Ct)).IsActive);
        Assert.Equal(2, (await db.PromptTemplates.SingleAsync(t => t.PromptType == "ocr_extraction", Ct)).NextVersion);

        // And the schema is the one a new installation gets.
        await using var fresh = await TestDatabase.CreateAsync();
        await using (var freshProcess = Process(fresh.ConnectionString))
        {
            await freshProcess.GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct);
        }
        Assert.Equal(await SchemaFingerprintAsync(fresh), await SchemaFingerprintAsync(legacy));
    }

    [Fact]
    public async Task A_database_the_SQL_runner_left_half_migrated_is_refused_and_left_as_it_was()
    {
        await using var legacy = await TestDatabase.CreateAsync();
        await MakeLegacyAsync(legacy, DatabaseMigrator.LegacyVersions.Take(3));
        await using var process = Process(legacy.ConnectionString);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => process.GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct));

        Assert.Contains("0004_prompt_templates", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, await legacy.ScalarAsync<int>("SELECT count(*) FROM schema_migrations"));
        Assert.Equal(0, await legacy.ScalarAsync<int>("""SELECT count(*) FROM pg_tables WHERE tablename = '__EFMigrationsHistory'"""));
    }

    [Fact]
    public async Task The_EF_model_matches_the_migrated_schema_column_by_column()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var process = Process(database.ConnectionString);
        await process.GetRequiredService<DatabaseMigrator>().MigrateAsync(Ct);
        await using var scope = process.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var source = process.GetRequiredService<NpgsqlDataSource>();

        var columns = new Dictionary<(string Table, string Column), (string Type, bool Nullable)>();
        await using (var command = source.CreateCommand(
            "SELECT table_name, column_name, udt_name, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__EFMigrationsHistory'"))
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
            var unmapped = columns.Where(c => c.Key.Table == table && !mapped.Contains(c.Key.Column)).Select(c => c.Key.Column).ToList();
            Assert.True(unmapped.Count == 0, $"{table} has columns the model does not map: {string.Join(", ", unmapped)}");
        }
    }

    /// <summary>What the SQL runner of 0.1 did: each file in its own transaction, recorded in schema_migrations.</summary>
    private static async Task MakeLegacyAsync(TestDatabase database, IEnumerable<string> versions)
    {
        await database.ExecuteAsync("CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL)");
        foreach (var version in versions)
        {
            var sql = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "LegacySchema", version + ".sql"), Ct);
            await database.ExecuteAsync($"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ('{version}', 'sha256', now());\nCOMMIT;");
        }
    }

    /// <summary>Every column (type, nullability, default), constraint, index and function, as Postgres describes them.</summary>
    private static async Task<List<string>> SchemaFingerprintAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT 'column ' || table_name || '.' || column_name || ' ' || udt_name
                   || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '')
                   || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE ' not null' END || coalesce(' default ' || column_default, '')
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"__EFMigrationsHistory"'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p WHERE pronamespace = 'public'::regnamespace
            ORDER BY 1
            """, connection);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }
        Assert.True(lines.Count > 200, $"only {lines.Count} schema lines");
        return lines;
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
        "real" => "float4",
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
