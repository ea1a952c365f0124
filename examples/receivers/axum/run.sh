#!/usr/bin/env bash
# Builds the receiver (once; cargo keeps it up to date in the project's target/)
# and runs it on 127.0.0.1:PORT with the test probe on.
# Usage: WEBHOOK_HARNESS_WEBHOOK_ID=... ./run.sh PORT    (./run.sh --install: only build)
set -euo pipefail
cd "$(dirname "$0")/../../.."

cargo="${CARGO:-cargo}"
command -v "$cargo" >/dev/null || { echo "error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2; exit 1; }
# The same profile as `cargo test`, so CI builds it once.
"$cargo" build --quiet --locked --example axum_receiver >&2
[ "${1:-}" = "--install" ] && exit 0

port="${1:?usage: run.sh PORT}"
: "${WEBHOOK_HARNESS_WEBHOOK_ID:?set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier}"
export WEBHOOK_HARNESS_TEST_PROBE=1
exec "${CARGO_TARGET_DIR:-target}/debug/examples/axum_receiver" "$port"
