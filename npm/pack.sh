#!/usr/bin/env bash
# Packs the npm packages: the launcher (webhook-harness) and the platform
# package with BINARY in it (webhook-harness-linux-x64, stripped when `strip`
# is there), as tarballs in OUTDIR.
# Usage: npm/pack.sh BINARY OUTDIR    (BINARY: target/release/webhook-harness)
set -euo pipefail
binary="$(realpath "${1:?usage: npm/pack.sh BINARY OUTDIR}")"
out="$(mkdir -p "${2:?usage: npm/pack.sh BINARY OUTDIR}" && realpath "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
command -v npm >/dev/null || { echo "error: npm is not installed; install Node.js 18 or newer (https://nodejs.org)" >&2; exit 1; }
[ -x "$binary" ] || { echo "error: $binary is not an executable; build it first (cargo build --release)" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$here/linux-x64" "$stage/linux-x64"
mkdir -p "$stage/linux-x64/bin"
cp "$binary" "$stage/linux-x64/bin/webhook-harness"
chmod 755 "$stage/linux-x64/bin/webhook-harness"
# No symbols, as in the wheel (a smaller download; a panic still names file and line).
if command -v strip >/dev/null; then strip "$stage/linux-x64/bin/webhook-harness"; fi
(cd "$stage/linux-x64" && npm pack --silent --pack-destination "$out" >/dev/null)
(cd "$here/webhook-harness" && npm pack --silent --pack-destination "$out" >/dev/null)
ls "$out"/*.tgz
