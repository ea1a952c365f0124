#!/usr/bin/env bash
# The action's install step: webhook-harness INPUT_VERSION from PyPI into a
# virtual environment of its own, put on PATH for the steps that follow.
# pip's own settings apply (PIP_INDEX_URL, PIP_FIND_LINKS for a mirror).
set -euo pipefail
: "${INPUT_VERSION:?the version input of the action is empty}"
: "${GITHUB_PATH:?not running as a GitHub Actions step (GITHUB_PATH is not set)}"
python="$(command -v python3 || command -v python || true)"
[ -n "$python" ] || { echo "::error::webhook-harness: Python 3 is not on this runner; add actions/setup-python before this action"; exit 1; }
case "$(uname -s) $(uname -m)" in
  "Linux x86_64") ;;
  *) echo "::error::webhook-harness: the published wheel is for Linux x86_64; on $(uname -s) $(uname -m) install with cargo (cargo install webhook-harness)"; exit 1 ;;
esac
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/webhook-harness-venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "webhook-harness==$INPUT_VERSION"
installed="$("$venv/bin/webhook-harness" --version)"
[ "$installed" = "webhook-harness $INPUT_VERSION" ] \
  || { echo "::error::webhook-harness: asked for $INPUT_VERSION, got '$installed'"; exit 1; }
echo "$venv/bin" >> "$GITHUB_PATH"
echo "$installed installed"
