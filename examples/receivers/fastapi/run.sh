#!/usr/bin/env bash
# Installs the receiver's dependencies (once, into .venv) and runs it on
# 127.0.0.1:PORT with the test probe on. Usage: WEBHOOK_HARNESS_WEBHOOK_ID=... ./run.sh PORT
# (./run.sh --install: only install)
set -euo pipefail
cd "$(dirname "$0")"

command -v python3 >/dev/null || { echo "error: python3 is not installed; install Python 3.11 or newer (https://www.python.org)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: $(python3 --version 2>&1) is too old; FastAPI $(grep -o 'fastapi==[0-9.]*' requirements.txt | cut -d= -f3) needs Python 3.11 or newer" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null \
  || { echo "error: python3 has no venv module; install it (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

# .venv/.installed marks a finished install: reinstall when requirements.txt is newer.
if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
  echo "installing dependencies into .venv (pip install -r requirements.txt)..." >&2
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt >&2
  touch .venv/.installed
fi
[ "${1:-}" = "--install" ] && exit 0

port="${1:?usage: run.sh PORT}"
: "${WEBHOOK_HARNESS_WEBHOOK_ID:?set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier}"
export WEBHOOK_HARNESS_TEST_PROBE=1
exec .venv/bin/python -m uvicorn app:app --host 127.0.0.1 --port "$port" --no-access-log
