#!/usr/bin/env bash
# Installs the receiver's dependencies (once) and runs it on 127.0.0.1:PORT with
# the test probe on. Usage: WEBHOOK_HARNESS_WEBHOOK_ID=... ./run.sh PORT
# (./run.sh --install: only install)
set -euo pipefail
cd "$(dirname "$0")"

command -v node >/dev/null || { echo "error: node is not installed; install Node.js 18 or newer (https://nodejs.org)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is not installed; it comes with Node.js" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 18 ] || { echo "error: node $(node --version) is too old; Express 5 needs Node.js 18 or newer" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on install: reinstall when the lock file is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
[ "${1:-}" = "--install" ] && exit 0

port="${1:?usage: run.sh PORT}"
: "${WEBHOOK_HARNESS_WEBHOOK_ID:?set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier}"
export WEBHOOK_HARNESS_TEST_PROBE=1
exec node server.js "$port"
