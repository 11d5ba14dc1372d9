using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class UsageRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "usage_rollups",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    shard = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    subject_type = table.Column<string>(type: "text", nullable: false),
                    section = table.Column<string>(type: "text", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    key_source = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    calls = table.Column<long>(type: "bigint", nullable: false),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    vendor_cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    cost_difference = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    duration_ms = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("usage_rollups_pkey", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ux_usage_rollups_dimensions",
                table: "usage_rollups",
                columns: new[] { "day", "user_id", "subject_type", "section", "provider_id", "model_id", "key_source", "status", "shard" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            // Kept exact as usage rows are written: one upsert per inserted statement, in its transaction, on the row of the
            // writing connection's shard (so concurrent completions rarely wait for each other).
            migrationBuilder.Sql("""
                CREATE FUNCTION usage_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO usage_rollups AS r (day, user_id, subject_type, section, provider_id, model_id, key_source, status, shard,
                        calls, input_tokens, output_tokens, cost, vendor_cost, cost_difference, duration_ms)
                    SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, subject_type, section, provider_id, model_id, key_source, status, pg_backend_pid() % 8,
                        count(*), sum(input_tokens), sum(output_tokens), coalesce(sum(cost), 0), sum(vendor_cost),
                        sum(vendor_cost - cost) FILTER (WHERE vendor_cost IS NOT NULL AND cost IS NOT NULL), sum(duration_ms)
                    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                    ON CONFLICT (day, user_id, subject_type, section, provider_id, model_id, key_source, status, shard) DO UPDATE SET
                        calls = r.calls + excluded.calls,
                        input_tokens = r.input_tokens + excluded.input_tokens,
                        output_tokens = r.output_tokens + excluded.output_tokens,
                        cost = r.cost + excluded.cost,
                        vendor_cost = CASE WHEN excluded.vendor_cost IS NULL THEN r.vendor_cost ELSE coalesce(r.vendor_cost, 0) + excluded.vendor_cost END,
                        cost_difference = CASE WHEN excluded.cost_difference IS NULL THEN r.cost_difference ELSE coalesce(r.cost_difference, 0) + excluded.cost_difference END,
                        duration_ms = r.duration_ms + excluded.duration_ms;
                    RETURN NULL;
                END $$;

                INSERT INTO usage_rollups (day, user_id, subject_type, section, provider_id, model_id, key_source, status, shard,
                    calls, input_tokens, output_tokens, cost, vendor_cost, cost_difference, duration_ms)
                SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, subject_type, section, provider_id, model_id, key_source, status, 0,
                    count(*), sum(input_tokens), sum(output_tokens), coalesce(sum(cost), 0), sum(vendor_cost),
                    sum(vendor_cost - cost) FILTER (WHERE vendor_cost IS NOT NULL AND cost IS NOT NULL), sum(duration_ms)
                FROM usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

                CREATE TRIGGER usage_events_rollup AFTER INSERT ON usage_events
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_add();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER usage_events_rollup ON usage_events; DROP FUNCTION usage_rollup_add();");

            migrationBuilder.DropTable(
                name: "usage_rollups");
        }
    }
}
