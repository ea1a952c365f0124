#!/usr/bin/env bash
# The action's run step: `webhook-harness run` with the action's inputs, the
# reports written to INPUT_REPORTS_DIR and their paths and the exit code
# given as outputs. The step summary is the tool's own (it appends to
# GITHUB_STEP_SUMMARY). The webhook id goes by environment, never argument.
set -euo pipefail
: "${GITHUB_OUTPUT:?not running as a GitHub Actions step (GITHUB_OUTPUT is not set)}"
args=(run)
[ -n "${INPUT_URL:-}" ] && args+=(--url "$INPUT_URL")
[ -n "${INPUT_SERVE:-}" ] && args+=(--serve "$INPUT_SERVE")
[ -n "${INPUT_EFFECTS_URL:-}" ] && args+=(--effects-url "$INPUT_EFFECTS_URL")
case "${INPUT_STRICT:-true}" in
  true) args+=(--strict) ;;
  false) ;;
  *) echo "::error::webhook-harness: the strict input is '${INPUT_STRICT}'; use true or false"; exit 2 ;;
esac
if [ -n "${INPUT_WEBHOOK_ID:-}" ]; then
  echo "::add-mask::$INPUT_WEBHOOK_ID"
  export WEBHOOK_HARNESS_WEBHOOK_ID="$INPUT_WEBHOOK_ID"
fi
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  # Split as a shell would (quotes kept together), without running anything.
  # A quote left open is an error, not arguments silently dropped.
  split="$(python3 -c 'import shlex, sys; print("\n".join(shlex.split(sys.argv[1])))' "$INPUT_ARGS" 2>&1)" \
    || { echo "::error::webhook-harness: the args input cannot be split ($split): close its quotes"; exit 2; }
  mapfile -t extra <<< "$split"
fi
dir="${GITHUB_WORKSPACE:-$PWD}/${INPUT_REPORTS_DIR:-webhook-harness-reports}"
mkdir -p "$dir"
args+=(--report-junit "$dir/junit.xml" --report-html "$dir/report.html")

set +e
webhook-harness "${args[@]}" "${extra[@]}"
code=$?
set -e
{
  echo "junit=$dir/junit.xml"
  echo "html=$dir/report.html"
  echo "exit-code=$code"
} >> "$GITHUB_OUTPUT"
exit "$code"
