#!/usr/bin/env bash
# redis-server for the AppHost's executables mode, started by DCP: 127.0.0.1:$REDIS_PORT in the foreground,
# no persistence (Redis holds no only-copy of anything here). The password is passed on standard input as
# configuration, so it never appears in a process list.
set -euo pipefail
: "${AIPROMPTS_DATA:?}" "${REDIS_PORT:?}" "${REDIS_PASSWORD:?}"
command -v redis-server >/dev/null || { echo "redis-server is not installed: apt-get install redis-server (scripts/run does it)" >&2; exit 1; }
mkdir -p "$AIPROMPTS_DATA/redis"
printf 'requirepass %s\n' "$REDIS_PASSWORD" | exec redis-server - --bind 127.0.0.1 --port "$REDIS_PORT" \
  --dir "$AIPROMPTS_DATA/redis" --save "" --appendonly no
