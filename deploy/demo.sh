#!/usr/bin/env bash
# Hearth in front of a real FHIR server with sample data, in the embedded mode (no Redis).
#   ./deploy/demo.sh          OAuth mode: Pauldron tokens (introspected) and SMART on FHIR JWTs (validated in the gateway)
#   ./deploy/demo.sh --uma    UMA mode (Pauldron Hearth's default): no token -> 401 + ticket -> RPT -> 200
# Everything listens on 127.0.0.1 only (the development servers mint any token anyone asks for):
#   * Medplum's FHIR engine with the seed data   http://127.0.0.1:${DEMO_FHIR_PORT:-8081}/fhir/R4
#   * the DEVELOPMENT authorization server         http://127.0.0.1:${DEMO_AUTH_PORT:-8090}  (Pauldron permissions, UMA tickets)
#   * a DEVELOPMENT OpenID provider (OAuth mode)   http://127.0.0.1:${DEMO_OIDC_PORT:-8095}  (SMART scopes in JWTs)
#   * the Hearth gateway                           http://127.0.0.1:${DEMO_GATEWAY_PORT:-8080}
# Prints the curl examples, then one line "Hearth demo ready: ..." once the gateway answers /readyz.
# Ctrl-C (or SIGTERM) stops everything it started, by pid. Logs: ${DEMO_LOG_DIR:-/tmp/hearth-demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_DIR=$(pwd)

MODE=oauth
case "${1:-}" in
  "" | --oauth) ;;
  --uma) MODE=uma ;;
  *) echo "usage: $0 [--oauth | --uma]" >&2; exit 2 ;;
esac

FHIR_PORT=${DEMO_FHIR_PORT:-8081}
AUTH_PORT=${DEMO_AUTH_PORT:-8090}
OIDC_PORT=${DEMO_OIDC_PORT:-8095}
GATEWAY_PORT=${DEMO_GATEWAY_PORT:-8080}
LOGS=${DEMO_LOG_DIR:-/tmp/hearth-demo}
AUTH=http://127.0.0.1:$AUTH_PORT
OIDC=http://127.0.0.1:$OIDC_PORT
GW=http://127.0.0.1:$GATEWAY_PORT
API_KEY=demo-protection-key
mkdir -p "$LOGS"

command -v node >/dev/null || { echo "Node.js 20 or later is needed (see README, Requirements)" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
for port in "$FHIR_PORT" "$AUTH_PORT" "$GATEWAY_PORT" $([[ $MODE == oauth ]] && echo "$OIDC_PORT"); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is taken by another process: stop it, or move the demo (DEMO_FHIR_PORT, DEMO_AUTH_PORT, DEMO_OIDC_PORT, DEMO_GATEWAY_PORT)" >&2
    exit 1
  fi
done
npm_quiet=(--no-audit --no-fund --loglevel=error) # the pinned Medplum packages ask for Node 22.18+ and warn on 20, where they run (README, Requirements)
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server "${npm_quiet[@]}"
[[ $MODE == uma || -d deploy/oidc-provider/node_modules ]] || npm ci --prefix deploy/oidc-provider "${npm_quiet[@]}"
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo > "$LOGS/build.log" 2>&1 || { cat "$LOGS/build.log" >&2; exit 1; }

pids=()
source deploy/stop-group.sh
cleanup() {
  trap - EXIT INT TERM
  stop_group 10 "${pids[@]}" # bounded: 10 s, then killed
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

node deploy/fhir-server/server.js --host 127.0.0.1 --port "$FHIR_PORT" > "$LOGS/fhir.log" 2>&1 & pids+=($!)
DEV_AUTH_API_KEY=$API_KEY DEV_AUTH_REALM=hearth-demo node deploy/dev-auth-server/server.js --host 127.0.0.1 --port "$AUTH_PORT" > "$LOGS/auth.log" 2>&1 & pids+=($!)
if [[ $MODE == oauth ]]; then
  node deploy/oidc-provider/server.mjs --host 127.0.0.1 --port "$OIDC_PORT" > "$LOGS/oidc.log" 2>&1 & pids+=($!)
fi
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$FHIR_PORT/fhir/R4/metadata" >/dev/null && curl -sf "$AUTH/dev/stats" >/dev/null \
    && { [[ $MODE == uma ]] || curl -sf "$OIDC/.well-known/openid-configuration" >/dev/null; } && break
  sleep 0.2
done

# A token for patient urn:official:id|10003 (Patient/p03): Patient and Observation, confidentiality N only.
PERMISSIONS='[{"resource_set_id":{"patientId":{"system":"urn:official:id","value":"10003"},"resourceType":["Patient","Observation"]},"scopes":[{"action":"read","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]'
TOKEN=$(curl -s -X POST "$AUTH/dev/tokens" -d "{\"permissions\":$PERMISSIONS,\"expires_in\":86400}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

gateway_env=(
  FHIR_SERVER_BASE="http://127.0.0.1:$FHIR_PORT/fhir/R4" UMA_SERVER_BASE="$AUTH" UMA_SERVER_REALM=hearth-demo
  UMA_SERVER_PROTECTION_API_KEY=$API_KEY DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id UNPROTECTED_RESOURCE_TYPES=Organization
  AUGMENT_CAPABILITY_STATEMENT=true HEARTH_PUBLIC_BASE="$GW" HEARTH_AUDIT_LOG_FILE="$LOGS/audit.jsonl"
)
if [[ $MODE == uma ]]; then
  gateway_env+=(UMA_MODE=true)
  cat <<MSG

Hearth demo, UMA mode: gateway $GW  ->  FHIR server http://127.0.0.1:$FHIR_PORT/fhir/R4 (Medplum engine, 20 sample patients)
Development authorization server (NOT for production): $AUTH (realm hearth-demo)

The UMA flow, step by step:
No token  (401):   curl -s -i $GW/Observation/obs-03-1
                   (WWW-Authenticate: UMA realm="hearth-demo", as_uri="$AUTH", ticket="...")
  export TICKET=\$(curl -s -o /dev/null -D - $GW/Observation/obs-03-1 | sed -n -E 's/.*ticket="([^"]+)".*/\\1/p')
  export RPT=\$(curl -s -X POST $AUTH/authorization -d "{\\"ticket\\":\\"\$TICKET\\"}" | sed -E 's/.*"rpt":"([^"]+)".*/\\1/')
With RPT  (200):   curl -s -H "Authorization: Bearer \$RPT" $GW/Observation/obs-03-1

A token that grants too little gets a ticket for exactly what is missing (patient 10003's Observations, label N only):
  export TOKEN=$TOKEN
Permitted (200):   curl -s -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-03-1
Too little (403):  curl -s -i -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-03-2      (labelled R: a ticket for R)
What was asked:    curl -s $AUTH/dev/registrations
MSG
else
  # A SMART client of the OpenID provider for patient p03 (patient/Observation.rs patient/Patient.r), and its JWT.
  CLIENT=$(curl -s -X POST "$OIDC/reg" -H 'content-type: application/json' \
    -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"patient/Observation.rs patient/Patient.r","patient":"p03"}')
  CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
  CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
  JWT=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$OIDC/token" -d grant_type=client_credentials --data-urlencode 'scope=patient/Observation.rs patient/Patient.r' \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  gateway_env+=(UMA_MODE=false HEARTH_TOKEN_VALIDATION=both HEARTH_JWT_ISSUER="$OIDC" HEARTH_JWT_AUDIENCE=http://hearth.local/fhir HEARTH_JWT_ALLOW_HTTP=true)
  # A patient's privacy Consent (seeded at the FHIR server): p06 denies its Observations labelled R to the client
  # clinic-app, unless it breaks the glass (purpose of use BTG, which HEARTH_BTG_CLIENTS allows clinic-app).
  gateway_env+=(HEARTH_POLICIES=token,consent HEARTH_BTG_CLIENTS=clinic-app)
  CONF='{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}'
  curl -sf -X POST "http://127.0.0.1:$FHIR_PORT/fhir/R4/Consent" -H 'content-type: application/fhir+json' -o /dev/null -d '{"resourceType":"Consent","status":"active",
    "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"patient":{"reference":"Patient/p06"},
    "provision":{"type":"permit","provision":[{"type":"deny","actor":[{"role":{"text":"recipient"},"reference":{"identifier":{"value":"clinic-app"}}}],
    "class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}],"securityLabel":['"$CONF"'],
    "provision":[{"type":"permit","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"BTG"}]}]}]}}'
  P06='[{"resource_set_id":{"patientId":{"system":"urn:official:id","value":"10006"},"resourceType":"Observation"},"scopes":[{"action":"read","securityLabels":"*"}]}]'
  CLINIC=$(curl -s -X POST "$AUTH/dev/tokens" -d "{\"permissions\":$P06,\"expires_in\":86400,\"claims\":{\"client_id\":\"clinic-app\"}}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  BTG=$(curl -s -X POST "$AUTH/dev/tokens" -d "{\"permissions\":$P06,\"expires_in\":86400,\"claims\":{\"client_id\":\"clinic-app\",\"purpose_of_use\":\"BTG\"}}" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  cat <<MSG

Hearth demo, OAuth mode: gateway $GW  ->  FHIR server http://127.0.0.1:$FHIR_PORT/fhir/R4 (Medplum engine, 20 sample patients)
Development authorization server (NOT for production): $AUTH

Get a token (any Pauldron permissions you like):
  curl -s -X POST $AUTH/dev/tokens -d '{"permissions":$PERMISSIONS,"expires_in":3600}'

A token for patient 10003, Patient + Observation, label N only:
  export TOKEN=$TOKEN
Permitted (200):   curl -s -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-03-1
Redacted  (200):   curl -s -H "Authorization: Bearer \$TOKEN" '$GW/Observation?subject=Patient/p03'
                   (obs-03-2 is labelled R, obs-03-3 is unlabelled = M: both removed, total dropped)
Denied    (403):   curl -s -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-04-1
No token  (401):   curl -s $GW/Patient/p03
Capabilities (200): curl -s $GW/metadata

SMART on FHIR: a JWT from the development OpenID provider ($OIDC, panva's oidc-provider; NOT for
production), validated in the gateway. Client $CLIENT_ID (secret $CLIENT_SECRET), patient p03,
scopes patient/Observation.rs patient/Patient.r:
  export JWT=\$(curl -s -u '$CLIENT_ID:$CLIENT_SECRET' $OIDC/token -d grant_type=client_credentials --data-urlencode 'scope=patient/Observation.rs patient/Patient.r' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
Permitted (200):   curl -s -H "Authorization: Bearer \$JWT" $GW/Observation/obs-03-2      (SMART scopes grant every label)
Denied    (403):   curl -s -H "Authorization: Bearer \$JWT" $GW/Observation/obs-04-1      (another patient)
SMART configuration (200): curl -s $GW/.well-known/smart-configuration
Protected-resource metadata (200): curl -s $GW/.well-known/oauth-protected-resource

A patient's Consent (HEARTH_POLICIES=token,consent): p06 denies its Observations labelled R to the
client clinic-app, whose token grants them; breaking the glass (purpose of use BTG, allowed for
clinic-app by HEARTH_BTG_CLIENTS) passes it, with a Warning and an audit line:
  export CLINIC=$CLINIC
  export BTG=$BTG
Consent denies (403):   curl -s -H "Authorization: Bearer \$CLINIC" $GW/Observation/obs-06-2
Break-the-glass (200):  curl -s -i -H "Authorization: Bearer \$BTG" $GW/Observation/obs-06-2      (Warning: 199 - "Break-the-glass: ...")
Its audit line:         grep '"breakTheGlass":true' $LOGS/audit.jsonl

DPoP (RFC 9449): a key made on the spot, a token bound to it by the OpenID provider, a proof per
request; the same token without the key is refused (deploy/oidc-provider/dpop-example.mjs):
DPoP read (200):   node $REPO_DIR/deploy/oidc-provider/dpop-example.mjs $OIDC $GW Observation/obs-03-1
Other clients:     curl -s -X POST $OIDC/reg -H 'content-type: application/json' -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"user/*.rs"}'
MSG
fi
echo
echo "Audit trail: $LOGS/audit.jsonl; other logs in $LOGS. Starting the gateway (Ctrl-C stops everything)..."

env "${gateway_env[@]}" dotnet src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll --urls "$GW" &
pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "$GW/readyz" >/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "the gateway stopped; see its messages above" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$GW/readyz" >/dev/null || { echo "the gateway did not become ready within 60 s" >&2; exit 1; }
echo "Hearth demo ready: $GW ($MODE mode)"
wait "${pids[-1]}"
