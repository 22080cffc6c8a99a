#!/usr/bin/env bash
# `make demo`: start a simulated Coder deployment, apply the quickstart batch, apply it again
# (nothing changes the second time), show the tasks; then do the same, with the same manifest,
# on a simulated current release (v2.38), which serves only Coder Agents (Chats).
set -euo pipefail
cd "$(dirname "$0")/.."

logs=()
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -f "${logs[@]}"
}
trap cleanup EXIT

# start_sim [ARGS...]: start `tasks sim ARGS` and export its CODER_URL and CODER_SESSION_TOKEN.
start_sim() {
  local log
  log=$(mktemp)
  logs+=("$log")
  tasks sim --port 0 --time-scale 0.1 "$@" >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    [ "$(grep -c '^CODER_' "$log")" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  export CODER_URL CODER_SESSION_TOKEN
  CODER_URL=$(sed -n 's/^CODER_URL=//p' "$log")
  CODER_SESSION_TOKEN=$(sed -n 's/^CODER_SESSION_TOKEN=//p' "$log")
}

batch=examples/quickstart.tasks.yaml
apply_twice() {
  echo
  echo "==> tasks apply $batch --yes"
  tasks apply "$batch" --yes --idle-grace 1s --poll-interval 0.5s
  echo
  echo "==> tasks apply $batch --yes   (again: nothing to change)"
  tasks apply "$batch" --yes --idle-grace 1s --poll-interval 0.5s
  echo
  echo "==> tasks list"
  tasks list
}

start_sim
echo "==> Simulated Coder deployment at $CODER_URL (nothing here is real)"
echo
echo "==> tasks validate $batch"
tasks validate "$batch"
apply_twice

echo
start_sim --coder-version 2.38.0
echo "==> Simulated Coder v2.38 at $CODER_URL: no Tasks, only Coder Agents (Chats)"
apply_twice
echo
echo "==> stopping the simulated deployments"
