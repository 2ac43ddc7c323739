#!/usr/bin/env bash
# Install notesbot into .venv and run the Slack app on NOTES_DIR (default: the bundled notes/ vault).
# Slack settings come from the environment or .env (see README.md and deploy/README.md).
# Dependencies come pinned and hash-checked from requirements.lock (scripts/lock.sh makes it from pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e .
exec .venv/bin/notesbot serve "$@"
