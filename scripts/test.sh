#!/usr/bin/env bash
# The whole test suite, as CI runs it: starts throwaway PostgreSQL clusters and
# MariaDB servers (installing them with apt-get if missing and we are root),
# installs Chromium and playwright-core for the dashboard test, then vets and
# runs every Go test with the race detector. Databases are required: if they
# cannot be started, the run fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null; then
  echo "test.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
eval "$(scripts/testdb.sh up)"
# The dashboard test drives headless Chromium (apt-get) with playwright-core (npm).
eval "$(scripts/browser.sh)"
export GODWIT_REQUIRE_DB=1
# The e2e tests run the godwit binary built with -race too.
export GODWIT_E2E_RACE=${GODWIT_E2E_RACE:-1}
# One source transaction of each size is applied with the runner's memory measured.
export GODWIT_TEST_BIG_TXN=${GODWIT_TEST_BIG_TXN:-1000000,5000000}
go vet ./...
go test -race -count=1 -timeout 50m "$@" ./...
