#!/usr/bin/env bash
# Installs the receiver's dependencies (once) and runs it on 127.0.0.1:PORT with
# the test probe on. Usage: WEBHOOK_HARNESS_WEBHOOK_ID=... ./run.sh PORT
# (./run.sh --install: only install)
set -euo pipefail
cd "$(dirname "$0")"

command -v node >/dev/null || { echo "error: node is not installed; install Node.js 20 or newer (https://nodejs.org)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is not installed; it comes with Node.js" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || { echo "error: node $(node --version) is too old; better-sqlite3 $(node -p 'require("./package.json").dependencies["better-sqlite3"]') needs Node.js 20 or newer" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on install: reinstall when the lock file is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # better-sqlite3 compiles SQLite when no prebuilt binary can be downloaded (from
  # GitHub): node-gyp then needs Node's headers, which it downloads from nodejs.org
  # unless told where they are. Node installs ship them beside the binary.
  prefix="$(node -p 'path.dirname(path.dirname(process.execPath))')"
  case "$(npm config get nodedir)" in
    "" | undefined | null) if [ -f "$prefix/include/node/node.h" ]; then export npm_config_nodedir="$prefix"; fi ;;
  esac
  echo "installing dependencies (npm ci; compiling better-sqlite3 can take a minute or two)..." >&2
  npm ci --no-audit --no-fund >&2
fi
[ "${1:-}" = "--install" ] && exit 0

port="${1:?usage: run.sh PORT}"
: "${WEBHOOK_HARNESS_WEBHOOK_ID:?set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier}"
export WEBHOOK_HARNESS_TEST_PROBE=1
exec node server.js "$port"
