#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
SBD_DEPS_TEST=1 SBD_DEPS_BROWSER=1 tools/install-deps.sh
tools/build.sh
# The suite under ASan+UBSan and under TSan, and each fuzz target for a short
# bounded run (SBD_TEST_QUICK=1 skips these, for a fast local loop); then the
# whole suite on the release build, whose ctest summary closes the output.
if [[ "${SBD_TEST_QUICK:-0}" != 1 ]]; then
  tools/sanitize.sh
  SBD_FUZZ_SECONDS="${SBD_FUZZ_SECONDS:-10}" tools/fuzz.sh
fi
ctest --test-dir "${SBD_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
