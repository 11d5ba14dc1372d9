using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Providers;

/// <summary>What one populate run changed.</summary>
public sealed record PopulateResult(int ProvidersAdded, int ProvidersUpdated, int ProvidersRetired, int ModelsAdded, int ModelsUpdated, int ModelsRetired, int SectionsAdded);

/// <summary>
/// Loads the catalogue into the database, idempotently and safely from several instances at once. It
/// writes only catalogue columns: a super admin's enabled flags, capability and price overrides, shared
/// key policy and section choices are never overwritten. Entries gone from the file are retired, not deleted.
/// </summary>
public sealed partial class CataloguePopulator(NpgsqlDataSource dataSource, IConfiguration configuration, TimeProvider time, ILogger<CataloguePopulator> logger)
{
    private static readonly ActivitySource Source = new("AiPrompts.Catalogue");

    public async Task<PopulateResult> PopulateAsync(CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("Populate catalogue");
        var catalogue = Catalogue.Load(configuration["Ai:CataloguePath"]);
        var now = time.GetUtcNow();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One populate at a time: concurrent runs would otherwise race on the retire step.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7256812903)", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        int providersAdded = 0, providersUpdated = 0, modelsAdded = 0, modelsUpdated = 0, sectionsAdded = 0;
        foreach (var provider in catalogue.Providers)
        {
            var outcome = await ScalarAsync<bool?>(connection, transaction, """
                INSERT INTO providers (id, display_name, kind, base_url, is_custom, retired, enabled_default, created_at, updated_at)
                VALUES ($1, $2, $3, $4, false, false, $5, $6, $6)
                ON CONFLICT (id) DO UPDATE SET
                    display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, base_url = EXCLUDED.base_url,
                    enabled_default = EXCLUDED.enabled_default, retired = false, updated_at = EXCLUDED.updated_at
                WHERE NOT providers.is_custom
                  AND (providers.display_name, providers.kind, providers.base_url, providers.enabled_default, providers.retired)
                      IS DISTINCT FROM (EXCLUDED.display_name, EXCLUDED.kind, EXCLUDED.base_url, EXCLUDED.enabled_default, false)
                RETURNING xmax = 0
                """, cancellationToken, provider.Id, provider.DisplayName, provider.Kind, Typed(provider.BaseUrl, NpgsqlDbType.Text), provider.Enabled, now);
            Count(outcome, ref providersAdded, ref providersUpdated);

            foreach (var model in provider.Models)
            {
                var modelOutcome = await ScalarAsync<bool?>(connection, transaction, """
                    INSERT INTO ai_models (provider_id, model_id, display_name, capabilities, context_size, input_price, output_price, retired, created_at, updated_at)
                    SELECT $1, $2, $3, $4, $5, $6, $7, false, $8, $8
                    WHERE EXISTS (SELECT 1 FROM providers WHERE id = $1 AND NOT is_custom)
                    ON CONFLICT (provider_id, model_id) DO UPDATE SET
                        display_name = EXCLUDED.display_name, capabilities = EXCLUDED.capabilities, context_size = EXCLUDED.context_size,
                        input_price = EXCLUDED.input_price, output_price = EXCLUDED.output_price, retired = false, updated_at = EXCLUDED.updated_at
                    WHERE (ai_models.display_name, ai_models.capabilities, ai_models.context_size, ai_models.input_price, ai_models.output_price, ai_models.retired)
                          IS DISTINCT FROM (EXCLUDED.display_name, EXCLUDED.capabilities, EXCLUDED.context_size, EXCLUDED.input_price, EXCLUDED.output_price, false)
                    RETURNING xmax = 0
                    """, cancellationToken, provider.Id, model.Id, model.DisplayName, model.Capabilities.ToArray(),
                    Typed(model.ContextSize, NpgsqlDbType.Integer), Typed(model.InputPrice, NpgsqlDbType.Numeric), Typed(model.OutputPrice, NpgsqlDbType.Numeric), now);
                Count(modelOutcome, ref modelsAdded, ref modelsUpdated);
            }
        }

        var providerIds = catalogue.Providers.Select(p => p.Id).ToArray();
        var providersRetired = await ExecuteAsync(connection, transaction,
            "UPDATE providers SET retired = true, updated_at = $2 WHERE NOT is_custom AND NOT retired AND id <> ALL($1)",
            cancellationToken, providerIds, now);
        var modelKeys = catalogue.Providers.SelectMany(p => p.Models.Select(m => p.Id + "\n" + m.Id)).ToArray();
        var modelsRetired = await ExecuteAsync(connection, transaction, """
            UPDATE ai_models m SET retired = true, updated_at = $2
            FROM providers p
            WHERE p.id = m.provider_id AND NOT p.is_custom AND NOT m.retired AND (m.provider_id || E'\n' || m.model_id) <> ALL($1)
            """, cancellationToken, modelKeys, now);

        foreach (var (name, choice) in catalogue.Sections)
        {
            sectionsAdded += await ExecuteAsync(connection, transaction, """
                INSERT INTO sections (name, provider_id, model_id, store_by_default, updated_at)
                VALUES ($1, $2, $3, false, $4) ON CONFLICT (name) DO NOTHING
                """, cancellationToken, name, choice.Provider, choice.Model, now);
        }
        await transaction.CommitAsync(cancellationToken);

        var result = new PopulateResult(providersAdded, providersUpdated, providersRetired, modelsAdded, modelsUpdated, modelsRetired, sectionsAdded);
        LogPopulated(logger, result.ProvidersAdded, result.ProvidersUpdated, result.ProvidersRetired, result.ModelsAdded, result.ModelsUpdated, result.ModelsRetired);
        return result;
    }

    private static void Count(bool? inserted, ref int added, ref int updated)
    {
        if (inserted is true)
        {
            added++;
        }
        else if (inserted is false)
        {
            updated++;
        }
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, object[] args)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var arg in args)
        {
            command.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg });
        }
        return command;
    }

    private static NpgsqlParameter Typed(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Catalogue populated: providers +{ProvidersAdded} ~{ProvidersUpdated} -{ProvidersRetired}, models +{ModelsAdded} ~{ModelsUpdated} -{ModelsRetired}")]
    private static partial void LogPopulated(ILogger logger, int providersAdded, int providersUpdated, int providersRetired, int modelsAdded, int modelsUpdated, int modelsRetired);
}
