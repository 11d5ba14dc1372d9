using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Budgets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_usage_rollups_dimensions",
                table: "usage_rollups");

            migrationBuilder.AddColumn<Guid>(
                name: "api_key_id",
                table: "usage_rollups",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "cached_input_tokens",
                table: "usage_rollups",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "purpose",
                table: "usage_rollups",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reasoning_tokens",
                table: "usage_rollups",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "api_key_id",
                table: "usage_events",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "cached_input_tokens",
                table: "usage_events",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "purpose",
                table: "usage_events",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reasoning_tokens",
                table: "usage_events",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "api_key_id",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "budget_scopes",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "budget_warning",
                table: "jobs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "reserved_cost",
                table: "jobs",
                type: "numeric(18,8)",
                precision: 18,
                scale: 8,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reserved_tokens",
                table: "jobs",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "user_id",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "budget_holds",
                columns: table => new
                {
                    subject_kind = table.Column<string>(type: "text", nullable: false),
                    subject_id = table.Column<Guid>(type: "uuid", nullable: false),
                    shard = table.Column<int>(type: "integer", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    tokens = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("budget_holds_pkey", x => new { x.subject_kind, x.subject_id, x.shard });
                    table.CheckConstraint("ck_budget_holds_kind", "subject_kind IN ('user', 'api_key')");
                });

            migrationBuilder.CreateTable(
                name: "budgets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    scope = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    api_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    role = table.Column<string>(type: "text", nullable: true),
                    cost_per_day = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    cost_per_month = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    tokens_per_day = table.Column<long>(type: "bigint", nullable: true),
                    soft_percent = table.Column<int>(type: "integer", nullable: false, defaultValue: 80),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("budgets_pkey", x => x.id);
                    table.CheckConstraint("ck_budgets_limits", "coalesce(cost_per_day, 0) >= 0 AND coalesce(cost_per_month, 0) >= 0 AND coalesce(tokens_per_day, 0) >= 0");
                    table.CheckConstraint("ck_budgets_scope", "(scope = 'user' AND user_id IS NOT NULL AND api_key_id IS NULL AND role IS NULL) OR (scope = 'api_key' AND api_key_id IS NOT NULL AND user_id IS NULL AND role IS NULL) OR (scope = 'role' AND role IS NOT NULL AND user_id IS NULL AND api_key_id IS NULL)");
                    table.CheckConstraint("ck_budgets_soft_percent", "soft_percent BETWEEN 1 AND 100");
                    table.ForeignKey(
                        name: "budgets_api_key_id_fkey",
                        column: x => x.api_key_id,
                        principalTable: "api_keys",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "budgets_user_id_fkey",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "budget_alerts",
                columns: table => new
                {
                    budget_id = table.Column<Guid>(type: "uuid", nullable: false),
                    period = table.Column<string>(type: "text", nullable: false),
                    limit_name = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("budget_alerts_pkey", x => new { x.budget_id, x.period, x.limit_name });
                    table.ForeignKey(
                        name: "budget_alerts_budget_id_fkey",
                        column: x => x.budget_id,
                        principalTable: "budgets",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_usage_rollups_api_key_day",
                table: "usage_rollups",
                columns: new[] { "api_key_id", "day" },
                filter: "api_key_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_usage_rollups_user_day",
                table: "usage_rollups",
                columns: new[] { "user_id", "day" });

            migrationBuilder.CreateIndex(
                name: "ux_usage_rollups_dimensions",
                table: "usage_rollups",
                columns: new[] { "day", "user_id", "api_key_id", "purpose", "subject_type", "section", "provider_id", "model_id", "key_source", "status", "shard" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_usage_events_api_key",
                table: "usage_events",
                columns: new[] { "api_key_id", "created_at" },
                descending: new[] { false, true },
                filter: "api_key_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_budgets_api_key",
                table: "budgets",
                column: "api_key_id",
                unique: true,
                filter: "scope = 'api_key'");

            migrationBuilder.CreateIndex(
                name: "ux_budgets_role",
                table: "budgets",
                column: "role",
                unique: true,
                filter: "scope = 'role'");

            migrationBuilder.CreateIndex(
                name: "ux_budgets_user",
                table: "budgets",
                column: "user_id",
                unique: true,
                filter: "scope = 'user'");
            // The rollups gain the API key, the purpose and the cached and reasoning tokens (same trigger, new dimensions).
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

            // Budgets. A job row that carries an estimate (reserved_cost) is admitted as it is inserted: for each budget that
            // applies (the user's own or else their role's, and the API key's), the estimate is added to that subject's hold
            // (the row lock serialises the subject's admissions across every Api instance until commit), and the spent amount
            // (the rollups of this UTC day and month) plus everything held must stay within each limit, else the insert fails
            // with SQLSTATE AB001 and a JSON message saying which limit and when it resets. Crossing a soft threshold sets
            // budget_warning (read back by the insert) and writes one audit row per budget, limit and period.
            migrationBuilder.Sql("""
                CREATE FUNCTION budget_reserve() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    b record;
                    l record;
                    today date := (NEW.created_at AT TIME ZONE 'UTC')::date;
                    month_start date := date_trunc('month', NEW.created_at AT TIME ZONE 'UTC')::date;
                    held_cost numeric;
                    held_tokens bigint;
                    day_cost numeric;
                    month_cost numeric;
                    day_tokens bigint;
                    facts jsonb;
                BEGIN
                    FOR b IN
                        SELECT x.id, x.scope, x.cost_per_day, x.cost_per_month, x.tokens_per_day, x.soft_percent, 1 AS bit
                        FROM budgets x
                        WHERE (x.scope = 'user' AND x.user_id = NEW.user_id)
                           OR (x.scope = 'role' AND x.role = (SELECT u.role FROM users u WHERE u.id = NEW.user_id)
                               AND NOT EXISTS (SELECT 1 FROM budgets o WHERE o.scope = 'user' AND o.user_id = NEW.user_id))
                        UNION ALL
                        SELECT x.id, x.scope, x.cost_per_day, x.cost_per_month, x.tokens_per_day, x.soft_percent, 2
                        FROM budgets x WHERE x.scope = 'api_key' AND x.api_key_id = NEW.api_key_id
                        ORDER BY bit
                    LOOP
                        -- Shard 0 is the subject's gate: its row lock orders the subject's admissions until commit.
                        INSERT INTO budget_holds AS h (subject_kind, subject_id, shard, cost, tokens)
                        VALUES (CASE b.bit WHEN 1 THEN 'user' ELSE 'api_key' END, CASE b.bit WHEN 1 THEN NEW.user_id ELSE NEW.api_key_id END, 0,
                            NEW.reserved_cost, coalesce(NEW.reserved_tokens, 0))
                        ON CONFLICT (subject_kind, subject_id, shard) DO UPDATE SET cost = h.cost + excluded.cost, tokens = h.tokens + excluded.tokens;
                        SELECT sum(x.cost), sum(x.tokens) INTO held_cost, held_tokens FROM budget_holds x
                        WHERE x.subject_kind = CASE b.bit WHEN 1 THEN 'user' ELSE 'api_key' END
                          AND x.subject_id = CASE b.bit WHEN 1 THEN NEW.user_id ELSE NEW.api_key_id END;
                        NEW.budget_scopes := NEW.budget_scopes | b.bit;
                        IF b.bit = 1 THEN
                            SELECT coalesce(sum(r.cost) FILTER (WHERE r.day = today), 0), coalesce(sum(r.cost), 0),
                                   coalesce(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.day = today), 0)
                            INTO day_cost, month_cost, day_tokens
                            FROM usage_rollups r WHERE r.user_id = NEW.user_id AND r.day >= month_start AND r.day <= today;
                        ELSE
                            SELECT coalesce(sum(r.cost) FILTER (WHERE r.day = today), 0), coalesce(sum(r.cost), 0),
                                   coalesce(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.day = today), 0)
                            INTO day_cost, month_cost, day_tokens
                            FROM usage_rollups r WHERE r.api_key_id = NEW.api_key_id AND r.day >= month_start AND r.day <= today;
                        END IF;
                        FOR l IN
                            SELECT * FROM (VALUES
                                ('costPerDay', b.cost_per_day, day_cost + held_cost, NEW.reserved_cost, today + 1, 'day:' || to_char(today, 'YYYY-MM-DD')),
                                ('costPerMonth', b.cost_per_month, month_cost + held_cost, NEW.reserved_cost, (month_start + interval '1 month')::date, 'month:' || to_char(today, 'YYYY-MM')),
                                ('tokensPerDay', b.tokens_per_day::numeric, (day_tokens + held_tokens)::numeric, coalesce(NEW.reserved_tokens, 0)::numeric, today + 1, 'day:' || to_char(today, 'YYYY-MM-DD'))
                            ) AS v(name, ceiling, used, estimate, resets, period)
                            WHERE v.ceiling IS NOT NULL
                        LOOP
                            facts := jsonb_build_object('budgetId', b.id, 'scope', b.scope, 'limit', l.name, 'ceiling', l.ceiling,
                                'used', l.used - l.estimate, 'requested', l.estimate, 'resetsAt', to_char(l.resets, 'YYYY-MM-DD"T00:00:00Z"'),
                                'softPercent', b.soft_percent);
                            IF l.used > l.ceiling OR l.used - l.estimate >= l.ceiling THEN
                                RAISE EXCEPTION USING ERRCODE = 'AB001', MESSAGE = facts::text;
                            END IF;
                            IF l.used * 100 >= l.ceiling * b.soft_percent THEN
                                NEW.budget_warning := facts::text;
                                INSERT INTO budget_alerts (budget_id, period, limit_name, created_at) VALUES (b.id, l.period, l.name, NEW.created_at)
                                ON CONFLICT DO NOTHING;
                                IF FOUND THEN
                                    INSERT INTO audit_logs (id, actor_user_id, action, entity_type, entity_id, after, created_at)
                                    VALUES (gen_random_uuid(), NEW.user_id, 'budget.soft_limit_reached', 'budget', b.id::text, facts, NEW.created_at);
                                END IF;
                            END IF;
                        END LOOP;
                    END LOOP;
                    RETURN NEW;
                END $$;

                -- A job's end, however it comes (a worker's fenced completion, a cancel, a rescue that runs out of attempts, a
                -- deletion), gives back exactly what its insert held; what it spent is in the usage rows written meanwhile. The
                -- release goes on the releasing connection's shard (only the sum counts), never the gate, so completions do not
                -- wait for admissions; an admission that reads before a release commits only sees more held than there is.
                CREATE FUNCTION budget_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO budget_holds AS h (subject_kind, subject_id, shard, cost, tokens)
                    SELECT s.kind, s.subject, 1 + pg_backend_pid() % 8, -OLD.reserved_cost, -coalesce(OLD.reserved_tokens, 0)
                    FROM (VALUES ('user', OLD.user_id, 1), ('api_key', OLD.api_key_id, 2)) AS s(kind, subject, bit)
                    WHERE OLD.budget_scopes & s.bit <> 0
                    ORDER BY s.bit
                    ON CONFLICT (subject_kind, subject_id, shard) DO UPDATE SET cost = h.cost + excluded.cost, tokens = h.tokens + excluded.tokens;
                    RETURN NULL;
                END $$;

                CREATE TRIGGER jobs_budget_reserve BEFORE INSERT ON jobs
                    FOR EACH ROW WHEN (NEW.reserved_cost IS NOT NULL AND NEW.user_id IS NOT NULL) EXECUTE FUNCTION budget_reserve();
                CREATE TRIGGER jobs_budget_release AFTER UPDATE OF status ON jobs
                    FOR EACH ROW WHEN (OLD.budget_scopes <> 0 AND OLD.status IN ('queued', 'running') AND NEW.status IN ('succeeded', 'failed', 'cancelled'))
                    EXECUTE FUNCTION budget_release();
                CREATE TRIGGER jobs_budget_release_deleted AFTER DELETE ON jobs
                    FOR EACH ROW WHEN (OLD.budget_scopes <> 0 AND OLD.status IN ('queued', 'running')) EXECUTE FUNCTION budget_release();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER jobs_budget_reserve ON jobs;
                DROP TRIGGER jobs_budget_release ON jobs;
                DROP TRIGGER jobs_budget_release_deleted ON jobs;
                DROP FUNCTION budget_reserve();
                DROP FUNCTION budget_release();
                CREATE OR REPLACE FUNCTION usage_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
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
                """);
            migrationBuilder.DropTable(
                name: "budget_alerts");

            migrationBuilder.DropTable(
                name: "budget_holds");

            migrationBuilder.DropTable(
                name: "budgets");

            migrationBuilder.DropIndex(
                name: "ix_usage_rollups_api_key_day",
                table: "usage_rollups");

            migrationBuilder.DropIndex(
                name: "ix_usage_rollups_user_day",
                table: "usage_rollups");

            migrationBuilder.DropIndex(
                name: "ux_usage_rollups_dimensions",
                table: "usage_rollups");

            migrationBuilder.DropIndex(
                name: "ix_usage_events_api_key",
                table: "usage_events");

            migrationBuilder.DropColumn(
                name: "api_key_id",
                table: "usage_rollups");

            migrationBuilder.DropColumn(
                name: "cached_input_tokens",
                table: "usage_rollups");

            migrationBuilder.DropColumn(
                name: "purpose",
                table: "usage_rollups");

            migrationBuilder.DropColumn(
                name: "reasoning_tokens",
                table: "usage_rollups");

            migrationBuilder.DropColumn(
                name: "api_key_id",
                table: "usage_events");

            migrationBuilder.DropColumn(
                name: "cached_input_tokens",
                table: "usage_events");

            migrationBuilder.DropColumn(
                name: "purpose",
                table: "usage_events");

            migrationBuilder.DropColumn(
                name: "reasoning_tokens",
                table: "usage_events");

            migrationBuilder.DropColumn(
                name: "api_key_id",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "budget_scopes",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "budget_warning",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "reserved_cost",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "reserved_tokens",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "user_id",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ux_usage_rollups_dimensions",
                table: "usage_rollups",
                columns: new[] { "day", "user_id", "subject_type", "section", "provider_id", "model_id", "key_source", "status", "shard" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);
        }
    }
}
