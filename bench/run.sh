#!/usr/bin/env bash
# Measures, in one run, the FHIR server directly and through Hearth (warm caches), for a
# single-resource read and a 50-entry search, and the backend/introspection calls per request.
# Everything runs on 127.0.0.1 and is stopped by pid at the end.
#
#   ./bench/run.sh                 # 10 s per measurement, 2 wrk threads, 32 connections
#   DURATION=30s CONNECTIONS=64 ./bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
FHIR_PORT=${BENCH_FHIR_PORT:-18581}
AUTH_PORT=${BENCH_AUTH_PORT:-18590}
OIDC_PORT=${BENCH_OIDC_PORT:-18591}
GW_PORT=${BENCH_GATEWAY_PORT:-18580}
OUT=bench/results/latest.md

command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server --no-audit --no-fund
[ -d deploy/oidc-provider/node_modules ] || npm ci --prefix deploy/oidc-provider --no-audit --no-fund
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo
dotnet build -c Release bench/PassThrough -v quiet -nologo
PASS_PORT=${BENCH_PASSTHROUGH_PORT:-18582}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

node deploy/fhir-server/server.js --port "$FHIR_PORT" > /tmp/hearth-bench-fhir.log 2>&1 & pids+=($!)
DEV_AUTH_API_KEY=bench-key node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > /tmp/hearth-bench-auth.log 2>&1 & pids+=($!)
node deploy/oidc-provider/server.mjs --port "$OIDC_PORT" > /tmp/hearth-bench-oidc.log 2>&1 & pids+=($!)
OIDC="http://127.0.0.1:$OIDC_PORT"
FHIR_SERVER_BASE="http://127.0.0.1:$FHIR_PORT/fhir/R4" UMA_MODE=false UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" \
UMA_SERVER_PROTECTION_API_KEY=bench-key DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id \
HEARTH_TOKEN_VALIDATION=both HEARTH_JWT_ISSUER="$OIDC" HEARTH_JWT_AUDIENCE=http://hearth.local/fhir \
HEARTH_SILO_PORT=18511 HEARTH_SILO_GATEWAY_PORT=18530 Logging__LogLevel__Default=Warning \
  dotnet src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll --urls "http://127.0.0.1:$GW_PORT" > /tmp/hearth-bench-gw.log 2>&1 & pids+=($!)

dotnet bench/PassThrough/bin/Release/net10.0/PassThrough.dll "http://127.0.0.1:$FHIR_PORT/fhir/R4/" "http://127.0.0.1:$PASS_PORT" > /tmp/hearth-bench-pass.log 2>&1 & pids+=($!)

for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$GW_PORT/readyz" >/dev/null && curl -sf "http://127.0.0.1:$FHIR_PORT/fhir/R4/metadata" >/dev/null && break
  sleep 0.2
done

# Every patient, every type, every label: nothing is redacted, so both sides send the same entries.
PERMS='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
TOKEN=$(curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/tokens" -d "{\"permissions\":$PERMS,\"expires_in\":86400}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
AUTH="Authorization: Bearer $TOKEN"

# A JWT from the OpenID provider granting the same (user/*.rs: every patient, type and label), validated in the gateway.
for _ in $(seq 1 50); do curl -sf "$OIDC/.well-known/openid-configuration" >/dev/null && break; sleep 0.2; done
CLIENT=$(curl -s -X POST "$OIDC/reg" -H 'content-type: application/json' \
  -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"user/*.rs"}')
CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
JWT=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$OIDC/token" -d grant_type=client_credentials -d scope=user/*.rs | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
JWT_AUTH="Authorization: Bearer $JWT"
DIRECT="http://127.0.0.1:$FHIR_PORT/fhir/R4"
HEARTH="http://127.0.0.1:$GW_PORT"
PASS="http://127.0.0.1:$PASS_PORT"
READ=/Observation/obs-03-1
SEARCH='/Observation?_count=50'

entries=$(curl -s -H "$AUTH" "$HEARTH$SEARCH" | grep -o '"fullUrl"' | wc -l)
[ "$entries" -eq 50 ] || { echo "expected 50 entries through Hearth, got $entries" >&2; exit 1; }

# Warm-up (caches, JIT) before any measurement.
for _ in $(seq 1 200); do curl -s -o /dev/null -H "$AUTH" "$HEARTH$SEARCH"; curl -s -o /dev/null -H "$AUTH" "$HEARTH$READ"; done
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "$AUTH" "$HEARTH$SEARCH" > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "$AUTH" "$HEARTH$READ" > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -H "$JWT_AUTH" "$HEARTH$READ" > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "$PASS$SEARCH" > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "$PASS$READ" > /dev/null

measure() { # name url [authorization header] -> "req/s p50 p99 non-2xx"
  local out rps p50 p99 errors
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "${3:-$AUTH}" "$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "$rps $p50 $p99 ${errors:-0}"
}

read -r d_read_rps d_read_p50 d_read_p99 d_read_err <<<"$(measure direct-read "$DIRECT$READ")"
read -r p_read_rps p_read_p50 p_read_p99 p_read_err <<<"$(measure passthrough-read "$PASS$READ")"
read -r h_read_rps h_read_p50 h_read_p99 h_read_err <<<"$(measure hearth-read "$HEARTH$READ")"
read -r j_read_rps j_read_p50 j_read_p99 j_read_err <<<"$(measure hearth-read-jwt "$HEARTH$READ" "$JWT_AUTH")"
read -r d_search_rps d_search_p50 d_search_p99 d_search_err <<<"$(measure direct-search "$DIRECT$SEARCH")"
read -r p_search_rps p_search_p50 p_search_p99 p_search_err <<<"$(measure passthrough-search "$PASS$SEARCH")"
read -r h_search_rps h_search_p50 h_search_p99 h_search_err <<<"$(measure hearth-search "$HEARTH$SEARCH")"

# Calls made to the outside servers per request through Hearth, warm.
curl -s -X POST "http://127.0.0.1:$FHIR_PORT/__admin/reset" >/dev/null
curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/reset-stats" >/dev/null
for _ in $(seq 1 100); do curl -s -o /dev/null -H "$AUTH" "$HEARTH$SEARCH"; done
fhir_calls=$(curl -s "http://127.0.0.1:$FHIR_PORT/__admin/stats" | grep -o '[0-9]\+' | awk '{s+=$1} END {print s+0}')
introspections=$(curl -s "http://127.0.0.1:$AUTH_PORT/dev/stats" | sed -E 's/.*"introspections":([0-9]+).*/\1/')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mkdir -p bench/results
{
  echo "# Hearth benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t$THREADS -c$CONNECTIONS -d$DURATION on 127.0.0.1;"
  echo "FHIR server: Medplum engine (Node, one process); Hearth: embedded mode, one process, Release build."
  echo
  echo "| request | direct req/s | bare YARP req/s | through Hearth req/s | Hearth / direct | Hearth / bare YARP | direct p50 / p99 | bare YARP p50 / p99 | Hearth p50 / p99 | non-2xx (direct / YARP / Hearth) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  echo "| single read \`$READ\` | $d_read_rps | $p_read_rps | $h_read_rps | $(ratio "$h_read_rps" "$d_read_rps") | $(ratio "$h_read_rps" "$p_read_rps") | $d_read_p50 / $d_read_p99 | $p_read_p50 / $p_read_p99 | $h_read_p50 / $h_read_p99 | $d_read_err / $p_read_err / $h_read_err |"
  echo "| single read, JWT validated locally | $d_read_rps | $p_read_rps | $j_read_rps | $(ratio "$j_read_rps" "$d_read_rps") | $(ratio "$j_read_rps" "$p_read_rps") | $d_read_p50 / $d_read_p99 | $p_read_p50 / $p_read_p99 | $j_read_p50 / $j_read_p99 | $d_read_err / $p_read_err / $j_read_err |"
  echo "| 50-entry search \`$SEARCH\` | $d_search_rps | $p_search_rps | $h_search_rps | $(ratio "$h_search_rps" "$d_search_rps") | $(ratio "$h_search_rps" "$p_search_rps") | $d_search_p50 / $d_search_p99 | $p_search_p50 / $p_search_p99 | $h_search_p50 / $h_search_p99 | $d_search_err / $p_search_err / $h_search_err |"
  echo
  echo "Per 50-entry search through Hearth (100 warm requests): $(ratio "$fhir_calls" 100) FHIR server calls, $(ratio "$introspections" 100) introspections."
  echo "Pauldron Hearth: 1 introspection per request and 51 FHIR server calls per 50-entry Bundle."
  echo
  echo "JWT read / introspected read through Hearth: $(ratio "$j_read_rps" "$h_read_rps") (the first is the Pauldron token introspected once and cached in its grain; the JWT is validated once and cached in the gateway)."
} | tee "$OUT"
