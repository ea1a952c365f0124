#!/usr/bin/env bash
# The crate as crates.io would get it: `cargo package --locked`, its file
# list checked against what Cargo.toml's `include` means to ship, then the
# packaged crate (unpacked from its .crate tarball) built and its unit tests
# run, with its own Cargo.lock. CI runs this (.ci/run); the build shares
# target/ so that only this crate compiles again.
# Usage: tests/tools/package.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

version="$(cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')"
echo "packaging webhook-harness $version" >&2

# Only what a build needs: no tests, example receivers, docs or packaging.
unexpected="$(cargo package --list --locked --allow-dirty \
  | grep -vE '^(src/.*\.rs|scenarios/[a-z-]+\.yaml|schema/[a-z-]+\.schema\.json|README\.md|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json)$' || true)"
if [ -n "$unexpected" ]; then
  echo "error: the package would ship files Cargo.toml's include does not mean to:" >&2
  echo "$unexpected" >&2
  exit 1
fi

# The tarball; verified below by a build of our own that shares target/.
cargo package --locked --allow-dirty --no-verify >&2
crate="target/package/webhook-harness-$version.crate"
size="$(du -k "$crate" | cut -f1)"
echo "$crate: ${size} KiB" >&2
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$crate" -C "$unpacked"
cd "$unpacked/webhook-harness-$version"
# The binary as `cargo install webhook-harness` builds it, and the unit tests.
# Sharing target/, cargo would take this crate's artifacts built from the
# checkout for fresh (the same package, id and file times): a profile
# setting of this crate alone gives it artifacts of its own, compiled from
# the packaged sources, while the dependencies are reused.
own=(--config 'profile.dev.package.webhook-harness.codegen-units=64')
CARGO_TARGET_DIR="$root/target" cargo build "${own[@]}" --locked --bin webhook-harness >&2
CARGO_TARGET_DIR="$root/target" cargo test "${own[@]}" --locked --lib >&2
echo "the packaged crate builds and passes its unit tests" >&2
