# Shared by scripts/run and scripts/test: install and start private Postgres and Redis servers on
# loopback, under a git-ignored folder, never the system services. Sourced, not run.

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin_dir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

# Installs what is missing from Debian's packages: PostgreSQL, redis-server, curl.
ensure_packages() {
  local missing=()
  pg_bin_dir >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  command -v npm >/dev/null || missing+=(nodejs npm) # the official OpenAI SDK's client in the tests
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required (dotnet was not found on PATH)"
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The Debian package starts system services; ours are private, so those are left alone.
}

# Debian's chromium for the console's browser tests (Playwright drives it; browsers are never downloaded), with fonts
# for the console's Thai and Korean (Persian and Arabic are in the default fonts).
ensure_browser() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  [ -d /usr/share/fonts/truetype/tlwg ] || missing+=(fonts-thai-tlwg)
  [ -d /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Postgres refuses to run as root: as root, run it as the 'postgres' account the package creates.
pg_user_prefix() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home postgres
    echo "runuser -u postgres --"
  fi
}

random_secret() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c "${1:-40}"; }

# Where a cluster for DIR lives: DIR itself, or (when the postgres account cannot reach DIR, as under
# /root) a private folder in /tmp whose path is recorded in DIR/pg.location.
pg_home() {
  local dir=$1
  if [ -f "$dir/pg.location" ]; then cat "$dir/pg.location"; else echo "$dir"; fi
}

# pg_init_cluster DIR PASSWORD: makes the cluster of DIR (superuser 'aiprompts') if it has none, and prints
# where it lives: DIR itself, or a folder in /tmp when the postgres account cannot reach DIR.
pg_init_cluster() {
  local dir=$1 password=$2 bin run home
  bin=$(pg_bin_dir) || die "PostgreSQL binaries not found"
  run=$(pg_user_prefix)
  mkdir -p "$dir"
  home=$(pg_home "$dir")
  if [ -n "$run" ] && [ "$home" = "$dir" ]; then
    chown postgres "$dir"
    if ! $run test -w "$dir"; then
      home=$(mktemp -d /tmp/aiprompts-pg.XXXXXX)
      chown postgres "$home"
      echo "$home" > "$dir/pg.location"
      log "the postgres account cannot reach $dir; keeping this cluster in $home"
    fi
  fi
  if [ ! -f "$home/pgdata/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster in $home/pgdata"
    printf '%s\n' "$password" > "$home/pwfile"
    [ -n "$run" ] && chown postgres "$home/pwfile"
    $run "$bin/initdb" -D "$home/pgdata" -U aiprompts --pwfile="$home/pwfile" --auth-host=scram-sha-256 --auth-local=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$home/pwfile"
  fi
  echo "$home"
}

# start_postgres DIR PORT PASSWORD: a cluster listening on 127.0.0.1:PORT only (PG_OPTIONS: more server options).
start_postgres() {
  local dir=$1 port=$2 password=$3 bin run home
  bin=$(pg_bin_dir) || die "PostgreSQL binaries not found"
  run=$(pg_user_prefix)
  home=$(pg_init_cluster "$dir" "$password")
  if $run "$bin/pg_ctl" -D "$home/pgdata" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$port"
    return 0
  fi
  log "starting PostgreSQL on 127.0.0.1:$port"
  $run "$bin/pg_ctl" -D "$home/pgdata" -l "$home/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $home -c max_connections=300 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB ${PG_OPTIONS:-}" \
    start >/dev/null || { tail -20 "$home/postgres.log" >&2; die "PostgreSQL did not start"; }
}

stop_postgres() {
  local dir=$1 bin run home
  bin=$(pg_bin_dir) || return 0
  run=$(pg_user_prefix)
  home=$(pg_home "$dir")
  [ -f "$home/pgdata/postmaster.pid" ] && $run "$bin/pg_ctl" -D "$home/pgdata" -m fast -w stop >/dev/null 2>&1 || true
}

# remove_postgres DIR: stops the cluster and deletes it, wherever it lives.
remove_postgres() {
  local dir=$1 home
  stop_postgres "$dir"
  home=$(pg_home "$dir")
  [ "$home" != "$dir" ] && rm -rf "$home"
  rm -rf "$dir"
}

# start_redis DIR PORT PASSWORD
start_redis() {
  local dir=$1 port=$2 password=$3
  mkdir -p "$dir"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    log "Redis already running on 127.0.0.1:$port"
    return 0
  fi
  log "starting Redis on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --save "" --appendonly no --requirepass "$password" >/dev/null
  local i
  for i in $(seq 1 50); do
    REDISCLI_AUTH="$password" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  tail -20 "$dir/redis.log" >&2
  die "Redis did not start"
}

stop_redis() {
  local dir=$1
  if [ -f "$dir/redis.pid" ]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    rm -f "$dir/redis.pid"
  fi
}

# wait_http URL SECONDS
wait_http() {
  local url=$1 seconds=$2 i
  for i in $(seq 1 $((seconds * 5))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# Podman from Debian's packages, configured for this kind of host by a drop-in (the operator's own
# containers.conf is left alone): runc, since crun cannot run on hybrid cgroups, and ulimits within the
# host's hard limits (podman's defaults exceed them). Also mmdebstrap (base images from Debian's packages),
# Debian's docker-registry (a loopback registry for the SDK's container publishing), podman-compose, and the
# CNI plugin that lets a compose project's containers find each other by name.
ensure_podman() {
  local missing=() tool
  for tool in podman:podman runc:runc podman-compose:podman-compose mmdebstrap:mmdebstrap docker-registry:docker-registry; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
  done
  # Containers of a compose project find each other by name: CNI's dnsname plugin.
  [ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >/dev/null
  fi
  local conf=/etc/containers/containers.conf.d/50-aiprompts.conf
  if [ ! -f "$conf" ]; then
    log "configuring Podman ($conf: runtime runc, ulimits within the host's limits)"
    as_root mkdir -p "$(dirname "$conf")"
    printf '%s\n' '[containers]' 'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]' '[engine]' 'runtime = "runc"' |
      as_root tee "$conf" >/dev/null
  fi
}

# start_registry DIR ADDRESS: Debian's docker-registry serving DIR on ADDRESS (host:port, loopback), no auth.
start_registry() {
  local dir=$1 address=$2
  mkdir -p "$dir/storage"
  if [ -f "$dir/registry.pid" ] && kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then return 0; fi
  cat >"$dir/config.yml" <<CONF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $dir/storage }, delete: { enabled: true } }
http: { addr: $address }
CONF
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  wait_http "http://$address/v2/" 30 || { tail -20 "$dir/registry.log" >&2; die "the registry did not start on $address"; }
}

stop_registry() {
  local dir=$1
  if [ -f "$dir/registry.pid" ]; then
    kill "$(cat "$dir/registry.pid")" 2>/dev/null || true
    rm -f "$dir/registry.pid"
  fi
}
