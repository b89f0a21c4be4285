#!/usr/bin/env bash
# Sets up a fresh clone: pnpm and Yarn classic (pinned), dependencies, the remote cache server of the tests
# (tools/turborepo-remote-cache), build.
#   bash scripts/setup.sh            # Node side only
#   bash scripts/setup.sh --system   # also Debian packages (docker.io, docker-registry, groovy, chromium, rsync), a running
#                                    # dockerd, tools/gitlab-ci-local (the GitLab CI oracle, with Node 22)
#                                    # and tools/node24 (Node 24, for the unit suite on the newest Node)
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.8
# Yarn classic, for the yarn workspace fixture of the verdict-equivalence suite (its own scripts
# and gates run `yarn`; the Docker test image copies this install).
YARN_VERSION=1.22.22

log() { printf '[setup] %s\n' "$*" >&2; }

# The registries' bad minutes should cost a retry, not the run: npm and pnpm give up on a
# stalled request after a minute and retry a failed fetch up to 6 times; apt retries 3 times.
export npm_config_fetch_timeout="${npm_config_fetch_timeout:-60000}"
export npm_config_fetch_retries="${npm_config_fetch_retries:-6}"
export npm_config_fetch_retry_maxtimeout="${npm_config_fetch_retry_maxtimeout:-120000}"
APT_RETRY=(-o Acquire::Retries=3)

if [ "${1:-}" = "--system" ]; then
  need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v groovy >/dev/null 2>&1 || need+=(groovy)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -x /bin/busybox ] || need+=(busybox-static)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  [ -x /usr/bin/time ] || need+=(time)
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  command -v rsync >/dev/null 2>&1 || need+=(rsync)
  # `ip`: the Docker cache tests give a second engine its own bridge.
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  # A container registry: the CI targets' registry build cache is run against it.
  command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    apt-get "${APT_RETRY[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_RETRY[@]}" install -y -qq "${need[@]}" >/dev/null
  fi
  bash scripts/start-dockerd.sh
  # gitlab-ci-local and the Node 22 it needs, in their own folder outside the pnpm workspace.
  if [ ! -x tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local ] || [ ! -x tools/gitlab-ci-local/node_modules/.bin/node ]; then
    log "installing tools/gitlab-ci-local"
    (cd tools/gitlab-ci-local && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if [ ! -x tools/node24/node_modules/.bin/node ]; then
    log "installing tools/node24"
    (cd tools/node24 && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  log "installing pnpm@$PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
if ! command -v yarn >/dev/null 2>&1 || [ "$(yarn --version)" != "$YARN_VERSION" ]; then
  log "installing yarn@$YARN_VERSION"
  # yarn's preinstall script only removes old Windows installs: npm 11 skips it, and says so.
  npm install -g "yarn@$YARN_VERSION" --loglevel=error >/dev/null
fi
log "installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
# The remote cache server of the runner's tests, in its own folder outside the pnpm workspace.
if [ ! -f tools/turborepo-remote-cache/node_modules/turborepo-remote-cache/dist/cli.js ]; then
  log "installing tools/turborepo-remote-cache"
  (cd tools/turborepo-remote-cache && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
log "building"
pnpm run build >/dev/null
log "ready"
