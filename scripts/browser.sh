#!/usr/bin/env bash
# What the dashboard test needs: Debian's Chromium (apt-get, as root) and
# playwright-core from npm (in ${GODWIT_TESTDB_ROOT:-/var/tmp/godwit-testdb}/node).
# Prints the export lines for the test environment; messages go to stderr.
#   eval "$(scripts/browser.sh)"
set -euo pipefail
ROOT="${GODWIT_TESTDB_ROOT:-/var/tmp/godwit-testdb}"
PLAYWRIGHT=playwright-core@1.64.1
log() { printf 'browser: %s\n' "$*" >&2; }
if ! command -v chromium >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || { log "chromium is missing: apt-get install chromium (as root)"; exit 1; }
	log "installing chromium with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || { log "node and npm are missing: apt-get install nodejs npm (as root)"; exit 1; }
	log "installing node and npm with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >&2
fi
mkdir -p "$ROOT/node"
if [ ! -f "$ROOT/node/node_modules/playwright-core/package.json" ] ||
	! grep -q '"version": "1.64.1"' "$ROOT/node/node_modules/playwright-core/package.json"; then
	log "installing $PLAYWRIGHT"
	(cd "$ROOT/node" && npm install --no-audit --no-fund --silent "$PLAYWRIGHT" >&2)
fi
printf 'export GODWIT_E2E_CHROMIUM=%s\n' "$(command -v chromium)"
printf 'export GODWIT_E2E_NODE_PATH=%s\n' "$ROOT/node/node_modules"
