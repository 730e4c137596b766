#!/usr/bin/env bash
# One command, one table: the FHIR server directly, bare YARP, Hearth embedded and Hearth in
# cluster mode (Redis, one silo and one gateway as processes), for a single read (Pauldron token,
# and a JWT validated locally; a DPoP-bound JWT with a fresh ES256 or RS256 proof per request), a
# 50-entry search, a 50-entry search with redaction, a 5,000-entry search, and a 2-entry search with
# a plain JWT and with issue 24's granular-scope tokens (255 scopes × 76 conditions, introspected;
# 5 such scopes in a ~7 KB JWT); what only Hearth judges (JWT, DPoP, granular) only on Hearth. Per row: req/s, p50, p99 (wrk), proxy CPU µs per request and bytes allocated
# per request (the proxy's processes: /proc CPU ticks; dotnet-counters' allocation rate), ratios to
# bare YARP. All targets run at once and are measured in ROUNDS rounds, each measurement right
# after the other targets' of the same request; the target being measured is the only proxy not
# paused (SIGSTOP), so no proxy's idle work runs during another's measurement. Figures are the
# median over the rounds; ratios the median of each round's ratio. Writes bench/results/<date>.md
# and bench/results/latest.md. Everything runs on 127.0.0.1 and is stopped by pid at the end.
#
#   ./bench/run.sh                          # 3 rounds of 10 s per measurement, 2 wrk threads, 16 connections
#   ROUNDS=5 DURATION=30s CONNECTIONS=32 ./bench/run.sh
#   SCENARIOS="jwt dpop dpoprsa" ./bench/run.sh   # only these requests (of: read jwt dpop dpoprsa search redacted bulk search2 granular granularjwt)
#
# A fifth target, "consent", is Hearth embedded with the Consent policy on (HEARTH_POLICIES=token,consent)
# for the read, the JWT read and the 50-entry search, with a privacy Consent seeded for each of p01..p20
# (a deny for a client the bench never is, so every resource is judged by one and served): issue 26's
# goal is its CPU within 1.1× the same request's without the policy.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5s}
SETTLE=${SETTLE:-90s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
BULK_DURATION=${BULK_DURATION:-10s}
FHIR_PORT=${BENCH_FHIR_PORT:-18581}
AUTH_PORT=${BENCH_AUTH_PORT:-18590}
OIDC_PORT=${BENCH_OIDC_PORT:-18591}
GW_PORT=${BENCH_GATEWAY_PORT:-18580}
CGW_PORT=${BENCH_CLUSTER_GATEWAY_PORT:-18583}
PASS_PORT=${BENCH_PASSTHROUGH_PORT:-18582}
CONSENT_PORT=${BENCH_CONSENT_GATEWAY_PORT:-18584}
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
# A paused process is continued first: a stopped process does not act on SIGTERM until then.
cleanup() { for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -f "${DPOP_KEY:-}" "${DPOP_RSA_KEY:-}" "${DPOP_PROOFS:-}" "${MEASURE_PROOFS:-}"; }
trap cleanup EXIT INT TERM

DIRECT="http://127.0.0.1:$FHIR_PORT/fhir/R4"
OIDC="http://127.0.0.1:$OIDC_PORT"
node deploy/fhir-server/server.js --port "$FHIR_PORT" > /tmp/hearth-bench-fhir.log 2>&1 & pids+=($!)
DEV_AUTH_API_KEY=bench-key node deploy/dev-auth-server/server.js --port "$AUTH_PORT" > /tmp/hearth-bench-auth.log 2>&1 & pids+=($!)
node deploy/oidc-provider/server.mjs --port "$OIDC_PORT" > /tmp/hearth-bench-oidc.log 2>&1 & pids+=($!)
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

# A privacy Consent per patient p01..p20 (deny Observations labelled R to a client the bench never is):
# the consent target judges every resource by its patient's Consent and serves it.
node -e '
const entry = [];
for (let i = 1; i <= 20; i++) entry.push({ request: { method: "POST", url: "Consent" }, resource: {
  resourceType: "Consent", status: "active", patient: { reference: "Patient/p" + String(i).padStart(2, "0") },
  scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }] }, category: [{ text: "privacy" }],
  provision: { type: "permit", provision: [{ type: "deny", actor: [{ role: { text: "recipient" }, reference: { identifier: { value: "not-a-bench-client" } } }],
    class: [{ system: "http://hl7.org/fhir/resource-types", code: "Observation" }],
    securityLabel: [{ system: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", code: "R" }] }] } } });
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

# A DPoP-bound JWT (RFC 9449): each request of a DPoP read carries a proof of its own (bench/dpop.lua),
# made before each measurement (deploy/oidc-provider/dpop-proofs.mjs; a proof is good once).
# Two clients: an ECDSA key (ES256 proofs) and an RSA key (RS256 proofs; its signature is cheaper to check).
DPOP_KEY=$(mktemp --suffix=.json); DPOP_RSA_KEY=$(mktemp --suffix=.json)
DPOP_TOKEN=$(node deploy/oidc-provider/dpop-proofs.mjs token "$OIDC" 'user/*.rs' "$DPOP_KEY" ES256)
DPOP_RSA_TOKEN=$(node deploy/oidc-provider/dpop-proofs.mjs token "$OIDC" 'user/*.rs' "$DPOP_RSA_KEY" RS256)
DPOP_AUTH="Authorization: DPoP $DPOP_TOKEN"
DPOP_RSA_AUTH="Authorization: DPoP $DPOP_RSA_TOKEN"
dpop_proofs() { # URL COUNT HEADER -> a file of COUNT fresh proofs for GET URL, by the key of HEADER's token
  local file key=$DPOP_KEY token=$DPOP_TOKEN; file=$(mktemp --suffix=.proofs)
  [[ $3 == "$DPOP_RSA_AUTH" ]] && { key=$DPOP_RSA_KEY; token=$DPOP_RSA_TOKEN; }
  node deploy/oidc-provider/dpop-proofs.mjs proofs "$key" "$token" "$1" "$2" > "$file"; echo "$file"
}
# Issue 24's granular-scope tokens, for the same 2-entry search as a plain JWT: 255 scopes of 76
# conditions each (an opaque token, introspected), and 5 such scopes in a ~6.7 KB JWT; each has one
# scope more that matches every entry.
granular_scopes() { node -e '
  const p = ["category", "code", "status", "method", "identifier"];
  const c = Array.from({ length: 76 }, (_, i) => `${p[i % p.length]}=x${i}`).join("&");
  console.log([...Array.from({ length: Number(process.argv[1]) }, (_, i) => `user/Observation.rs?${c}&code=c${i}`), "user/Observation.rs?status=final"].join(" "));' "$1"; }
# (~250 KB of scopes: through a pipe, longer than one command-line argument may be)
GRANULAR_AUTH="Authorization: Bearer $(granular_scopes 255 | node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => process.stdout.write(JSON.stringify({ permissions: [], smart_scope: s.trim(), expires_in: 86400 })))' \
  | curl -s -X POST "http://127.0.0.1:$AUTH_PORT/dev/tokens" -H 'content-type: application/json' --data-binary @- | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
JWT_SCOPES=$(granular_scopes 5)
curl -sf -X POST "$OIDC/dev/scopes" -H 'content-type: application/json' -d "{\"scopes\":$(node -e 'console.log(JSON.stringify(process.argv[1].split(" ")))' "$JWT_SCOPES")}" > /dev/null
GCLIENT=$(curl -s -X POST "$OIDC/reg" -H 'content-type: application/json' -d "{\"grant_types\":[\"client_credentials\"],\"response_types\":[],\"redirect_uris\":[],\"scope\":\"$JWT_SCOPES\"}")
GRANULAR_JWT="$(curl -s -u "$(echo "$GCLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/'):$(echo "$GCLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')" "$OIDC/token" \
  -d grant_type=client_credentials --data-urlencode "scope=$JWT_SCOPES" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
GRANULAR_JWT_AUTH="Authorization: Bearer $GRANULAR_JWT"
echo "granular JWT: ${#GRANULAR_JWT} bytes" >&2

READ=/Observation/obs-03-1
SEARCH2='/Observation?_count=2'
SEARCH='/Observation?_count=50'
REDACTED='/Observation?_count=50&_sort=_id'
BULK='/DiagnosticReport?_count=5000'

HEARTH_ENV=(FHIR_SERVER_BASE="$DIRECT" UMA_MODE=false UMA_SERVER_BASE="http://127.0.0.1:$AUTH_PORT" UMA_SERVER_PROTECTION_API_KEY=bench-key
  DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id HEARTH_TOKEN_VALIDATION=both HEARTH_JWT_ISSUER="$OIDC" HEARTH_JWT_AUDIENCE=http://hearth.local/fhir HEARTH_JWT_ALLOW_HTTP=true
  Logging__LogLevel__Default=Warning)
GATEWAY_DLL=src/Gateway/Hearth.Gateway/bin/Release/net10.0/Hearth.Gateway.dll
SILO_DLL=src/Silo/Hearth.Silo/bin/Release/net10.0/Hearth.Silo.dll
wait_ready() { for _ in $(seq 1 300); do curl -sf "$1/readyz" >/dev/null && return 0; sleep 0.2; done; echo "$1 is not ready" >&2; exit 1; }

ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }

# ms PERCENTILE: wrk's latency at that percentile (812.00us, 1.23ms, 2.01s) in ms
ms() { awk -v p="$1" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
  printf "%.2f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1) }'; }

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
  out=$(wrk -t"$(( connections < THREADS ? connections : THREADS ))" -c"$connections" -d"$duration" --latency -H "$header" "${WRK_SCRIPT[@]}" "$url")
  after=$(ticks "$@")
  for c in "${counters[@]}"; do wait "$c" 2>/dev/null || true; done
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local allocated=0
  for file in "${files[@]}"; do
    [[ -f $file ]] || { echo "dotnet-counters saved nothing for a measured process" >&2; exit 1; }
    allocated=$(awk -F, -v a="$allocated" '/total_allocated/ {s += $NF} END {printf "%.0f", a + s}' "$file")
    rm -f "$file"
  done
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | ms 50%) $(echo "$out" | ms 99%)" \
    "$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')" \
    "$(awk -v a="$allocated" -v n="$requests" 'BEGIN { printf "%.0f", a / n }')" \
    "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}

WRK_SCRIPT=() # a DPoP read: -s bench/dpop.lua, with DPOP_PROOFS naming a fresh file of proofs
use_proofs() { # URL COUNT HEADER: the next wrk runs send these proofs
  [[ -n ${DPOP_PROOFS:-} ]] && rm -f "$DPOP_PROOFS"
  export DPOP_PROOFS; DPOP_PROOFS=$(dpop_proofs "$1" "$2" "$3"); export WRK_THREADS=$THREADS; WRK_SCRIPT=(-s bench/dpop.lua)
}
no_proofs() { WRK_SCRIPT=(); [[ -n ${DPOP_PROOFS:-} ]] && rm -f "$DPOP_PROOFS"; DPOP_PROOFS=; }
# How many proofs a DPoP measurement may use: the run's duration at up to PROOF_RATE requests a second.
PROOF_RATE=${PROOF_RATE:-8000}

warm() { # URL HEADER
  if [[ $2 == "$DPOP_AUTH" || $2 == "$DPOP_RSA_AUTH" ]]; then use_proofs "$1" $(( PROOF_RATE * ${WARMUP%s} + 100 )) "$2"; wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "$2" "${WRK_SCRIPT[@]}" "$1" > /dev/null; no_proofs; return; fi
  for _ in $(seq 1 50); do curl -s -m 30 -o /dev/null -H "$2" "$1"; done
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "$2" "$1" > /dev/null
}

# Every proxy starts now and is warmed on every request; then each is paused until measured.
dotnet bench/PassThrough/bin/Release/net10.0/PassThrough.dll "$DIRECT/" "http://127.0.0.1:$PASS_PORT" > /tmp/hearth-bench-pass.log 2>&1 & pids+=($!)
PASS_PID=$!
# Hearth embedded: one process with its own silo.
env "${HEARTH_ENV[@]}" HEARTH_SILO_PORT=18511 HEARTH_SILO_GATEWAY_PORT=18530 dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:$GW_PORT" > /tmp/hearth-bench-gw.log 2>&1 & pids+=($!)
GW_PID=$!
# Hearth in cluster mode: Redis, one silo, one gateway (grain calls cross processes).
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no > /tmp/hearth-bench-redis.log 2>&1 & pids+=($!)
CLUSTER=(HEARTH_REDIS="127.0.0.1:$REDIS_PORT" HEARTH_CLUSTER_ID="bench-$$" HEARTH_ADVERTISED_ADDRESS=127.0.0.1)
env "${HEARTH_ENV[@]}" "${CLUSTER[@]}" HEARTH_SILO_PORT=18512 HEARTH_SILO_GATEWAY_PORT=18531 dotnet "$SILO_DLL" > /tmp/hearth-bench-silo.log 2>&1 & pids+=($!)
SILO_PID=$!
env "${HEARTH_ENV[@]}" "${CLUSTER[@]}" PORT="$CGW_PORT" dotnet "$GATEWAY_DLL" > /tmp/hearth-bench-cgw.log 2>&1 & pids+=($!)
CGW_PID=$!
# Hearth embedded with the Consent policy on.
env "${HEARTH_ENV[@]}" HEARTH_POLICIES=token,consent HEARTH_SILO_PORT=18513 HEARTH_SILO_GATEWAY_PORT=18532 dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:$CONSENT_PORT" > /tmp/hearth-bench-consent.log 2>&1 & pids+=($!)
CONSENT_PID=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PASS_PORT/metadata" >/dev/null && break; sleep 0.2; done
wait_ready "http://127.0.0.1:$GW_PORT"
wait_ready "http://127.0.0.1:$CGW_PORT"
wait_ready "http://127.0.0.1:$CONSENT_PORT"

declare -A BASE=([direct]="$DIRECT" [yarp]="http://127.0.0.1:$PASS_PORT" [embedded]="http://127.0.0.1:$GW_PORT" [cluster]="http://127.0.0.1:$CGW_PORT"
  [consent]="http://127.0.0.1:$CONSENT_PORT")
declare -A PIDS=([direct]="" [yarp]="$PASS_PID" [embedded]="$GW_PID" [cluster]="$CGW_PID $SILO_PID" [consent]="$CONSENT_PID")
PROXIES=(yarp embedded cluster consent)
pause() { [[ -z ${PIDS[$1]} ]] || kill -STOP ${PIDS[$1]}; }
pause_all() { for t in "${PROXIES[@]}"; do pause "$t"; done; }
resume() { [[ -z ${PIDS[$1]} ]] || kill -CONT ${PIDS[$1]}; }

declare -A URL=([read]="$READ" [jwt]="$READ" [dpop]="$READ" [dpoprsa]="$READ" [search]="$SEARCH" [redacted]="$REDACTED" [bulk]="$BULK"
  [search2]="$SEARCH2" [granular]="$SEARCH2" [granularjwt]="$SEARCH2")
declare -A HDR=([read]="$AUTH" [jwt]="$JWT_AUTH" [dpop]="$DPOP_AUTH" [dpoprsa]="$DPOP_RSA_AUTH" [search]="$AUTH" [redacted]="$AUTH_N" [bulk]="$AUTH"
  [search2]="$JWT_AUTH" [granular]="$GRANULAR_AUTH" [granularjwt]="$GRANULAR_JWT_AUTH")
# SCENARIOS: which requests are measured (all by default).
ALL_SCENARIOS="read jwt dpop dpoprsa search redacted bulk search2 granular granularjwt"
read -r -a SCENARIO_LIST <<< "${SCENARIOS:-$ALL_SCENARIOS}"
# SCENARIO TARGET: what only Hearth judges (a JWT, DPoP, granular scopes) is measured only on Hearth;
# the consent target only on the requests it is compared on.
CONSENT_SCENARIOS="read jwt search"
applies() { [[ " ${SCENARIO_LIST[*]} " == *" $1 "* ]] || return 1
  if [[ $2 == consent ]]; then [[ " $CONSENT_SCENARIOS " == *" $1 "* ]]; return; fi
  [[ $1 != jwt && $1 != dpop* && $1 != granular* ]] || [[ $2 == embedded || $2 == cluster ]]; }

for t in "${PROXIES[@]}"; do
  for s in read jwt dpop dpoprsa search redacted search2 granular granularjwt; do applies "$s" "$t" && warm "${BASE[$t]}${URL[$s]}" "${HDR[$s]}"; done
  applies bulk "$t" && curl -s -m 60 -o /dev/null -H "$AUTH" "${BASE[$t]}$BULK"
done
entries=$(curl -s -H "$AUTH_N" "http://127.0.0.1:$GW_PORT$REDACTED" | grep -o '"fullUrl"' | wc -l)
# Then all run side by side under a light load for SETTLE: a process's periodic work (Orleans'
# membership and directory, Hearth's revocation sync and cache subscription) reaches new code and
# tiers it up for a minute or more after start (measured: 10–25 ms of JIT a second for the first
# ~70 s under load, ~0 after 100 s); measured before that, it is a start-up cost, not a request's.
settle=()
for t in "${PROXIES[@]}"; do wrk -t1 -c1 -d"$SETTLE" -H "$AUTH" "${BASE[$t]}$READ" > /dev/null & settle+=($!); done
wait "${settle[@]}"
pause_all

declare -A R # R[target,scenario,round] = "req/s p50 p99 cpu bytes non-2xx"
for round in $(seq 1 "$ROUNDS"); do
  # The proxies' order turns each round, so that none is always measured first.
  order=(direct "${PROXIES[@]:$(( (round - 1) % ${#PROXIES[@]} ))}" "${PROXIES[@]:0:$(( (round - 1) % ${#PROXIES[@]} ))}")
  for s in $ALL_SCENARIOS; do
    for t in "${order[@]}"; do
      applies "$s" "$t" || continue
      if [[ $s == dpop* ]]; then # two files of fresh proofs, made while the proxy is paused: the pre-run's and the measurement's
        MEASURE_PROOFS=$(dpop_proofs "${BASE[$t]}${URL[$s]}" $(( PROOF_RATE * ${DURATION%s} + 100 )) "${HDR[$s]}")
        use_proofs "${BASE[$t]}${URL[$s]}" $(( PROOF_RATE * 2 + 100 )) "${HDR[$s]}"
      fi
      resume "$t"
      if [[ $s == bulk ]]; then curl -s -m 60 -o /dev/null -H "$AUTH" "${BASE[$t]}$BULK"; duration=$BULK_DURATION; connections=1
      else wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "${HDR[$s]}" "${WRK_SCRIPT[@]}" "${BASE[$t]}${URL[$s]}" > /dev/null; duration=$DURATION; connections=$CONNECTIONS; fi
      if [[ $s == dpop* ]]; then rm -f "$DPOP_PROOFS"; DPOP_PROOFS=$MEASURE_PROOFS; fi
      R[$t,$s,$round]=$(measure "${BASE[$t]}${URL[$s]}" "${HDR[$s]}" "$duration" "$connections" ${PIDS[$t]})
      no_proofs
      pause "$t"
      echo "round $round, $s, $t: ${R[$t,$s,$round]}" >&2
    done
  done
done
for t in "${PROXIES[@]}"; do resume "$t"; done
peak_bulk=$(awk '/VmHWM/ {print $2}' "/proc/$GW_PID/status")

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# figure TARGET SCENARIO FIELD -> the median over the rounds of that field
figure() { local r v=(); for r in $(seq 1 "$ROUNDS"); do v+=("$(echo "${R[$1,$2,$r]}" | awk -v f="$3" '{print $f}')"); done; echo "${v[*]}" | median; }
# ratios TARGET SCENARIO FIELD -> each round's ratio to bare YARP's (a JWT read is compared with its read)
ratios() {
  local r y=$2 out=(); [[ $2 == jwt || $2 == dpop* ]] && y=read; [[ $2 == granular || $2 == granularjwt ]] && y=search2
  for r in $(seq 1 "$ROUNDS"); do
    out+=("$(awk -v a="$(echo "${R[$1,$2,$r]}" | awk -v f="$3" '{print $f}')" -v b="$(echo "${R[yarp,$y,$r]}" | awk -v f="$3" '{print $f}')" 'BEGIN { if (b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')")
  done
  echo "${out[*]}"
}
# row LABEL TARGET SCENARIO: medians over the rounds; ratios: the median of the rounds' ratios
row() {
  local t=$2 s=$3 errors=0 r
  for r in $(seq 1 "$ROUNDS"); do errors=$((errors + $(echo "${R[$t,$s,$r]}" | awk '{print $6}'))); done
  echo "| $1 | $t | $(figure "$t" "$s" 1) | $(ratios "$t" "$s" 1 | median) | $(figure "$t" "$s" 2) / $(figure "$t" "$s" 3) ms |" \
    "$(if [[ $t == direct ]]; then echo "- | - | - |"; else echo "$(figure "$t" "$s" 4) | $(ratios "$t" "$s" 4 | median) | $(figure "$t" "$s" 5) |"; fi) $errors |"
}
declare -A LABELS=([read]="single read \`$READ\`" [jwt]="single read, JWT validated locally" [dpop]="single read, DPoP-bound JWT + an ES256 proof per request" [dpoprsa]="single read, DPoP-bound JWT + an RS256 proof per request"
  [search2]="2-entry search, plain JWT (user/*.rs)" [granular]="2-entry search, 255 scopes × 76 conditions (introspected)"
  [granularjwt]="2-entry search, 5 scopes × 76 conditions (${#GRANULAR_JWT}-byte JWT)" [search]="50-entry search"
  [redacted]="50-entry search, ~half removed ($entries kept)" [bulk]="5,000-entry search (~2.7 MB)")

mkdir -p bench/results
date=$(date -u +%Y-%m-%d)
{
  echo "# Hearth benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); wrk -t$THREADS -c$CONNECTIONS -d$DURATION (5,000-entry search: -c1 -d$BULK_DURATION) on 127.0.0.1;"
  echo "$ROUNDS rounds, each target measured in turn for each request, the other proxies paused; warm-up $WARMUP per request and target, $SETTLE of light load on all, then 2 s before each measurement."
  echo "FHIR server: Medplum's engine (Node, one process). Proxy CPU: the proxy's processes (cluster: gateway + silo). Allocated: dotnet-counters' allocation rate summed over the run."
  echo "Figures: the median over the rounds; ratios: the median of the rounds' ratios to bare YARP (a JWT read is compared with bare YARP's read); non-2xx: summed."
  echo
  echo "| request | target | req/s | req/s ÷ bare YARP | p50 / p99 | proxy CPU µs/req | CPU ÷ bare YARP | bytes allocated/req | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for s in $ALL_SCENARIOS; do
    for t in direct yarp embedded cluster consent; do
      [[ -n ${R[$t,$s,1]:-} ]] && row "${LABELS[$s]}" "$t" "$s"
    done
  done
  echo
  echo "Each round's ratio to bare YARP (req/s; proxy CPU):"
  echo
  echo "| request | target | req/s ÷ bare YARP, rounds 1–$ROUNDS | CPU ÷ bare YARP, rounds 1–$ROUNDS |"
  echo "|---|---|---|---|"
  for s in $ALL_SCENARIOS; do
    for t in embedded cluster consent; do
      [[ -n ${R[$t,$s,1]:-} ]] && echo "| ${LABELS[$s]} | $t | $(ratios "$t" "$s" 1) | $(ratios "$t" "$s" 4) |"
    done
  done
  echo
  echo "Within Hearth (issue 24's goals: a DPoP read within 1.2× a bearer JWT read's CPU; each granular token within 2× the plain JWT's for the same search), proxy CPU, each round:"
  echo
  echo "| request | compared with | target | CPU ratio, rounds 1–$ROUNDS | median |"
  echo "|---|---|---|---|---|"
  for pair in dpop:jwt dpoprsa:jwt granular:search2 granularjwt:search2; do
    a=${pair%%:*}; b=${pair##*:}
    for t in embedded cluster; do
      [[ -n ${R[$t,$a,1]:-} && -n ${R[$t,$b,1]:-} ]] || continue
      rs=(); for r in $(seq 1 "$ROUNDS"); do
        rs+=("$(awk -v x="$(echo "${R[$t,$a,$r]}" | awk '{print $4}')" -v y="$(echo "${R[$t,$b,$r]}" | awk '{print $4}')" 'BEGIN { if (y == 0) print "-"; else printf "%.2f", x / y }')")
      done
      echo "| ${LABELS[$a]} | ${LABELS[$b]} | $t | ${rs[*]} | $(echo "${rs[*]}" | median) |"
    done
  done
  echo
  echo "The Consent policy (issue 26's goal: a warm request with it on within 1.1× the CPU without it): the consent target's proxy CPU ÷ the embedded target's, same request, each round:"
  echo
  echo "| request | CPU ratio, rounds 1–$ROUNDS | median |"
  echo "|---|---|---|"
  for s in $CONSENT_SCENARIOS; do
    [[ -n ${R[consent,$s,1]:-} && -n ${R[embedded,$s,1]:-} ]] || continue
    rs=(); for r in $(seq 1 "$ROUNDS"); do
      rs+=("$(awk -v x="$(echo "${R[consent,$s,$r]}" | awk '{print $4}')" -v y="$(echo "${R[embedded,$s,$r]}" | awk '{print $4}')" 'BEGIN { if (y == 0) print "-"; else printf "%.2f", x / y }')")
    done
    echo "| ${LABELS[$s]} | ${rs[*]} | $(echo "${rs[*]}" | median) |"
  done
  echo
  echo "Embedded gateway's peak resident memory over the whole run (VmHWM): $((peak_bulk / 1024)) MiB."
} | tee "bench/results/$date.md" > bench/results/latest.md
cat bench/results/latest.md
