using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class GatewayCalls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "gateway_calls",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    api_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    surface = table.Column<string>(type: "text", nullable: false),
                    section = table.Column<string>(type: "text", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    key_source = table.Column<string>(type: "text", nullable: false),
                    purpose = table.Column<string>(type: "text", nullable: true),
                    subject_id = table.Column<Guid>(type: "uuid", nullable: true),
                    reserved_cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    reserved_tokens = table.Column<long>(type: "bigint", nullable: false),
                    budget_scopes = table.Column<int>(type: "integer", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("gateway_calls_pkey", x => x.id);
                    table.ForeignKey(
                        name: "gateway_calls_user_id_fkey",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_gateway_calls_started",
                table: "gateway_calls",
                column: "started_at");

            // A gateway call's record that it began, with its budget admission, in one statement: committed before the
            // vendor is called. Its commit does not wait for the WAL flush (synchronous_commit off, this transaction only):
            // an Api killed at any moment leaves the record, as Postgres has it; only a crash of Postgres itself can lose
            // the records of the last moments (at most three wal_writer_delay, 600 ms by default) together with whatever
            // else was not flushed yet.
            migrationBuilder.Sql("""
                CREATE FUNCTION gateway_call_begin(p_id uuid, p_user uuid, p_api_key uuid, p_surface text, p_section text, p_provider text,
                    p_model text, p_key_source text, p_purpose text, p_subject uuid, p_cost numeric, p_tokens bigint, p_at timestamptz)
                RETURNS text LANGUAGE plpgsql AS $$
                DECLARE
                    a record;
                BEGIN
                    PERFORM set_config('synchronous_commit', 'off', true);
                    SELECT x.scopes, x.warning INTO a FROM budget_admit(p_user, p_api_key, p_cost, p_tokens, p_at) x;
                    INSERT INTO gateway_calls (id, user_id, api_key_id, surface, section, provider_id, model_id, key_source, purpose, subject_id,
                        reserved_cost, reserved_tokens, budget_scopes, started_at)
                    VALUES (p_id, p_user, p_api_key, p_surface, p_section, p_provider, p_model, p_key_source, p_purpose, p_subject,
                        p_cost, p_tokens, a.scopes, p_at);
                    RETURN a.warning;
                END $$;

                -- A call's record going (its end, the sweep, its user deleted) gives its budget hold back.
                CREATE FUNCTION gateway_call_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.budget_scopes <> 0 THEN
                        PERFORM budget_give_back(OLD.user_id, OLD.api_key_id, OLD.budget_scopes, OLD.reserved_cost, OLD.reserved_tokens);
                    END IF;
                    RETURN NULL;
                END $$;

                CREATE TRIGGER gateway_calls_release AFTER DELETE ON gateway_calls FOR EACH ROW EXECUTE FUNCTION gateway_call_release();

                -- The Worker's sweep: calls that began before p_before and never ended (their Api died during the call) are counted
                -- at their estimate, interrupted. A call ending right now holds its row's lock and is skipped.
                CREATE FUNCTION gateway_calls_expire(p_before timestamptz, p_now timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
                DECLARE
                    n integer;
                BEGIN
                    WITH lost AS (
                        DELETE FROM gateway_calls x WHERE x.id IN
                            (SELECT y.id FROM gateway_calls y WHERE y.started_at < p_before FOR UPDATE SKIP LOCKED)
                        RETURNING x.*)
                    INSERT INTO usage_events (id, user_id, subject_type, subject_id, section, provider_id, model_id, key_source,
                        input_tokens, output_tokens, cost, duration_ms, status, error_code, created_at, api_key_id, purpose, cached_input_tokens, reasoning_tokens)
                    SELECT gen_random_uuid(), l.user_id, l.surface, l.subject_id, l.section, l.provider_id, l.model_id, l.key_source,
                        l.reserved_tokens, 0, l.reserved_cost, least(2147483647, (extract(epoch FROM p_now - l.started_at) * 1000)::bigint)::int,
                        'interrupted', 'gateway_call_lost', l.started_at, l.api_key_id, l.purpose, 0, 0
                    FROM lost l;
                    GET DIAGNOSTICS n = ROW_COUNT;
                    RETURN n;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION gateway_calls_expire(timestamptz, timestamptz); DROP FUNCTION gateway_call_begin(uuid, uuid, uuid, text, text, text, text, text, text, uuid, numeric, bigint, timestamptz);");
            migrationBuilder.DropTable(
                name: "gateway_calls");
            migrationBuilder.Sql("DROP FUNCTION gateway_call_release();");
        }
    }
}
