#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
SBD_DEPS_BROWSER=1 tools/install-deps.sh
tools/build.sh
ctest --test-dir "${SBD_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
