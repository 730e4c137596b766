#!/usr/bin/env bash
# Hearth in cluster mode on one machine, without Docker: the same topology as docker-compose.yml
# (less the load balancer and telemetry), every process on 127.0.0.1:
#   Redis (membership)         127.0.0.1:${CLUSTER_REDIS_PORT:-6390}
#   FHIR server (Medplum)      127.0.0.1:${CLUSTER_FHIR_PORT:-8081}/fhir/R4
#   dev authorization server   127.0.0.1:${CLUSTER_AUTH_PORT:-8090}
#   silo 1, silo 2             silo ports ${CLUSTER_SILO1_PORT:-11111}/${CLUSTER_SILO2_PORT:-11112}, silo-gateway ports ${CLUSTER_SILO1_GATEWAY_PORT:-30000}/${CLUSTER_SILO2_GATEWAY_PORT:-30001}
#   gateway 1, gateway 2       http://127.0.0.1:${CLUSTER_GATEWAY1_PORT:-8080}, http://127.0.0.1:${CLUSTER_GATEWAY2_PORT:-8082}
#   with --observe: /metrics on ports 9464-9467 (gateways, silos) and Debian's Prometheus on
#   127.0.0.1:${CLUSTER_PROMETHEUS_PORT:-9090} scraping them (the dashboard's queries can be tried there)
# Ctrl-C (or SIGTERM) stops exactly the processes this script started, by pid: gateways, then silos,
# then the rest, Redis last; each group within CLUSTER_STOP_WAIT seconds (default 8), else killed.
set -euo pipefail
OBSERVE=false
[[ ${1:-} == --observe ]] && OBSERVE=true
cd "$(dirname "$0")/.."

REDIS_PORT=${CLUSTER_REDIS_PORT:-6390}
FHIR_PORT=${CLUSTER_FHIR_PORT:-8081}
AUTH_PORT=${CLUSTER_AUTH_PORT:-8090}
GW1_PORT=${CLUSTER_GATEWAY1_PORT:-8080}
GW2_PORT=${CLUSTER_GATEWAY2_PORT:-8082}
PROMETHEUS_PORT=${CLUSTER_PROMETHEUS_PORT:-9090}
SILO1_PORT=${CLUSTER_SILO1_PORT:-11111} SILO2_PORT=${CLUSTER_SILO2_PORT:-11112}
SILO1_GATEWAY_PORT=${CLUSTER_SILO1_GATEWAY_PORT:-30000} SILO2_GATEWAY_PORT=${CLUSTER_SILO2_GATEWAY_PORT:-30001}
API_KEY=cluster-protection-key
ADMIN_KEY=${HEARTH_ADMIN_KEY:-local-admin-key-0123456789}
CLUSTER_ID=hearth-local-$$   # a fresh id per run: members of an earlier run never delay this one
LOGS=${CLUSTER_LOG_DIR:-/tmp/hearth-cluster}
mkdir -p "$LOGS"

if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update && apt-get install -y redis-server; else echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; fi
fi
if $OBSERVE && ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update && apt-get install -y prometheus; else echo "prometheus is needed (apt-get install prometheus)" >&2; exit 1; fi
fi
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server --no-audit --no-fund --loglevel=error # Medplum asks for Node 22.18+, runs on 20 (README)
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo
dotnet build -c Release src/Silo/Hearth.Silo -v quiet -nologo

# Stopped in order, each group's wait bounded: the gateways (no request is cut by a silo going
# away), then the silos (they leave the membership in Redis while Redis is still there), then the
# rest, Redis last. What does not end within STOP_WAIT seconds of its signal is killed.
gateways=() silos=() others=() redis=()
STOP_WAIT=${CLUSTER_STOP_WAIT:-8}
source deploy/stop-group.sh
cleanup() {
  trap - EXIT INT TERM
  stop_group "$STOP_WAIT" "${gateways[@]}"; stop_group "$STOP_WAIT" "${silos[@]}"; stop_group "$STOP_WAIT" "${others[@]}"; stop_group "$STOP_WAIT" "${redis[@]}"
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no > "$LOGS/redis.log" 2>&1 & redis+=($!)
node deploy/fhir-server/server.js --port "$FHIR_PORT" > "$LOGS/fhir.log" 2>&1 & others+=($!)
DEV_AUTH_API_KEY=$API_KEY node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > "$LOGS/auth.log" 2>&1 & others+=($!)

export FHIR_SERVER_BASE="http://127.0.0.1:$FHIR_PORT/fhir/R4" UMA_MODE=false UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" \
  UMA_SERVER_REALM=hearth-local UMA_SERVER_PROTECTION_API_KEY=$API_KEY DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id \
  UNPROTECTED_RESOURCE_TYPES=Organization HEARTH_REDIS="127.0.0.1:$REDIS_PORT" HEARTH_CLUSTER_ID=$CLUSTER_ID \
  HEARTH_ADVERTISED_ADDRESS=127.0.0.1 HEARTH_ADMIN_KEY=$ADMIN_KEY
SILO=src/Silo/Hearth.Silo/bin/Release/net10.0/Hearth.Silo.dll
GATEWAY=src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll
metrics() { if $OBSERVE; then echo "HEARTH_METRICS_PORT=$1"; else echo "HEARTH_METRICS_PORT="; fi; }
env "$(metrics 9466)" HEARTH_SILO_PORT=$SILO1_PORT HEARTH_SILO_GATEWAY_PORT=$SILO1_GATEWAY_PORT dotnet "$SILO" > "$LOGS/silo1.log" 2>&1 & silos+=($!)
env "$(metrics 9467)" HEARTH_SILO_PORT=$SILO2_PORT HEARTH_SILO_GATEWAY_PORT=$SILO2_GATEWAY_PORT dotnet "$SILO" > "$LOGS/silo2.log" 2>&1 & silos+=($!)
env "$(metrics 9464)" PORT=$GW1_PORT HEARTH_PUBLIC_BASE="http://127.0.0.1:$GW1_PORT" dotnet "$GATEWAY" > "$LOGS/gateway1.log" 2>&1 & gateways+=($!)
env "$(metrics 9465)" PORT=$GW2_PORT HEARTH_PUBLIC_BASE="http://127.0.0.1:$GW2_PORT" dotnet "$GATEWAY" > "$LOGS/gateway2.log" 2>&1 & gateways+=($!)
if $OBSERVE; then
  cat > "$LOGS/prometheus.yml" <<YML
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: hearth-gateway
    static_configs:
      - targets: ['127.0.0.1:9464', '127.0.0.1:9465']
  - job_name: hearth-silo
    static_configs:
      - targets: ['127.0.0.1:9466', '127.0.0.1:9467']
YML
  prometheus --config.file="$LOGS/prometheus.yml" --storage.tsdb.path="$LOGS/prometheus-data" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    > "$LOGS/prometheus.log" 2>&1 & others+=($!)
fi

for port in "$GW1_PORT" "$GW2_PORT"; do
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "gateway on $port is not ready; see $LOGS" >&2; exit 1; }
done
# A gateway is ready once one silo answers; the cluster is whole once both silos have joined
# (their host has started: the silo lifecycle ends with the silo active in the membership).
for log in silo1 silo2; do
  for _ in $(seq 1 300); do grep -q "Application started" "$LOGS/$log.log" && break; sleep 0.2; done
  grep -q "Application started" "$LOGS/$log.log" || { echo "$log did not join the cluster within 60 s; see $LOGS/$log.log" >&2; exit 1; }
done

cat <<MSG

Hearth cluster on 127.0.0.1 (cluster id $CLUSTER_ID, logs in $LOGS):
  gateway 1  http://127.0.0.1:$GW1_PORT
  gateway 2  http://127.0.0.1:$GW2_PORT
  silos      127.0.0.1:$SILO1_PORT / :$SILO2_PORT (silo-gateway ports $SILO1_GATEWAY_PORT / $SILO2_GATEWAY_PORT), membership in Redis 127.0.0.1:$REDIS_PORT
  FHIR       http://127.0.0.1:$FHIR_PORT/fhir/R4      auth (DEVELOPMENT) http://127.0.0.1:$AUTH_PORT
$($OBSERVE && echo "  metrics    http://127.0.0.1:9464/metrics .. :9467/metrics   Prometheus http://127.0.0.1:$PROMETHEUS_PORT (queries: deploy/grafana/dashboards/hearth.json)")

Token:  curl -s -X POST http://127.0.0.1:$AUTH_PORT/dev/tokens -d '{"permissions":[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]}'
Evict:  curl -s -X POST -H "Authorization: Bearer $ADMIN_KEY" --data-urlencode "token=\$TOKEN" http://127.0.0.1:$GW1_PORT/_hearth/admin/tokens/evict

Process ids: gateways ${gateways[*]}, silos ${silos[*]}, others ${others[*]}, Redis ${redis[*]}. Ctrl-C stops them, in that order.
MSG
wait
