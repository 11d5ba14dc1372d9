using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BudgetAdmissionAhead : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "budget_reservations",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    api_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    scopes = table.Column<int>(type: "integer", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: false),
                    tokens = table.Column<long>(type: "bigint", nullable: false),
                    warning = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("budget_reservations_pkey", x => x.job_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_budget_reservations_created",
                table: "budget_reservations",
                column: "created_at");

            // Admission ahead of the insert. Before, a job's insert passed its subject's gate (the hold row's lock) and kept
            // the lock until the job's transaction committed: one subject's submits queued behind each other's commit and its
            // WAL flush (about 210 a second for one user, whatever the number of Api instances). Now the Api admits each job
            // just before saving it, in a transaction of its own that ends at once: the gate's lock lasts microseconds, and
            // that commit does not wait for the WAL flush (synchronous_commit off, for that transaction only). It is durable
            // all the same whenever it matters: the job's own synchronous commit flushes the WAL up to and past it, and if the
            // job never commits, the reservation is given back (at once by the Api, or by the Worker's sweep after a crash).
            // A job inserted without a reservation (any other writer) is admitted by its insert, under the gate, as before.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION budget_admit(p_user uuid, p_api_key uuid, p_cost numeric, p_tokens bigint, p_at timestamptz,
                    OUT scopes int, OUT warning text) LANGUAGE plpgsql AS $$
                DECLARE
                    b record;
                    l record;
                    today date := (p_at AT TIME ZONE 'UTC')::date;
                    month_start date := date_trunc('month', p_at AT TIME ZONE 'UTC')::date;
                    held_cost numeric;
                    held_tokens bigint;
                    day_cost numeric;
                    month_cost numeric;
                    day_tokens bigint;
                    facts jsonb;
                BEGIN
                    scopes := 0;
                    FOR b IN
                        SELECT x.id, x.scope, x.cost_per_day, x.cost_per_month, x.tokens_per_day, x.soft_percent, 1 AS bit
                        FROM budgets x
                        WHERE (x.scope = 'user' AND x.user_id = p_user)
                           OR (x.scope = 'role' AND x.role = (SELECT u.role FROM users u WHERE u.id = p_user)
                               AND NOT EXISTS (SELECT 1 FROM budgets o WHERE o.scope = 'user' AND o.user_id = p_user))
                        UNION ALL
                        SELECT x.id, x.scope, x.cost_per_day, x.cost_per_month, x.tokens_per_day, x.soft_percent, 2
                        FROM budgets x WHERE x.scope = 'api_key' AND x.api_key_id = p_api_key
                        ORDER BY bit
                    LOOP
                        -- Shard 0 is the subject's gate: its row lock orders the subject's admissions until commit.
                        INSERT INTO budget_holds AS h (subject_kind, subject_id, shard, cost, tokens)
                        VALUES (CASE b.bit WHEN 1 THEN 'user' ELSE 'api_key' END, CASE b.bit WHEN 1 THEN p_user ELSE p_api_key END, 0,
                            p_cost, coalesce(p_tokens, 0))
                        ON CONFLICT (subject_kind, subject_id, shard) DO UPDATE SET cost = h.cost + excluded.cost, tokens = h.tokens + excluded.tokens;
                        SELECT sum(x.cost), sum(x.tokens) INTO held_cost, held_tokens FROM budget_holds x
                        WHERE x.subject_kind = CASE b.bit WHEN 1 THEN 'user' ELSE 'api_key' END
                          AND x.subject_id = CASE b.bit WHEN 1 THEN p_user ELSE p_api_key END;
                        scopes := scopes | b.bit;
                        IF b.bit = 1 THEN
                            SELECT coalesce(sum(r.cost) FILTER (WHERE r.day = today), 0), coalesce(sum(r.cost), 0),
                                   coalesce(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.day = today), 0)
                            INTO day_cost, month_cost, day_tokens
                            FROM usage_rollups r WHERE r.user_id = p_user AND r.day >= month_start AND r.day <= today;
                        ELSE
                            SELECT coalesce(sum(r.cost) FILTER (WHERE r.day = today), 0), coalesce(sum(r.cost), 0),
                                   coalesce(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.day = today), 0)
                            INTO day_cost, month_cost, day_tokens
                            FROM usage_rollups r WHERE r.api_key_id = p_api_key AND r.day >= month_start AND r.day <= today;
                        END IF;
                        FOR l IN
                            SELECT * FROM (VALUES
                                ('costPerDay', b.cost_per_day, day_cost + held_cost, p_cost, today + 1, 'day:' || to_char(today, 'YYYY-MM-DD')),
                                ('costPerMonth', b.cost_per_month, month_cost + held_cost, p_cost, (month_start + interval '1 month')::date, 'month:' || to_char(today, 'YYYY-MM')),
                                ('tokensPerDay', b.tokens_per_day::numeric, (day_tokens + held_tokens)::numeric, coalesce(p_tokens, 0)::numeric, today + 1, 'day:' || to_char(today, 'YYYY-MM-DD'))
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
                                warning := facts::text;
                                INSERT INTO budget_alerts (budget_id, period, limit_name, created_at) VALUES (b.id, l.period, l.name, p_at)
                                ON CONFLICT DO NOTHING;
                                IF FOUND THEN
                                    INSERT INTO audit_logs (id, actor_user_id, action, entity_type, entity_id, after, created_at)
                                    VALUES (gen_random_uuid(), p_user, 'budget.soft_limit_reached', 'budget', b.id::text, facts, p_at);
                                END IF;
                            END IF;
                        END LOOP;
                    END LOOP;
                END $$;

                -- What a job (or a reservation never taken over) gives back when it ends: on the releasing connection's shard
                -- (only the sum counts), never the gate, so a release waits neither for admissions nor for other releases.
                CREATE FUNCTION budget_give_back(p_user uuid, p_api_key uuid, p_scopes int, p_cost numeric, p_tokens bigint) RETURNS void
                LANGUAGE sql AS $$
                    INSERT INTO budget_holds AS h (subject_kind, subject_id, shard, cost, tokens)
                    SELECT s.kind, s.subject, 1 + pg_backend_pid() % 1024, -p_cost, -coalesce(p_tokens, 0)
                    FROM (VALUES ('user', p_user, 1), ('api_key', p_api_key, 2)) AS s(kind, subject, bit)
                    WHERE p_scopes & s.bit <> 0
                    ORDER BY s.bit
                    ON CONFLICT (subject_kind, subject_id, shard) DO UPDATE SET cost = h.cost + excluded.cost, tokens = h.tokens + excluded.tokens;
                $$;

                CREATE OR REPLACE FUNCTION budget_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM budget_give_back(OLD.user_id, OLD.api_key_id, OLD.budget_scopes, OLD.reserved_cost, OLD.reserved_tokens);
                    RETURN NULL;
                END $$;

                -- Called by the Api just before it saves a job (its own short transaction): admits the job, or raises AB001.
                CREATE FUNCTION budget_reserve_ahead(p_job uuid, p_user uuid, p_api_key uuid, p_cost numeric, p_tokens bigint, p_at timestamptz)
                RETURNS text LANGUAGE plpgsql AS $$
                DECLARE
                    a record;
                BEGIN
                    PERFORM set_config('synchronous_commit', 'off', true);
                    SELECT x.scopes, x.warning INTO a FROM budget_admit(p_user, p_api_key, p_cost, p_tokens, p_at) x;
                    IF a.scopes <> 0 THEN
                        INSERT INTO budget_reservations (job_id, user_id, api_key_id, scopes, cost, tokens, warning, created_at)
                        VALUES (p_job, p_user, p_api_key, a.scopes, p_cost, coalesce(p_tokens, 0), a.warning, p_at);
                    END IF;
                    RETURN a.warning;
                END $$;

                -- Gives back a reservation whose job was not saved; false when there is none (taken over, or never made).
                CREATE FUNCTION budget_reservation_cancel(p_job uuid) RETURNS boolean LANGUAGE plpgsql AS $$
                DECLARE
                    r record;
                BEGIN
                    DELETE FROM budget_reservations x WHERE x.job_id = p_job RETURNING x.* INTO r;
                    IF NOT FOUND THEN
                        RETURN false;
                    END IF;
                    PERFORM budget_give_back(r.user_id, r.api_key_id, r.scopes, r.cost, r.tokens);
                    RETURN true;
                END $$;

                -- The Worker's sweep: reservations made before p_before and still not taken over (their Api died between the
                -- admission and the insert). One being taken over right now is locked by that insert, and skipped.
                CREATE FUNCTION budget_reservations_expire(p_before timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
                DECLARE
                    r record;
                    n integer := 0;
                BEGIN
                    FOR r IN
                        DELETE FROM budget_reservations x WHERE x.job_id IN
                            (SELECT y.job_id FROM budget_reservations y WHERE y.created_at < p_before FOR UPDATE SKIP LOCKED)
                        RETURNING x.*
                    LOOP
                        PERFORM budget_give_back(r.user_id, r.api_key_id, r.scopes, r.cost, r.tokens);
                        n := n + 1;
                    END LOOP;
                    RETURN n;
                END $$;

                -- A job's insert takes over the reservation made for it (same user, key and amounts), else passes the gate itself.
                CREATE OR REPLACE FUNCTION budget_reserve() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    r record;
                BEGIN
                    DELETE FROM budget_reservations x
                    WHERE x.job_id = NEW.id AND x.user_id = NEW.user_id AND x.api_key_id IS NOT DISTINCT FROM NEW.api_key_id
                      AND x.cost = NEW.reserved_cost AND x.tokens = coalesce(NEW.reserved_tokens, 0)
                    RETURNING x.scopes, x.warning INTO r;
                    IF NOT FOUND THEN
                        SELECT a.scopes, a.warning INTO r FROM budget_admit(NEW.user_id, NEW.api_key_id, NEW.reserved_cost, NEW.reserved_tokens, NEW.created_at) a;
                    END IF;
                    NEW.budget_scopes := NEW.budget_scopes | r.scopes;
                    NEW.budget_warning := coalesce(r.warning, NEW.budget_warning);
                    RETURN NEW;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP FUNCTION budget_reservations_expire(timestamptz);
                DROP FUNCTION budget_reservation_cancel(uuid);
                DROP FUNCTION budget_reserve_ahead(uuid, uuid, uuid, numeric, bigint, timestamptz);
                CREATE OR REPLACE FUNCTION budget_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO budget_holds AS h (subject_kind, subject_id, shard, cost, tokens)
                    SELECT s.kind, s.subject, 1 + pg_backend_pid() % 8, -OLD.reserved_cost, -coalesce(OLD.reserved_tokens, 0)
                    FROM (VALUES ('user', OLD.user_id, 1), ('api_key', OLD.api_key_id, 2)) AS s(kind, subject, bit)
                    WHERE OLD.budget_scopes & s.bit <> 0
                    ORDER BY s.bit
                    ON CONFLICT (subject_kind, subject_id, shard) DO UPDATE SET cost = h.cost + excluded.cost, tokens = h.tokens + excluded.tokens;
                    RETURN NULL;
                END $$;
                DROP FUNCTION budget_give_back(uuid, uuid, int, numeric, bigint);
                """);
            // Every insert passes the gate again (budget_admit stays, as the body of budget_reserve).
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION budget_reserve() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    r record;
                BEGIN
                    SELECT a.scopes, a.warning INTO r FROM budget_admit(NEW.user_id, NEW.api_key_id, NEW.reserved_cost, NEW.reserved_tokens, NEW.created_at) a;
                    NEW.budget_scopes := NEW.budget_scopes | r.scopes;
                    NEW.budget_warning := coalesce(r.warning, NEW.budget_warning);
                    RETURN NEW;
                END $$;
                """);

            migrationBuilder.DropTable(
                name: "budget_reservations");
        }
    }
}
