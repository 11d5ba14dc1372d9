using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <summary>
    /// usage_events partitioned by month (native range partitioning on created_at, UTC months): a month's raw rows are one
    /// table, so retention drops whole months instead of deleting row by row, and reads of a time range touch only its
    /// months. Written by hand: EF Core does not model partitions (its model only learns the key, id with created_at).
    /// </summary>
    public partial class UsagePartitions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                -- The raw rows move to a table partitioned by month (UTC) of created_at. The rollups already hold their totals,
                -- so the rollup trigger is dropped while the rows are copied and made again on the new table.
                DROP TRIGGER usage_events_rollup ON usage_events;
                ALTER TABLE usage_events RENAME TO usage_events_unpartitioned;
                ALTER INDEX usage_events_pkey RENAME TO usage_events_unpartitioned_pkey;
                ALTER INDEX ix_usage_events_created RENAME TO ix_usage_events_unpartitioned_created;
                ALTER INDEX ix_usage_events_user RENAME TO ix_usage_events_unpartitioned_user;
                ALTER INDEX ix_usage_events_api_key RENAME TO ix_usage_events_unpartitioned_api_key;
                ALTER INDEX ux_usage_events_attempt RENAME TO ux_usage_events_unpartitioned_attempt;

                CREATE TABLE usage_events (LIKE usage_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (created_at);
                -- A unique index on a partitioned table must contain the partition key: the id (a UUIDv7, itself from the time)
                -- with created_at. One row per job attempt is unique within each partition (ux_<partition>_attempt); across
                -- months the job's fence already allows one outcome per attempt.
                ALTER TABLE usage_events ADD CONSTRAINT usage_events_pkey PRIMARY KEY (id, created_at);
                ALTER TABLE usage_events ADD CONSTRAINT usage_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
                CREATE INDEX ix_usage_events_created ON usage_events (created_at DESC);
                CREATE INDEX ix_usage_events_user ON usage_events (user_id, created_at DESC);
                CREATE INDEX ix_usage_events_api_key ON usage_events (api_key_id, created_at DESC) WHERE api_key_id IS NOT NULL;
                -- Rows of a month that has no partition yet (a clock far off, a Worker stopped for months) land here, never fail;
                -- making that month's partition moves them into it.
                CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT;
                CREATE UNIQUE INDEX ux_usage_events_default_attempt ON usage_events_default (job_id, attempt) WHERE job_id IS NOT NULL;

                -- The partition of the month of p_month, made if missing (usage_events_pYYYYMM), with the rows of that month
                -- that went to the default partition meanwhile moved into it. Safe to call from several places at once.
                CREATE FUNCTION usage_events_partition(p_month date) RETURNS text LANGUAGE plpgsql AS $$
                DECLARE
                    first date := date_trunc('month', p_month)::date;
                    name text := 'usage_events_p' || to_char(first, 'YYYYMM');
                    lo timestamptz := first::timestamp AT TIME ZONE 'UTC';
                    hi timestamptz := (first + interval '1 month')::timestamp AT TIME ZONE 'UTC';
                BEGIN
                    IF to_regclass(name) IS NOT NULL THEN
                        RETURN name;
                    END IF;
                    PERFORM pg_advisory_xact_lock(hashtext('usage_events_partition'));
                    IF to_regclass(name) IS NOT NULL THEN
                        RETURN name;
                    END IF;
                    EXECUTE format('CREATE TABLE %I (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
                    EXECUTE format('WITH moved AS (DELETE FROM usage_events_default WHERE created_at >= %L AND created_at < %L RETURNING *) '
                        'INSERT INTO %I SELECT * FROM moved', lo, hi, name);
                    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (job_id, attempt) WHERE job_id IS NOT NULL', 'ux_' || name || '_attempt', name);
                    EXECUTE format('ALTER TABLE usage_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
                    RETURN name;
                END $$;

                -- The partitions of the month of p_from and the p_ahead months after it (the Worker's sweep keeps two ahead).
                CREATE FUNCTION usage_events_ensure_partitions(p_from timestamptz, p_ahead int) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM usage_events_partition((date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i))::date)
                    FROM generate_series(0, p_ahead) AS i;
                END $$;

                -- Retention: drops the month partitions that end on or before p_before (no row of theirs is kept); answers how
                -- many rows they held. The month p_before falls in is left to a batched delete.
                CREATE FUNCTION usage_events_drop_partitions(p_before timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
                DECLARE
                    p record;
                    n bigint;
                    total bigint := 0;
                BEGIN
                    FOR p IN
                        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'usage_events'::regclass AND c.relname ~ '^usage_events_p[0-9]{6}$'
                          AND (to_date(substr(c.relname, 15), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' <= p_before
                        ORDER BY c.relname
                    LOOP
                        EXECUTE format('SELECT count(*) FROM %I', p.relname) INTO n;
                        EXECUTE format('DROP TABLE %I', p.relname);
                        total := total + n;
                    END LOOP;
                    RETURN total;
                END $$;

                SELECT usage_events_partition(m) FROM (SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS m FROM usage_events_unpartitioned) x;
                SELECT usage_events_ensure_partitions(now(), 2);
                INSERT INTO usage_events SELECT * FROM usage_events_unpartitioned;
                DROP TABLE usage_events_unpartitioned;

                CREATE TRIGGER usage_events_rollup AFTER INSERT ON usage_events
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_add();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER usage_events_rollup ON usage_events;
                ALTER TABLE usage_events RENAME TO usage_events_partitioned;
                ALTER INDEX usage_events_pkey RENAME TO usage_events_partitioned_pkey;
                ALTER INDEX ix_usage_events_created RENAME TO ix_usage_events_partitioned_created;
                ALTER INDEX ix_usage_events_user RENAME TO ix_usage_events_partitioned_user;
                ALTER INDEX ix_usage_events_api_key RENAME TO ix_usage_events_partitioned_api_key;
                CREATE TABLE usage_events (LIKE usage_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
                ALTER TABLE usage_events ADD CONSTRAINT usage_events_pkey PRIMARY KEY (id);
                ALTER TABLE usage_events ADD CONSTRAINT usage_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
                CREATE INDEX ix_usage_events_created ON usage_events (created_at DESC);
                CREATE INDEX ix_usage_events_user ON usage_events (user_id, created_at DESC);
                CREATE INDEX ix_usage_events_api_key ON usage_events (api_key_id, created_at DESC) WHERE api_key_id IS NOT NULL;
                CREATE UNIQUE INDEX ux_usage_events_attempt ON usage_events (job_id, attempt) WHERE job_id IS NOT NULL;
                INSERT INTO usage_events SELECT * FROM usage_events_partitioned;
                DROP TABLE usage_events_partitioned;
                DROP FUNCTION usage_events_drop_partitions(timestamptz);
                DROP FUNCTION usage_events_ensure_partitions(timestamptz, int);
                DROP FUNCTION usage_events_partition(date);
                CREATE TRIGGER usage_events_rollup AFTER INSERT ON usage_events
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_add();
                """);
        }
    }
}
