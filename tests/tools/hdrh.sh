#!/usr/bin/env bash
# Runs read_hlog.py with HdrHistogram's Python package, installed (once) into
# tests/tools/.venv at the versions of requirements.txt.
# Usage: tests/tools/hdrh.sh FILE.hlog    (tests/tools/hdrh.sh --install: only install)
set -euo pipefail
cd "$(dirname "$0")"
command -v python3 >/dev/null || { echo "error: python3 is not installed; install Python 3.11 or newer" >&2; exit 1; }
if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
  echo "installing hdrhistogram into tests/tools/.venv..." >&2
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt >&2
  touch .venv/.installed
fi
[ "${1:-}" = "--install" ] && exit 0
file="$(cd "$OLDPWD" && realpath "${1:?usage: hdrh.sh FILE.hlog}")"
exec .venv/bin/python read_hlog.py "$file"
