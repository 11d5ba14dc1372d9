#!/usr/bin/env bash
# Builds the images of the services with the .NET SDK's container support (no Dockerfile) into Podman, on a
# base image made here from Debian's own packages, for a machine that reaches no public image registry.
# (With one, `dotnet publish Api -t:PublishContainer` alone builds on Microsoft's runtime image: README, "Deploy".)
#
#   deploy/images/build.sh              base (once) + aiprompts-api, aiprompts-worker and aiprompts-web
#   deploy/images/build.sh --standins   also Postgres and Redis stand-ins from Debian's packages (compose.standins.yaml)
#   deploy/images/build.sh --rebuild    make the base (and stand-ins) again even if Podman has them
#
# The base is pushed to a registry on loopback (Debian's docker-registry) for the SDK to read, and the
# registry is stopped again at the end. AIPROMPTS_REGISTRY (default 127.0.0.1:5000) chooses its address.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. scripts/lib.sh

standins=false rebuild=false
for arg in "$@"; do
  case $arg in
    --standins) standins=true ;;
    --rebuild) rebuild=true ;;
    *) die "unknown argument $arg (--standins, --rebuild)" ;;
  esac
done

registry=${AIPROMPTS_REGISTRY:-127.0.0.1:5000}
state="$root/.local/images"
base=localhost/aiprompts/base:bookworm
mkdir -p "$state"
ensure_podman

# debootstrap_image IMAGE PACKAGES CHANGES...: a minimal Debian bookworm with PACKAGES, imported into Podman.
debootstrap_image() {
  local image=$1 packages=$2 tar
  shift 2
  if ! $rebuild && podman image exists "$image"; then log "$image is already in Podman"; return 0; fi
  tar="$state/$(echo "$image" | tr '/:' '__').tar"
  log "making $image from Debian's packages (mmdebstrap: $packages)"
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook='chroot "$1" useradd --uid 1654 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin app' \
    --customize-hook='mkdir -p "$1/app" && chown 1654:1654 "$1/app"' \
    "${hooks[@]}" \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/*' \
    bookworm "$tar"
  local args=()
  for change in "$@"; do args+=(--change "$change"); done
  podman import --quiet "${args[@]}" "$tar" "$image" >/dev/null
  rm -f "$tar"
}

hooks=()
debootstrap_image "$base" ca-certificates,libicu72,libssl3,tzdata \
  'USER 1654' 'WORKDIR /app' 'ENV LANG=C.UTF-8' \
  'LABEL org.opencontainers.image.description=Debian bookworm (minbase) with what .NET needs, from Debian packages'

if $standins; then
  # Same interface as the public postgres and redis images for what compose.yaml uses (POSTGRES_* variables,
  # PGDATA, pg_isready; redis-server and redis-cli on PATH, /data).
  hooks=(--customize-hook='upload deploy/images/standins/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint'
    --customize-hook='chmod 755 "$1/usr/local/bin/postgres-entrypoint"'
    --customize-hook='mkdir -p "$1/var/lib/postgresql/data" && chroot "$1" chown -R postgres:postgres /var/lib/postgresql')
  debootstrap_image localhost/aiprompts/postgres-standin:15 postgresql-15,ca-certificates \
    'USER postgres' 'ENV PGDATA=/var/lib/postgresql/data' 'ENV PGHOST=/tmp' 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
    'ENV LANG=C.UTF-8' 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' 'CMD ["postgres"]' 'EXPOSE 5432' \
    'LABEL org.opencontainers.image.description=PostgreSQL 15 from Debian packages, standing in for the public postgres image'
  hooks=(--customize-hook='mkdir -p "$1/data" && chroot "$1" chown redis:redis /data')
  debootstrap_image localhost/aiprompts/redis-standin:7 redis-server \
    'USER redis' 'WORKDIR /data' 'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]' 'EXPOSE 6379' \
    'LABEL org.opencontainers.image.description=Redis 7 from Debian packages, standing in for the public redis image'
fi

# The SDK reads its base image from a registry: push the base to one on loopback for the length of the build.
trap 'stop_registry "$state/registry"' EXIT
start_registry "$state/registry" "$registry"
podman push --quiet --tls-verify=false "$base" "$registry/aiprompts/base:bookworm" >/dev/null

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
source_url=$(git config --get remote.origin.url 2>/dev/null || echo "file://$root")
for project in Api Worker Web; do
  log "publishing the $project image (dotnet publish -t:PublishContainer, revision ${revision:0:12})"
  DOTNET_CONTAINER_INSECURE_REGISTRIES=$registry dotnet publish "$project" -c Release -r linux-x64 --self-contained \
    -t:PublishContainer -p:ContainerBaseImage="$registry/aiprompts/base:bookworm" -p:LocalRegistry=Podman \
    -p:SourceRevisionId="$revision" -p:RepositoryUrl="$source_url" -nologo -v quiet -clp:ErrorsOnly
done
podman images --filter reference='localhost/aiprompts*' --format '{{.Repository}}:{{.Tag}}  {{.Size}}' >&2
