#!/usr/bin/env bash
# Makes the secrets deploy/compose.yaml reads, once (an existing secret is never replaced):
#   deploy/.env       POSTGRES_PASSWORD, REDIS_PASSWORD (the environment compose interpolates)
#   deploy/secrets/   master-key (32 random bytes, base64), jwt-signing-key, admin-password (files, mode 600)
# Both are git-ignored. Keep a copy of master-key: without it no stored vendor key can be read.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
random() { head -c 64 /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"; }
umask 077
mkdir -p "$dir/secrets"
[ -s "$dir/secrets/master-key" ] || head -c 32 /dev/urandom | base64 | tr -d '\n' >"$dir/secrets/master-key"
[ -s "$dir/secrets/jwt-signing-key" ] || random 64 >"$dir/secrets/jwt-signing-key"
[ -s "$dir/secrets/admin-password" ] || random 24 >"$dir/secrets/admin-password"
touch "$dir/.env"
grep -q '^POSTGRES_PASSWORD=' "$dir/.env" || echo "POSTGRES_PASSWORD=$(random 32)" >>"$dir/.env"
grep -q '^REDIS_PASSWORD=' "$dir/.env" || echo "REDIS_PASSWORD=$(random 32)" >>"$dir/.env"
# The containers run as uid 1654 (and 999 or Debian's ids for the servers): let them read the files they mount.
chmod 644 "$dir"/secrets/*
echo "secrets in $dir/secrets and $dir/.env; the first admin signs in as admin@aiprompts.local with the password in $dir/secrets/admin-password" >&2
