#!/usr/bin/env bash
# `make demo`: start a simulated Coder deployment, apply the quickstart batch, apply it again
# (nothing changes the second time), show the tasks, then stop the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
tasks sim --port 0 --time-scale 0.1 >"$log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  [ "$(grep -c '^CODER_' "$log")" -ge 2 ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
export CODER_URL CODER_SESSION_TOKEN
CODER_URL=$(sed -n 's/^CODER_URL=//p' "$log")
CODER_SESSION_TOKEN=$(sed -n 's/^CODER_SESSION_TOKEN=//p' "$log")
echo "==> Simulated Coder deployment at $CODER_URL (nothing here is real)"

batch=examples/quickstart.tasks.yaml
echo
echo "==> tasks validate $batch"
tasks validate "$batch"
echo
echo "==> tasks apply $batch --yes"
tasks apply "$batch" --yes --idle-grace 1s --poll-interval 0.5s
echo
echo "==> tasks apply $batch --yes   (again: nothing to change)"
tasks apply "$batch" --yes --idle-grace 1s --poll-interval 0.5s
echo
echo "==> tasks list"
tasks list
echo
echo "==> stopping the simulated deployment"
