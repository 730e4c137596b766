#!/usr/bin/env bash
# Hearth in front of a real FHIR server with sample data, in the embedded mode (no Redis):
#   * Medplum's FHIR engine with the seed data   http://127.0.0.1:${DEMO_FHIR_PORT:-8081}/fhir/R4
#   * the DEVELOPMENT authorization server         http://127.0.0.1:${DEMO_AUTH_PORT:-8090}  (Pauldron permissions)
#   * a DEVELOPMENT OpenID provider                http://127.0.0.1:${DEMO_OIDC_PORT:-8095}  (SMART scopes in JWTs)
#   * the Hearth gateway (OAuth mode)              http://localhost:${DEMO_GATEWAY_PORT:-8080}
# Ctrl-C stops all four (the Node servers are stopped by pid).
set -euo pipefail
cd "$(dirname "$0")/.."

FHIR_PORT=${DEMO_FHIR_PORT:-8081}
AUTH_PORT=${DEMO_AUTH_PORT:-8090}
OIDC_PORT=${DEMO_OIDC_PORT:-8095}
OIDC=http://127.0.0.1:$OIDC_PORT
GATEWAY_PORT=${DEMO_GATEWAY_PORT:-8080}
API_KEY=demo-protection-key
GW=http://localhost:$GATEWAY_PORT

command -v node >/dev/null || { echo "node (20+) is needed" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is needed" >&2; exit 1; }
[ -d deploy/fhir-server/node_modules ] || npm ci --prefix deploy/fhir-server --no-audit --no-fund
[ -d deploy/oidc-provider/node_modules ] || npm ci --prefix deploy/oidc-provider --no-audit --no-fund
dotnet build -c Release src/Gateway/Hearth.Gateway -v quiet -nologo

pids=()
cleanup() { trap - EXIT INT TERM; for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

node deploy/fhir-server/server.js --port "$FHIR_PORT" > /tmp/hearth-demo-fhir.log 2>&1 &
pids+=($!)
DEV_AUTH_API_KEY=$API_KEY node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > /tmp/hearth-demo-auth.log 2>&1 &
pids+=($!)
node deploy/oidc-provider/server.mjs --port "$OIDC_PORT" > /tmp/hearth-demo-oidc.log 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$FHIR_PORT/fhir/R4/metadata" >/dev/null && curl -s "http://127.0.0.1:$AUTH_PORT/dev/stats" >/dev/null \
    && curl -sf "$OIDC/.well-known/openid-configuration" >/dev/null && break
  sleep 0.2
done

# A SMART client of the OpenID provider for patient p03 (patient/Observation.rs), and its JWT.
CLIENT=$(curl -s -X POST "$OIDC/reg" -H 'content-type: application/json' \
  -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"patient/Observation.rs patient/Patient.r","patient":"p03"}')
CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
JWT=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$OIDC/token" -d grant_type=client_credentials --data-urlencode 'scope=patient/Observation.rs patient/Patient.r' \
  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

# A token for patient urn:official:id|10003 (Patient/p03): Patient and Observation, confidentiality N only.
PERMISSIONS='[{"resource_set_id":{"patientId":{"system":"urn:official:id","value":"10003"},"resourceType":["Patient","Observation"]},
  "scopes":[{"action":"read","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]'
TOKEN=$(curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/tokens" -d "{\"permissions\":$PERMISSIONS,\"expires_in\":86400}" \
  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

cat <<MSG

Hearth demo: gateway $GW  ->  FHIR server http://127.0.0.1:$FHIR_PORT/fhir/R4 (Medplum engine, 20 sample patients)
Development authorization server (NOT for production): http://127.0.0.1:$AUTH_PORT

Get a token (any Pauldron permissions you like):
  curl -s -X POST http://127.0.0.1:$AUTH_PORT/dev/tokens -d '{"permissions":$(echo "$PERMISSIONS" | tr -d '\n'),"expires_in":3600}'

A token for patient 10003, Patient + Observation, label N only:
  export TOKEN=$TOKEN

Permitted (200):   curl -s -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-03-1
Redacted  (200):   curl -s -H "Authorization: Bearer \$TOKEN" '$GW/Observation?subject=Patient/p03'
                   (obs-03-2 is labelled R, obs-03-3 is unlabelled = M: both removed, total dropped)
Denied    (403):   curl -s -H "Authorization: Bearer \$TOKEN" $GW/Observation/obs-04-1
No token  (401):   curl -s $GW/Patient/p03
Capabilities:      curl -s $GW/metadata

SMART on FHIR: a JWT from the development OpenID provider ($OIDC, panva's oidc-provider; NOT for
production), validated in the gateway. Client $CLIENT_ID (secret $CLIENT_SECRET), patient p03,
scopes patient/Observation.rs patient/Patient.r:
  export JWT=\$(curl -s -u '$CLIENT_ID:$CLIENT_SECRET' $OIDC/token -d grant_type=client_credentials \\
      --data-urlencode 'scope=patient/Observation.rs patient/Patient.r' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  (or now: export JWT=$JWT)
Permitted (200):   curl -s -H "Authorization: Bearer \$JWT" $GW/Observation/obs-03-2      (SMART scopes grant every label)
Denied    (403):   curl -s -H "Authorization: Bearer \$JWT" $GW/Observation/obs-04-1      (another patient)
Other clients:     curl -s -X POST $OIDC/reg -H 'content-type: application/json' \\
                     -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"scope":"user/*.rs"}'
SMART configuration: curl -s $GW/.well-known/smart-configuration

Starting the gateway (Ctrl-C stops everything)...
MSG

FHIR_SERVER_BASE="http://127.0.0.1:$FHIR_PORT/fhir/R4" \
UMA_MODE=false \
UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" \
UMA_SERVER_REALM=hearth-demo \
UMA_SERVER_PROTECTION_API_KEY=$API_KEY \
DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id \
UNPROTECTED_RESOURCE_TYPES=Organization \
HEARTH_TOKEN_VALIDATION=both \
HEARTH_JWT_ISSUER="$OIDC" \
HEARTH_JWT_AUDIENCE=http://hearth.local/fhir \
AUGMENT_CAPABILITY_STATEMENT=true \
HEARTH_PUBLIC_BASE=$GW \
PORT=$GATEWAY_PORT \
  dotnet src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll &
pids+=($!)
wait "${pids[-1]}"
