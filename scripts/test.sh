#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the release preset, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release "$@"
