#!/usr/bin/env bash
# Runs every test of Hearth: the pure authorization tables, the functional tests through a real
# gateway (Kestrel on 127.0.0.1, embedded Orleans silo), and the cluster tests (a real Redis, silo
# and gateway processes), against Medplum's FHIR engine and the development authorization server,
# all started and stopped by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

# The cluster tests need Redis; the dashboard test, Prometheus; the compose file's check, Debian's
# docker-compose; the script tests (demo from a fresh clone), git and python3.
for need in redis-server prometheus docker-compose git python3 curl; do
  if ! command -v "$need" >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update && apt-get install -y "$need"
    else
      echo "The tests need $need: sudo apt-get install -y $need" >&2
      exit 1
    fi
  fi
done

# The pinned Medplum packages declare Node 22.18+ and run on 20 (README, Requirements): npm's warnings off.
npm ci --prefix deploy/fhir-server --no-audit --no-fund --loglevel=error
npm ci --prefix deploy/oidc-provider --no-audit --no-fund --loglevel=error
dotnet build Hearth.sln -c Release
log=$(mktemp)
status=0
dotnet test Hearth.sln -c Release --no-build 2>&1 | tee "$log" || status=$?

# The BenchmarkDotNet project, once in its shortest (Dry) job, in process: it still builds and
# runs. Its figures are not looked at here (bench/README.md says how to measure).
if ! (cd bench/Hearth.Benchmarks && dotnet run -c Release --no-build -- --filter '*' --job Dry --inProcess > /tmp/hearth-benchmarks-dry.log 2>&1 \
      && dotnet run -c Release --no-build -- peak >> /tmp/hearth-benchmarks-dry.log 2>&1 \
      && dotnet run -c Release --no-build --project ../ExportPeak >> /tmp/hearth-benchmarks-dry.log 2>&1); then
  tail -40 /tmp/hearth-benchmarks-dry.log >&2
  echo "The benchmarks (Dry job) failed." >&2
  status=1
fi

# One closing line for any reader: "N passed, N failed".
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
echo "Tests: $passed passed, $failed failed"
exit "$status"
