#!/usr/bin/env bash
# The README's first command, as a newcomer runs it: in a fresh clone of this repository, starts
# ./deploy/demo.sh (OAuth mode, then --uma), waits for its ready line, runs every curl example it
# printed with a status ("Permitted (200): curl ...", and the DPoP example's node script), in order, with the exports it printed,
# and checks each status; then stops the demo (SIGTERM: a script started in the background ignores
# SIGINT, and the demo traps both alike) and checks that it ended within 15 s and that nothing it
# started still runs or listens. Ports are moved (DEMO_*_PORT) to free ones so
# that it can run beside other tests. Exit 0 when all holds; the demo's output on failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/hearth-demo-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/clone"

source "$(dirname "$0")/lib.sh"

check_mode() { # MODE-FLAG
  local flag=$1 out="$work/demo$1.out" fhir auth oidc gw pid
  fhir=$(free_port); auth=$(free_port); oidc=$(free_port); gw=$(free_port)
  (cd "$work/clone" && DEMO_FHIR_PORT=$fhir DEMO_AUTH_PORT=$auth DEMO_OIDC_PORT=$oidc DEMO_GATEWAY_PORT=$gw DEMO_LOG_DIR="$work/logs$flag" \
    exec setsid ./deploy/demo.sh $flag) > "$out" 2>&1 &
  pid=$!
  local ready=false
  for _ in $(seq 1 900); do # the first run builds and fetches packages: up to 3 minutes
    if grep -q '^Hearth demo ready: ' "$out"; then ready=true; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if ! $ready; then
    echo "demo $flag: no ready line"; cat "$out"; kill -TERM "$pid" 2>/dev/null || true; return 1
  fi

  # The printed examples, in order: exports are run, "... (NNN): curl ..." lines checked.
  local script="$work/examples$flag.sh" checks=0 dpop=0
  echo 'set -u' > "$script"
  while IFS= read -r line; do
    if [[ $line =~ ^\ \ export\ [A-Z]+= ]]; then
      echo "${line#  }" >> "$script"
    elif [[ $line =~ \(([0-9]{3})\):\ +(curl\ .*)$ ]]; then
      local status=${BASH_REMATCH[1]} command=${BASH_REMATCH[2]}
      command=$(sed -E 's/ {2,}\(.*\)$//' <<< "$command")
      printf 'got=$(%s -o /dev/null -w "%%{http_code}"); [ "$got" = %s ] || { echo "expected %s, got $got: %s"; exit 1; }\n' \
        "$command" "$status" "$status" "${command//\"/\\\"}" >> "$script"
      checks=$((checks + 1))
    elif [[ $line =~ \(([0-9]{3})\):\ +(node\ [^ ]+/dpop-example\.mjs\ .*)$ ]]; then
      # The DPoP example prints the status of its read with --status.
      local status=${BASH_REMATCH[1]} command=${BASH_REMATCH[2]}
      printf 'got=$(%s --status); [ "$got" = %s ] || { echo "expected %s, got $got: %s"; exit 1; }\n' "$command" "$status" "$status" "$command" >> "$script"
      checks=$((checks + 1)); dpop=1
    fi
  done < "$out"
  if [ -z "$flag" ] && [ "$dpop" = 0 ]; then
    echo "demo: no DPoP example was printed"; cat "$out"; kill -TERM "$pid"; return 1
  fi
  if [ "$checks" -lt 4 ]; then
    echo "demo $flag: only $checks examples with a status were printed"; cat "$out"; kill -TERM "$pid"; return 1
  fi
  if ! bash "$script"; then
    echo "demo $flag: an example did not answer as printed"; cat "$out"; kill -TERM "$pid"; return 1
  fi

  # Library chatter stays at Warning (grains were placed by the examples): no Information line from Polly (Orleans' placement) or Orleans.
  if grep -E '^info: (Polly|Orleans|Microsoft\.Orleans)' "$out"; then
    echo "demo $flag: library information messages on the console"; kill -TERM "$pid"; return 1
  fi

  # Stopping: the demo stops what it started, within 15 s, and leaves nothing running or listening.
  local started=$SECONDS
  kill -TERM "$pid"
  for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo $flag: still running 15 s after SIGTERM"; kill -9 -- "-$pid" 2>/dev/null || true; return 1
  fi
  sleep 0.5
  local left; left=$(listening "$fhir" "$auth" "$oidc" "$gw")
  if [ -n "$left" ]; then
    echo "demo $flag: still listening after it stopped: $left"; return 1
  fi
  local running; running=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = "$work/clone" ] && echo "${p#/proc/} $(tr '\0' ' ' < "$p/cmdline")"; done || true)
  if [ -n "$running" ]; then
    echo "demo $flag: still running after it stopped: $running"; return 1
  fi
  echo "demo $flag: ready, $checks examples as printed, stopped in $((SECONDS - started)) s, nothing left listening"
}

check_mode ""
check_mode --uma
