#!/usr/bin/env bash
# Builds into build/ (Release; SBD_BUILD_DIR picks another directory), all of
# it or only the targets named:
#
#   tools/build.sh               everything (the test command's build)
#   tools/build.sh sbd-ledger    only the server (the demo's build)
#
# A directory is configured once, on its first build; after that its cache
# is left as it is (cmake --build re-runs the configure step itself when a
# CMakeLists.txt changes), so a build directory configured for the
# sanitizers or by hand keeps its settings. Used by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${SBD_BUILD_DIR:-build}"
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
targets=()
(($#)) && targets=(--target "$@")
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
