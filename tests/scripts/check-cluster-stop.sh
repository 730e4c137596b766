#!/usr/bin/env bash
# deploy/cluster.sh as a user runs it: starts the local cluster (Redis, two silos, two gateways)
# on free ports, reads a resource through a gateway, then stops it (SIGTERM, what Ctrl-C's trap
# does) and checks that it ended within 15 s, in order (gateways, silos, Redis last: no
# TaskCanceledException in the silo logs), and that nothing it started still runs or listens.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/hearth-cluster-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"

declare -A port
for name in REDIS FHIR AUTH GATEWAY1 GATEWAY2 SILO1 SILO2 SILO1_GATEWAY SILO2_GATEWAY; do port[$name]=$(free_port); done
out="$work/cluster.out"
(cd "$repo" && CLUSTER_REDIS_PORT=${port[REDIS]} CLUSTER_FHIR_PORT=${port[FHIR]} CLUSTER_AUTH_PORT=${port[AUTH]} \
  CLUSTER_GATEWAY1_PORT=${port[GATEWAY1]} CLUSTER_GATEWAY2_PORT=${port[GATEWAY2]} CLUSTER_SILO1_PORT=${port[SILO1]} \
  CLUSTER_SILO2_PORT=${port[SILO2]} CLUSTER_SILO1_GATEWAY_PORT=${port[SILO1_GATEWAY]} CLUSTER_SILO2_GATEWAY_PORT=${port[SILO2_GATEWAY]} \
  CLUSTER_LOG_DIR="$work/logs" exec ./deploy/cluster.sh) > "$out" 2>&1 &
pid=$!
for _ in $(seq 1 900); do
  grep -q '^Process ids: ' "$out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
grep -q '^Process ids: ' "$out" || { echo "the cluster did not start"; cat "$out"; tail -20 "$work"/logs/*.log; kill -TERM "$pid" 2>/dev/null; exit 1; }
started=$(sed -n 's/^Process ids: //p' "$out" | grep -oE '[0-9]+' | tr '\n' ' ')

PERMS='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
token=$(curl -s -X POST "http://127.0.0.1:${port[AUTH]}/dev/tokens" -d "{\"permissions\":$PERMS}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:${port[GATEWAY1]}/Observation/obs-03-1")
[ "$status" = 200 ] || { echo "a read through gateway 1 answered $status"; kill -TERM "$pid"; exit 1; }

clock=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
took=$(awk -v ns=$(( $(date +%s%N) - clock )) 'BEGIN { printf "%.1f", ns / 1e9 }')
if kill -0 "$pid" 2>/dev/null; then
  echo "cluster.sh still running 15 s after SIGTERM"; kill -9 $started "$pid" 2>/dev/null || true; exit 1
fi
for p in $started; do
  if kill -0 "$p" 2>/dev/null; then echo "process $p ($(tr '\0' ' ' < /proc/$p/cmdline)) still runs"; kill -9 $started 2>/dev/null || true; exit 1; fi
done
left=$(listening "${port[@]}")
[ -z "$left" ] || { echo "still listening after the stop: $left"; exit 1; }
if grep -l "TaskCanceledException" "$work"/logs/silo*.log; then
  echo "a silo logged TaskCanceledException while stopping (Redis stopped first?)"; grep -B3 -A12 -m2 TaskCanceledException "$work"/logs/silo*.log | head -60; exit 1
fi
echo "cluster.sh stopped in ${took} s: gateways, silos, then Redis; nothing left running or listening"
awk -v t="$took" 'BEGIN { exit !(t < 15) }' || { echo "stopping took ${took} s (15 s at most)"; exit 1; }
