#!/usr/bin/env bash
# Install notesbot with its test extras into .venv and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,bench]'
.venv/bin/ruff check bot tests bench
.venv/bin/python -m pytest "$@"
