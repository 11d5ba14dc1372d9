using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <summary>
    /// The usage rollups' shard is the writing connection's pid modulo 1024 instead of 8: with a Worker's 32 connections on
    /// 8 shards, job completions for the same user and model waited for each other's rollup row until commit (3.25 ms of
    /// every completion in the drain benchmark). Reads already sum the shards; a day keeps a row per connection that wrote.
    /// </summary>
    public partial class RollupShards : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION usage_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO usage_rollups AS r (day, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status, shard,
                        calls, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cost, vendor_cost, cost_difference, duration_ms)
                    SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status,
                        pg_backend_pid() % 1024, count(*), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), sum(reasoning_tokens),
                        coalesce(sum(cost), 0), sum(vendor_cost), sum(vendor_cost - cost) FILTER (WHERE vendor_cost IS NOT NULL AND cost IS NOT NULL), sum(duration_ms)
                    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
                    ON CONFLICT (day, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status, shard) DO UPDATE SET
                        calls = r.calls + excluded.calls,
                        input_tokens = r.input_tokens + excluded.input_tokens,
                        output_tokens = r.output_tokens + excluded.output_tokens,
                        cached_input_tokens = r.cached_input_tokens + excluded.cached_input_tokens,
                        reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
                        cost = r.cost + excluded.cost,
                        vendor_cost = CASE WHEN excluded.vendor_cost IS NULL THEN r.vendor_cost ELSE coalesce(r.vendor_cost, 0) + excluded.vendor_cost END,
                        cost_difference = CASE WHEN excluded.cost_difference IS NULL THEN r.cost_difference ELSE coalesce(r.cost_difference, 0) + excluded.cost_difference END,
                        duration_ms = r.duration_ms + excluded.duration_ms;
                    RETURN NULL;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION usage_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO usage_rollups AS r (day, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status, shard,
                        calls, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cost, vendor_cost, cost_difference, duration_ms)
                    SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status,
                        pg_backend_pid() % 8, count(*), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), sum(reasoning_tokens),
                        coalesce(sum(cost), 0), sum(vendor_cost), sum(vendor_cost - cost) FILTER (WHERE vendor_cost IS NOT NULL AND cost IS NOT NULL), sum(duration_ms)
                    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
                    ON CONFLICT (day, user_id, api_key_id, purpose, subject_type, section, provider_id, model_id, key_source, status, shard) DO UPDATE SET
                        calls = r.calls + excluded.calls,
                        input_tokens = r.input_tokens + excluded.input_tokens,
                        output_tokens = r.output_tokens + excluded.output_tokens,
                        cached_input_tokens = r.cached_input_tokens + excluded.cached_input_tokens,
                        reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
                        cost = r.cost + excluded.cost,
                        vendor_cost = CASE WHEN excluded.vendor_cost IS NULL THEN r.vendor_cost ELSE coalesce(r.vendor_cost, 0) + excluded.vendor_cost END,
                        cost_difference = CASE WHEN excluded.cost_difference IS NULL THEN r.cost_difference ELSE coalesce(r.cost_difference, 0) + excluded.cost_difference END,
                        duration_ms = r.duration_ms + excluded.duration_ms;
                    RETURN NULL;
                END $$;
                """);
        }
    }
}
