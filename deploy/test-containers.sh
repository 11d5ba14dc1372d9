#!/usr/bin/env bash
# The containers, for real, on this machine (scripts/test runs this after the other tests): installs and configures
# Podman, builds the base image, the Postgres and Redis stand-ins and the service images (deploy/images/build.sh),
# runs the compose deployment's tests (tests/AiPrompts.Deploy.Tests, Category=Containers: two Api and two Worker
# replicas, a Worker SIGKILLed mid-job, an Api stopped mid-request, Postgres restarted), then removes every
# container, volume, network and image it made and checks that nothing is left. Extra arguments go to dotnet test.
# AIPROMPTS_KEEP_IMAGES=1 keeps the images (a second run then skips making the base and stand-ins).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

project=aiprompts_ci
results=${AIPROMPTS_TEST_STATE:-$root/.local/test}/containers
images=(localhost/aiprompts-api localhost/aiprompts-worker localhost/aiprompts-web localhost/aiprompts/base:bookworm
  localhost/aiprompts/postgres-standin:15 localhost/aiprompts/redis-standin:7)

leftovers() {
  local label="label=io.podman.compose.project=$project"
  { podman ps -aq --filter "$label"; podman volume ls -q --filter "$label"; podman network ls -q --filter "$label"; } 2>/dev/null
}

cleanup() {
  local ids
  ids=$(podman ps -aq --filter "label=io.podman.compose.project=$project" 2>/dev/null || true)
  [ -n "$ids" ] && podman rm -f -t 0 $ids >/dev/null 2>&1 || true
  ids=$(podman volume ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null || true)
  [ -n "$ids" ] && podman volume rm -f $ids >/dev/null 2>&1 || true
  ids=$(podman network ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null || true)
  [ -n "$ids" ] && podman network rm -f $ids >/dev/null 2>&1 || true
  if [ "${AIPROMPTS_KEEP_IMAGES:-}" != 1 ]; then
    local image tag
    for image in "${images[@]}"; do
      for tag in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$image" 2>/dev/null); do
        podman rmi -f "$tag" >/dev/null 2>&1 || true
      done
    done
    # Earlier builds' images that a newer one untagged.
    podman image prune -f --filter label=org.opencontainers.image.vendor=AiPrompts >/dev/null 2>&1 || true
  fi
  if [ -n "$(leftovers)" ]; then die "containers, volumes or networks of $project are still there: $(leftovers | tr '\n' ' ')"; fi
  if pgrep -f "docker-registry serve $root/.local/images" >/dev/null; then die "the image build's registry is still running"; fi
}
trap cleanup EXIT

ensure_podman
bash deploy/images/build.sh --standins

dotnet build tests/AiPrompts.Deploy.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build tests/AiPrompts.AppHost.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
mkdir -p "$results"
# The compose deployment, then the AppHost's containers mode (Aspire's Postgres and Redis under Podman).
status=0
for tests in AiPrompts.Deploy.Tests AiPrompts.AppHost.Tests; do
  log "testing the containers: tests/$tests, Category=Containers"
  AIPROMPTS_TEST_CONTAINERS=1 ASPIRE_CONTAINER_RUNTIME=podman dotnet test "tests/$tests" -c Release --no-build -nologo \
    --filter "Category=Containers" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=1
done
exit $status
