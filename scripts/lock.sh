#!/usr/bin/env bash
# Pin every dependency, with hashes, from pyproject.toml's ranges: requirements.lock for the app (the Dockerfile,
# scripts/serve.sh), requirements-test.lock for the app with its test and bench extras (scripts/test.sh, CI).
# Run it after changing a dependency in pyproject.toml, or with --upgrade to move every pin to the newest release.
# The pins are for CPython 3.11 on Linux, the image's: run it there.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip pip-tools
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --no-emit-index-url --no-emit-find-links --no-emit-trusted-host "$@")
"${compile[@]}" --output-file requirements.lock pyproject.toml
# The test lock is held to the app's pins, so that the tests run what the image runs.
"${compile[@]}" --extra test --extra bench --constraint requirements.lock --output-file requirements-test.lock \
    pyproject.toml
