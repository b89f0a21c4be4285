#!/usr/bin/env bash
# Runs .ci/run the way CI does on a new machine: in a fresh clone of the committed
# HEAD, after removing everything the tests and the build cache between runs.
#
#   bash scripts/ci-from-scratch.sh               # clean, then .ci/run in a fresh clone
#   bash scripts/ci-from-scratch.sh --keep-store  # keep pnpm's package store (faster install)
#
# Removed: the test images and their tags (gatehouse-test-*, gatehouse-e2e-*, and any
# other image whose repository starts with gatehouse) and containers made from them,
# the engine's dangling images and BuildKit build cache (all of it: BuildKit does not
# record which project a cache record came from), rootfs and temporary directories under $TMPDIR
# (mounts inside them first), the project's `.gatehouse/` state, node_modules, dist/ and
# turbo caches (the fresh clone has none), and pnpm's store unless --keep-store.
# Kept: Debian packages and the running dockerd (a new CI machine installs and starts
# them in .ci/run, which this script runs). Uncommitted changes are not tested: commit first.
# Prints the wall time of each phase; exits with .ci/run's status.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="${TMPDIR:-/tmp}"
keep_store=0
for arg in "$@"; do
  case "$arg" in
    --keep-store) keep_store=1 ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "ci-from-scratch: unknown option $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

t_all=$(date +%s)
phase_start=$t_all
phase() {
  local now
  now=$(date +%s)
  printf '[from-scratch] %-28s %4ss\n' "$1" "$((now - phase_start))" >&2
  phase_start=$now
}

if [ -n "$(git -C "$repo" status --porcelain)" ]; then
  echo "[from-scratch] note: uncommitted changes are not part of this run (it clones HEAD)" >&2
fi

# 1. Docker: test images, their tags, containers, build cache.
if command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then
  docker ps -a --format '{{.ID}} {{.Image}}' | awk '$2 ~ /^gatehouse/ {print $1}' | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^gatehouse' | xargs -r docker image rm -f >/dev/null 2>&1 || true
  docker image prune -f >/dev/null 2>&1 || true
  docker builder prune -af >/dev/null 2>&1 || true
  left=$(docker image ls --format '{{.Repository}}' | grep -cE '^gatehouse' || true)
  if [ "$left" != 0 ]; then
    echo "[from-scratch] could not remove $left gatehouse image(s): a container may use them" >&2
    exit 1
  fi
fi
phase "docker images and cache"

# 2. Temporary directories the tests and image builds make (unmount first: a killed
# debootstrap can leave /proc mounted in its rootfs).
awk '{print $2}' /proc/self/mounts | grep -E "^$tmp/(gatehouse|gh-)" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
find "$tmp" -maxdepth 1 \( -name 'gatehouse-*' -o -name 'gh-*' -o -name 'ci-from-scratch.*' \) ! -name 'gatehouse-dockerd.log' -exec rm -rf {} + 2>/dev/null || true
phase "temporary directories"

# 3. pnpm's store (a new machine downloads every package).
if [ "$keep_store" = 0 ] && command -v pnpm >/dev/null 2>&1; then
  store=$(cd "$repo" && pnpm store path 2>/dev/null || true)
  [ -n "$store" ] && rm -rf "$store"
fi
phase "pnpm store"

# 4. A fresh clone: no node_modules, dist/, .turbo or .gatehouse/ state.
work=$(mktemp -d "$tmp/ci-from-scratch.XXXXXX")
git clone --quiet --no-local "$repo" "$work/gatehouse"
mkdir -p "$work/shared"
[ -d "$repo/../shared" ] && cp -r "$repo/../shared/." "$work/shared/"
phase "fresh clone"

status=0
(cd "$work/gatehouse" && CI=true bash .ci/run) || status=$?
phase ".ci/run (see its phases above)"
printf '[from-scratch] total %ss, .ci/run exit %s\n' "$(($(date +%s) - t_all))" "$status" >&2
if [ "$status" = 0 ]; then rm -rf "$work"; else echo "[from-scratch] kept $work for inspection" >&2; fi
exit "$status"
