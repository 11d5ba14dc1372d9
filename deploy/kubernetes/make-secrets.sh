#!/usr/bin/env bash
# Makes the files an overlay's secretGenerator reads, in deploy/kubernetes/overlays/OVERLAY/secrets/ (git-ignored),
# once (an existing file is never replaced):
#   external   master-key, jwt-signing-key, admin-password; then write promptsdb and redis yourself: the
#              connection strings of your managed Postgres (Npgsql form) and Redis (StackExchange.Redis form)
#   trial      the same, plus the in-cluster servers' passwords and the connection strings that use them
set -euo pipefail
overlay=${1:?usage: make-secrets.sh external|trial}
dir="$(cd "$(dirname "$0")" && pwd)/overlays/$overlay"
[ -f "$dir/kustomization.yaml" ] || { echo "no overlay $overlay (external, trial)" >&2; exit 1; }
random() { head -c 64 /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"; }
umask 077
mkdir -p "$dir/secrets"
write() { [ -s "$dir/secrets/$1" ] || printf '%s' "$2" >"$dir/secrets/$1"; }
write master-key "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
write jwt-signing-key "$(random 64)"
write admin-password "$(random 24)"
if [ "$overlay" = trial ]; then
  write postgres-password "$(random 32)"
  write redis-password "$(random 32)"
  write promptsdb "Host=postgres;Port=5432;Username=aiprompts;Password=$(cat "$dir/secrets/postgres-password");Database=aiprompts"
  write redis "redis:6379,password=$(cat "$dir/secrets/redis-password")"
else
  for name in promptsdb redis; do
    [ -s "$dir/secrets/$name" ] || echo "now write $dir/secrets/$name: the connection string of your $name" >&2
  done
fi
echo "secrets in $dir/secrets; keep a copy of master-key: without it no stored vendor key can be read" >&2
