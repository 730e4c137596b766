#!/usr/bin/env bash
# Cluster mode on 127.0.0.1 (deploy/cluster.sh: Redis, 2 silos, 2 gateways, FHIR and auth servers):
#   * throughput and latency through one gateway vs both (two wrk processes, one per gateway);
#   * introspections and Patient reads per 1,000 requests from a cold cluster, 10 tokens, pages of
#     a 50-entry search spread over both gateways.
# Writes bench/results/cluster-latest.md; stops everything it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
OUT=bench/results/cluster-latest.md
export CLUSTER_REDIS_PORT=${BENCH_REDIS_PORT:-16390} CLUSTER_FHIR_PORT=${BENCH_FHIR_PORT:-18781} CLUSTER_AUTH_PORT=${BENCH_AUTH_PORT:-18790}
export CLUSTER_GATEWAY1_PORT=${BENCH_GW1_PORT:-18780} CLUSTER_GATEWAY2_PORT=${BENCH_GW2_PORT:-18782} CLUSTER_LOG_DIR=/tmp/hearth-bench-cluster
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }

log=$(mktemp)
setsid ./deploy/cluster.sh > "$log" 2>&1 &
cluster_pid=$!
stop() { kill -TERM "$cluster_pid" 2>/dev/null || true; wait "$cluster_pid" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT INT TERM
for _ in $(seq 1 300); do grep -q "Process ids" "$log" && break; kill -0 "$cluster_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }; sleep 1; done
grep -q "Process ids" "$log" || { cat "$log" >&2; exit 1; }

GW1=http://127.0.0.1:$CLUSTER_GATEWAY1_PORT
GW2=http://127.0.0.1:$CLUSTER_GATEWAY2_PORT
AUTHS=http://127.0.0.1:$CLUSTER_AUTH_PORT
FHIR=http://127.0.0.1:$CLUSTER_FHIR_PORT
PERMS='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
token() { curl -s -X POST "$AUTHS/dev/tokens" -d "{\"permissions\":$PERMS,\"expires_in\":86400}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'; }

# 1. Calls to the outside servers per 1,000 requests, from a cold cluster.
curl -s -X POST "$FHIR/__admin/reset" >/dev/null
curl -s -X POST "$AUTHS/dev/reset-stats" >/dev/null
tokens=(); for _ in $(seq 1 10); do tokens+=("$(token)"); done
python3 - "$GW1" "$GW2" "${tokens[@]}" > /tmp/hearth-bench-codes.txt <<'PY'
import sys, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
gw1, gw2, tokens = sys.argv[1], sys.argv[2], sys.argv[3:]
def get(i):
    url = f"{gw1 if i % 2 == 0 else gw2}/Observation?_count=50&_offset={(i % 4) * 50}"
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tokens[i % len(tokens)]})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
with ThreadPoolExecutor(8) as pool:
    for code in pool.map(get, range(1000)):
        print(code)
PY
ok=$(grep -c '^200$' /tmp/hearth-bench-codes.txt || true)
patient_reads=$(curl -s "$FHIR/__admin/stats" | grep -o '"GET Patient read":[0-9]*' | grep -o '[0-9]*$' || echo 0)
searches=$(curl -s "$FHIR/__admin/stats" | grep -o '"GET Observation search":[0-9]*' | grep -o '[0-9]*$' || echo 0)
introspections=$(curl -s "$AUTHS/dev/stats" | sed -E 's/.*"introspections":([0-9]+).*/\1/')

# 2. Throughput: one gateway, then both at once (half the connections each).
T=$(token); AUTH="Authorization: Bearer $T"
SEARCH='/Observation?_count=50'; READ=/Observation/obs-03-1
for url in "$GW1$SEARCH" "$GW2$SEARCH" "$GW1$READ" "$GW2$READ"; do wrk -t1 -c8 -d3s -H "$AUTH" "$url" >/dev/null; done
one() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$AUTH" "$1" | awk '/Requests\/sec/ {r=$2} $1=="99%" {p=$2} END {print r, p}'; }
two() {
  wrk -t1 -c$((CONNECTIONS / 2)) -d"$DURATION" --latency -H "$AUTH" "$GW1$1" > /tmp/hearth-bench-w1.txt &
  wrk -t1 -c$((CONNECTIONS / 2)) -d"$DURATION" --latency -H "$AUTH" "$GW2$1" > /tmp/hearth-bench-w2.txt
  wait
  awk '/Requests\/sec/ {r+=$2} $1=="99%" {p = p "/" $2} END {print r, substr(p, 2)}' /tmp/hearth-bench-w1.txt /tmp/hearth-bench-w2.txt
}
read -r one_read_rps one_read_p99 <<<"$(one "$GW1$READ")"
read -r two_read_rps two_read_p99 <<<"$(two "$READ")"
read -r one_search_rps one_search_p99 <<<"$(one "$GW1$SEARCH")"
read -r two_search_rps two_search_p99 <<<"$(two "$SEARCH")"

mkdir -p bench/results
{
  echo "# Hearth cluster benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores; Redis, 2 silos, 2 gateways, Medplum and the auth server on 127.0.0.1 (deploy/cluster.sh); wrk $DURATION, $CONNECTIONS connections in all."
  echo
  echo "| request | one gateway req/s | one gateway p99 | two gateways req/s (sum) | two gateways p99 (each) |"
  echo "|---|---|---|---|---|"
  echo "| single read | $one_read_rps | $one_read_p99 | $two_read_rps | $two_read_p99 |"
  echo "| 50-entry search | $one_search_rps | $one_search_p99 | $two_search_rps | $two_search_p99 |"
  echo
  echo "From a cold cluster, 1,000 requests ($ok answered 200), 10 tokens, 4 pages of a 50-entry Observation search, alternating gateways:"
  echo
  echo "| per 1,000 requests | Hearth | Pauldron Hearth |"
  echo "|---|---|---|"
  echo "| introspections | $introspections | 1,000 |"
  echo "| Patient reads at the FHIR server | $patient_reads | 50,000 (1 per Bundle entry) |"
  echo "| searches at the FHIR server | $searches | 1,000 |"
} | tee "$OUT"
