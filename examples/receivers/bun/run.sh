#!/usr/bin/env bash
# Installs Bun from the npm registry (once, into node_modules, at the version
# pinned in package.json) and runs the receiver on 127.0.0.1:PORT with the test
# probe on. Usage: WEBHOOK_HARNESS_WEBHOOK_ID=... ./run.sh PORT
# (./run.sh --install: only install)
set -euo pipefail
cd "$(dirname "$0")"

# npm writes node_modules/.package-lock.json on install: reinstall when the lock file is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  command -v node >/dev/null || { echo "error: node is not installed; it is needed once, to install Bun with npm (https://nodejs.org)" >&2; exit 1; }
  command -v npm >/dev/null || { echo "error: npm is not installed; it comes with Node.js" >&2; exit 1; }
  echo "installing bun $(node -p 'require("./package.json").devDependencies.bun') (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
# bun's postinstall script puts the binary for this platform in place.
node_modules/.bin/bun --version >/dev/null 2>&1 || {
  echo "error: node_modules/.bin/bun does not run: bun's postinstall script was skipped (--ignore-scripts?); rm -rf node_modules and run again" >&2
  exit 1
}
[ "${1:-}" = "--install" ] && exit 0

port="${1:?usage: run.sh PORT}"
: "${WEBHOOK_HARNESS_WEBHOOK_ID:?set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier}"
export WEBHOOK_HARNESS_TEST_PROBE=1
exec node_modules/.bin/bun server.ts "$port"
