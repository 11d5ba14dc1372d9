#!/usr/bin/env bash
# PostgreSQL for the AppHost's executables mode, started by DCP: a private cluster under
# $AIPROMPTS_DATA/postgres serving 127.0.0.1:$PGPORT in the foreground, so its log is the resource's log in
# the dashboard and stopping the resource stops it. The role's password follows the AppHost's parameter
# (POSTGRES_PASSWORD) and the database promptsdb is made once.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
: "${AIPROMPTS_DATA:?}" "${PGPORT:?}" "${POSTGRES_PASSWORD:?}"
bin=$(pg_bin_dir) || die "PostgreSQL is not installed: apt-get install postgresql (scripts/run does it)"
run=$(pg_user_prefix)
home=$(pg_init_cluster "$AIPROMPTS_DATA/postgres" "$POSTGRES_PASSWORD")

# A server left behind by a killed AppHost still owns the data folder: stop it first.
$run "$bin/pg_ctl" -D "$home/pgdata" status >/dev/null 2>&1 && $run "$bin/pg_ctl" -D "$home/pgdata" -m fast -w stop >/dev/null

configure() {
  for _ in $(seq 1 300); do
    if $run "$bin/pg_isready" -q -h "$home" -p "$PGPORT"; then
      $run "$bin/psql" -h "$home" -p "$PGPORT" -U aiprompts -d postgres -qAt -v ON_ERROR_STOP=1 -v pw="$POSTGRES_PASSWORD" <<'SQL'
ALTER ROLE aiprompts PASSWORD :'pw';
SELECT 'CREATE DATABASE promptsdb' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'promptsdb')\gexec
SQL
      echo "PostgreSQL is ready on 127.0.0.1:$PGPORT (database promptsdb)"
      return 0
    fi
    sleep 0.2
  done
  echo "PostgreSQL did not accept connections within a minute" >&2
}

stop() { $run "$bin/pg_ctl" -D "$home/pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 || true; }
trap stop TERM INT

$run "$bin/postgres" -D "$home/pgdata" -c listen_addresses=127.0.0.1 -p "$PGPORT" -k "$home" -c max_connections=300 &
server=$!
configure &
wait "$server" || true
wait "$server" 2>/dev/null || true
