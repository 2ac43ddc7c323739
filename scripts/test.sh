#!/usr/bin/env bash
# Install notesbot with its test extras into .venv and run the whole test suite.
# Dependencies come pinned and hash-checked from requirements-test.lock (scripts/lock.sh makes it from pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet --require-hashes -r requirements-test.lock
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/ruff check bot tests bench
.venv/bin/ruff format --check bot tests bench
.venv/bin/python -m pytest "$@"
