#!/usr/bin/env bash
# Profile first: an embedded gateway under wrk load, for one request path, traced by dotnet-trace
# and read by bench/TraceReport: where managed code ran (cpu: inclusive and exclusive, waiting
# threads left out), or what was allocated, by type and by the Hearth method it was made under
# (alloc). Everything on 127.0.0.1, stopped by pid at the end. Usage:
#   ./bench/profile.sh                                      # a single read, 15 s, CPU
#   ./bench/profile.sh /Observation/obs-03-1 15s alloc      # its allocations
#   ./bench/profile.sh '/Observation?_count=50' 20s         # another path, another duration
#   TARGET=yarp ./bench/profile.sh                          # the floor: bare YARP (bench/PassThrough), same request
set -euo pipefail
cd "$(dirname "$0")/.."
REQUEST=${1:-/Observation/obs-03-1}
DURATION=${2:-15s}
MODE=${3:-cpu}
[[ $MODE == cpu || $MODE == alloc ]] || { echo "mode: cpu or alloc" >&2; exit 2; }
TOOLS=bench/.tools
FHIR_PORT=18681 AUTH_PORT=18690 GW_PORT=18680

command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
[ -x "$TOOLS/dotnet-trace" ] || dotnet tool install --tool-path "$TOOLS" dotnet-trace --version 10.0.750501 >/dev/null
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server --no-audit --no-fund
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo >/dev/null
dotnet build -c Release bench/TraceReport -v quiet -nologo >/dev/null
[[ ${TARGET:-hearth} == yarp ]] && dotnet build -c Release bench/PassThrough -v quiet -nologo >/dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

node deploy/fhir-server/server.js --port "$FHIR_PORT" > /tmp/hearth-profile-fhir.log 2>&1 & pids+=($!)
DEV_AUTH_API_KEY=profile-key node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > /tmp/hearth-profile-auth.log 2>&1 & pids+=($!)
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$FHIR_PORT/fhir/R4/metadata" >/dev/null && break; sleep 0.2; done
FHIR_SERVER_BASE="http://127.0.0.1:$FHIR_PORT/fhir/R4" UMA_MODE=false UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" UMA_SERVER_PROTECTION_API_KEY=profile-key \
  DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id Logging__LogLevel__Default=Warning HEARTH_SILO_PORT=18611 HEARTH_SILO_GATEWAY_PORT=18630 \
  dotnet src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll --urls "http://127.0.0.1:$GW_PORT" > /tmp/hearth-profile-gw.log 2>&1 & pids+=($!)
GW_PID=$!
if [[ ${TARGET:-hearth} == yarp ]]; then
  dotnet bench/PassThrough/bin/Release/net10.0/PassThrough.dll "http://127.0.0.1:$FHIR_PORT/fhir/R4/" "http://127.0.0.1:$((GW_PORT + 2))" > /tmp/hearth-profile-yarp.log 2>&1 & pids+=($!)
  GW_PID=$!
fi
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$GW_PORT/readyz" >/dev/null && break; sleep 0.2; done
for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$((GW_PORT + 2))/metadata" && break; sleep 0.2; done

PERMS='[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
TOKEN=$(curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/tokens" -d "{\"permissions\":$PERMS,\"expires_in\":3600}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
URL="http://127.0.0.1:$(if [[ ${TARGET:-hearth} == yarp ]]; then echo $((GW_PORT + 2)); else echo "$GW_PORT"; fi)$REQUEST"
wrk -t2 -c16 -d5s -H "Authorization: Bearer $TOKEN" "$URL" > /dev/null # warm: caches, JIT, tiering

trace=/tmp/hearth-profile.nettrace
rm -f "$trace"
wrk -t2 -c16 -d"$DURATION" -H "Authorization: Bearer $TOKEN" "$URL" > /tmp/hearth-profile-wrk.txt &
WRK_PID=$!
sleep 1
"$TOOLS/dotnet-trace" collect -p "$GW_PID" --profile "$(if [[ $MODE == cpu ]]; then echo dotnet-sampled-thread-time; else echo gc-verbose; fi)" -o "$trace" --duration 00:00:00:10 > /dev/null
wait "$WRK_PID"
grep -E "Requests/sec" /tmp/hearth-profile-wrk.txt
dotnet bench/TraceReport/bin/Release/net10.0/TraceReport.dll "$MODE" "$trace"
