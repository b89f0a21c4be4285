#!/usr/bin/env bash
# Starts dockerd (as root) unless an engine already answers, and waits for its socket.
set -euo pipefail
if docker version >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "[dockerd] no Docker engine answers and this user cannot start one" >&2
  exit 1
fi
echo "[dockerd] starting" >&2
nohup dockerd >/tmp/gatehouse-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker version >/dev/null 2>&1; then echo "[dockerd] ready" >&2; exit 0; fi
  sleep 1
done
echo "[dockerd] did not start; see /tmp/gatehouse-dockerd.log" >&2
tail -20 /tmp/gatehouse-dockerd.log >&2 || true
exit 1
