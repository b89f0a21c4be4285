#!/usr/bin/env bash
# Runs the unit suite (`pnpm test:unit`: core, report and runner) on every other Node
# version Gatehouse supports: 22 (from tools/gitlab-ci-local) and 24 (tools/node24). The
# full suite runs on the machine's Node 20. Each Node is first on PATH, so the processes the
# tests start run on it too. Needs `bash scripts/setup.sh --system` first.
set -euo pipefail
cd "$(dirname "$0")/.."
# The shared test images copy the host's node and pnpm; the full suite has made them with
# Node 20. The few unit tests that need an image make it when they ask.
export GATEHOUSE_TEST_IMAGES=lazy
status=0
for bin in tools/gitlab-ci-local/node_modules/.bin tools/node24/node_modules/.bin; do
  node="$bin/node"
  if [ ! -x "$node" ]; then
    echo "[node-versions] $node is missing: run bash scripts/setup.sh --system" >&2
    exit 2
  fi
  version=$("$node" --version)
  echo "[node-versions] unit suite on Node $version" >&2
  if ! PATH="$PWD/$bin:$PATH" "$node" node_modules/vitest/vitest.mjs run packages/core packages/report packages/runner; then
    echo "[node-versions] unit suite FAILED on Node $version" >&2
    status=1
  fi
done
exit $status
