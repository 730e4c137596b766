#!/usr/bin/env bash
# One command, one table: the FHIR server directly, bare YARP, Hearth embedded and Hearth in
# cluster mode (Redis, one silo and one gateway as processes), for a single read (Pauldron token,
# and a JWT validated locally), a 50-entry search, a 50-entry search with redaction and a
# 5,000-entry search. Per row: req/s, p50, p99 (wrk), proxy CPU µs per request and bytes allocated
# per request (the proxy's processes: /proc CPU ticks; dotnet-counters' allocation rate), ratios to
# bare YARP. Writes bench/results/<date>.md and bench/results/latest.md. Everything runs on
# 127.0.0.1 and is stopped by pid at the end.
#
#   ./bench/run.sh                          # 10 s per measurement, 2 wrk threads, 16 connections
#   DURATION=30s CONNECTIONS=32 ./bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
BULK_DURATION=${BULK_DURATION:-10s}
FHIR_PORT=${BENCH_FHIR_PORT:-18581}
AUTH_PORT=${BENCH_AUTH_PORT:-18590}
OIDC_PORT=${BENCH_OIDC_PORT:-18591}
GW_PORT=${BENCH_GATEWAY_PORT:-18580}
PASS_PORT=${BENCH_PASSTHROUGH_PORT:-18582}
REDIS_PORT=${BENCH_REDIS_PORT:-18593}
TOOLS=bench/.tools

command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
command -v redis-server >/dev/null || { apt-get update && apt-get install -y redis-server; }
[ -x "$TOOLS/dotnet-counters" ] || dotnet tool install --tool-path "$TOOLS" dotnet-counters --version 10.0.750501 >/dev/null
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server --no-audit --no-fund
[ -d deploy/oidc-provider/node_modules ] || npm ci --prefix deploy/oidc-provider --no-audit --no-fund
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo
dotnet build -c Release src/Silo/Hearth.Silo -v quiet -nologo
dotnet build -c Release bench/PassThrough -v quiet -nologo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

DIRECT="http://127.0.0.1:$FHIR_PORT/fhir/R4"
OIDC="http://127.0.0.1:$OIDC_PORT"
node deploy/fhir-server/server.js --port "$FHIR_PORT" > /tmp/hearth-bench-fhir.log 2>&1 & pids+=($!)
DEV_AUTH_API_KEY=bench-key node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > /tmp/hearth-bench-auth.log 2>&1 & pids+=($!)
node deploy/oidc-provider/server.mjs --port "$OIDC_PORT" > /tmp/hearth-bench-oidc.log 2>&1 & pids+=($!)
dotnet bench/PassThrough/bin/Release/net10.0/PassThrough.dll "$DIRECT/" "http://127.0.0.1:$PASS_PORT" > /tmp/hearth-bench-pass.log 2>&1 & pids+=($!)
PASS_PID=$!
for _ in $(seq 1 150); do
  curl -sf "$DIRECT/metadata" >/dev/null && curl -sf "$OIDC/.well-known/openid-configuration" >/dev/null && break
  sleep 0.2
done

# 5,000 DiagnosticReports (label N, of p01..p20) for the large search: a type of their own, so that
# the other searches (Medplum scans every resource of the searched type) keep their speed.
node -e '
const entry = [];
for (let i = 0; i < 5000; i++) entry.push({ request: { method: "POST", url: "DiagnosticReport" }, resource: {
  resourceType: "DiagnosticReport", status: "final", meta: { security: [{ system: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", code: "N" }] },
  code: { coding: [{ system: "urn:bench", code: "bulk" }] }, subject: { reference: "Patient/p" + String(i % 20 + 1).padStart(2, "0") },
  conclusion: "bulk report " + i } });
process.stdout.write(JSON.stringify({ resourceType: "Bundle", type: "batch", entry }));' \
  | curl -sf -o /dev/null -X POST -H 'Content-Type: application/fhir+json' --data-binary @- "$DIRECT"

PERMS='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
PERMS_N='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]'
token() { curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/tokens" -d "{\"permissions\":$1,\"expires_in\":86400}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'; }
AUTH="Authorization: Bearer $(token "$PERMS")"
AUTH_N="Authorization: Bearer $(token "$PERMS_N")"
CLIENT=$(curl -s -X POST "$OIDC/reg" -H 'content-type: application/json' -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"user/*.rs"}')
CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
JWT_AUTH="Authorization: Bearer $(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$OIDC/token" -d grant_type=client_credentials -d scope=user/*.rs | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

READ=/Observation/obs-03-1
SEARCH='/Observation?_count=50'
REDACTED='/Observation?_count=50&_sort=_id'
BULK='/DiagnosticReport?_count=5000'

HEARTH_ENV=(FHIR_SERVER_BASE="$DIRECT" UMA_MODE=false UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" UMA_SERVER_PROTECTION_API_KEY=bench-key
  DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id HEARTH_TOKEN_VALIDATION=both HEARTH_JWT_ISSUER="$OIDC" HEARTH_JWT_AUDIENCE=http://hearth.local/fhir
  Logging__LogLevel__Default=Warning)
GATEWAY_DLL=src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll
SILO_DLL=src/Silo/Hearth.Silo/bin/Release/net10.0/Hearth.Silo.dll
wait_ready() { for _ in $(seq 1 300); do curl -sf "$1/readyz" >/dev/null && return 0; sleep 0.2; done; echo "$1 is not ready" >&2; exit 1; }

ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }

# measure URL HEADER DURATION CONNECTIONS PID... -> "req/s p50 p99 cpu-µs/req bytes/req non-2xx"
measure() {
  local url=$1 header=$2 duration=$3 connections=$4; shift 4
  local counters=() files=() before after out requests
  local seconds=${duration%s}
  for pid in "$@"; do
    local file; file=$(mktemp -u --suffix=.csv); files+=("$file")
    # --duration: dotnet-counters saves its file when it ends by itself (not when signalled).
    "$TOOLS/dotnet-counters" collect -p "$pid" --counters System.Runtime --format csv -o "$file" --refresh-interval 1 \
      --duration "00:00:$(printf %02d $(( (seconds + 4) / 60 ))):$(printf %02d $(( (seconds + 4) % 60 )))" >/dev/null 2>&1 & counters+=($!)
  done
  sleep 1.5
  before=$(ticks "$@")
  out=$(wrk -t"$(( connections < THREADS ? connections : THREADS ))" -c"$connections" -d"$duration" --latency -H "$header" "$url")
  after=$(ticks "$@")
  for c in "${counters[@]}"; do wait "$c" 2>/dev/null || true; done
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local allocated=0
  for file in "${files[@]}"; do
    [[ -f $file ]] || { echo "dotnet-counters saved nothing for a measured process" >&2; exit 1; }
    allocated=$(awk -F, -v a="$allocated" '/total_allocated/ {s += $NF} END {printf "%.0f", a + s}' "$file")
    rm -f "$file"
  done
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')" \
    "$(awk -v a="$allocated" -v n="$requests" 'BEGIN { printf "%.0f", a / n }')" \
    "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}

warm() { # URL HEADER
  for _ in $(seq 1 50); do curl -s -m 30 -o /dev/null -H "$2" "$1"; done
  wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "$2" "$1" > /dev/null
}

declare -A R
run_target() { # NAME BASE PID...
  local name=$1 base=$2; shift 2
  warm "$base$READ" "$AUTH"; warm "$base$SEARCH" "$AUTH"; warm "$base$REDACTED" "$AUTH_N"
  R[$name,read]=$(measure "$base$READ" "$AUTH" "$DURATION" "$CONNECTIONS" "$@")
  R[$name,search]=$(measure "$base$SEARCH" "$AUTH" "$DURATION" "$CONNECTIONS" "$@")
  R[$name,redacted]=$(measure "$base$REDACTED" "$AUTH_N" "$DURATION" "$CONNECTIONS" "$@")
  curl -s -m 60 -o /dev/null -H "$AUTH" "$base$BULK"
  R[$name,bulk]=$(measure "$base$BULK" "$AUTH" "$BULK_DURATION" 1 "$@")
  if [[ $name == embedded || $name == cluster ]]; then
    warm "$base$READ" "$JWT_AUTH"
    R[$name,jwt]=$(measure "$base$READ" "$JWT_AUTH" "$DURATION" "$CONNECTIONS" "$@")
  fi
}

# The FHIR server directly (its own CPU and allocations are not the proxy's: not counted).
R[direct,read]=$(measure "$DIRECT$READ" "$AUTH" "$DURATION" "$CONNECTIONS")
R[direct,search]=$(measure "$DIRECT$SEARCH" "$AUTH" "$DURATION" "$CONNECTIONS")
R[direct,redacted]=$(measure "$DIRECT$REDACTED" "$AUTH_N" "$DURATION" "$CONNECTIONS")
R[direct,bulk]=$(measure "$DIRECT$BULK" "$AUTH" "$BULK_DURATION" 1)
run_target yarp "http://127.0.0.1:$PASS_PORT" "$PASS_PID"
kill "$PASS_PID"

# Hearth embedded: one process with its own silo.
env "${HEARTH_ENV[@]}" HEARTH_SILO_PORT=18511 HEARTH_SILO_GATEWAY_PORT=18530 dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:$GW_PORT" > /tmp/hearth-bench-gw.log 2>&1 & pids+=($!)
GW_PID=$!
wait_ready "http://127.0.0.1:$GW_PORT"
run_target embedded "http://127.0.0.1:$GW_PORT" "$GW_PID"
entries=$(curl -s -H "$AUTH_N" "http://127.0.0.1:$GW_PORT$REDACTED" | grep -o '"fullUrl"' | wc -l)
peak_bulk=$(awk '/VmHWM/ {print $2}' "/proc/$GW_PID/status")
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true

# Hearth in cluster mode: Redis, one silo, one gateway (grain calls cross processes).
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no > /tmp/hearth-bench-redis.log 2>&1 & pids+=($!)
CLUSTER=(HEARTH_REDIS="127.0.0.1:$REDIS_PORT" HEARTH_CLUSTER_ID="bench-$$" HEARTH_ADVERTISED_ADDRESS=127.0.0.1)
env "${HEARTH_ENV[@]}" "${CLUSTER[@]}" HEARTH_SILO_PORT=18512 HEARTH_SILO_GATEWAY_PORT=18531 dotnet "$SILO_DLL" > /tmp/hearth-bench-silo.log 2>&1 & pids+=($!)
SILO_PID=$!
env "${HEARTH_ENV[@]}" "${CLUSTER[@]}" PORT="$GW_PORT" dotnet "$GATEWAY_DLL" > /tmp/hearth-bench-cgw.log 2>&1 & pids+=($!)
CGW_PID=$!
wait_ready "http://127.0.0.1:$GW_PORT"
run_target cluster "http://127.0.0.1:$GW_PORT" "$CGW_PID" "$SILO_PID"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
field() { echo "${R[$1,$2]:-${R[$1,read]}}" | awk -v f="$3" '{print $f}'; } # a JWT read is compared with YARP's read
row() { # LABEL TARGET SCENARIO
  local t=$2 s=$3
  echo "| $1 | $t | $(field "$t" "$s" 1) | $(ratio "$(field "$t" "$s" 1)" "$(field yarp "$s" 1)") | $(field "$t" "$s" 2) / $(field "$t" "$s" 3) |" \
    "$(if [[ $t == direct ]]; then echo "- | - | - |"; else echo "$(field "$t" "$s" 4) | $(ratio "$(field "$t" "$s" 4)" "$(field yarp "$s" 4)") | $(field "$t" "$s" 5) |"; fi)" \
    "$(field "$t" "$s" 6) |"
}

mkdir -p bench/results
date=$(date -u +%Y-%m-%d)
{
  echo "# Hearth benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); wrk -t$THREADS -c$CONNECTIONS -d$DURATION (5,000-entry search: -c1 -d$BULK_DURATION) on 127.0.0.1;"
  echo "FHIR server: Medplum's engine (Node, one process). Proxy CPU: the proxy's processes (cluster: gateway + silo). Allocated: dotnet-counters' allocation rate summed over the run."
  echo
  echo "| request | target | req/s | req/s ÷ bare YARP | p50 / p99 | proxy CPU µs/req | CPU ÷ bare YARP | bytes allocated/req | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for s in read jwt search redacted bulk; do
    case $s in
      read) label="single read \`$READ\`" ;; jwt) label="single read, JWT validated locally" ;; search) label="50-entry search" ;;
      redacted) label="50-entry search, ~half removed ($entries kept)" ;; bulk) label="5,000-entry search (~2.7 MB)" ;;
    esac
    for t in direct yarp embedded cluster; do
      [[ -n ${R[$t,$s]:-} ]] && row "$label" "$t" "$s"
    done
  done
  echo
  echo "Embedded gateway's peak resident memory over the whole run (VmHWM): $((peak_bulk / 1024)) MiB."
} | tee "bench/results/$date.md" > bench/results/latest.md
cat bench/results/latest.md
