#!/usr/bin/env bash
# README command 1: installs what is missing, builds the server (only the
# server: not the tests, fuzzers or benchmarks) and runs it on its embedded
# defaults: ./data/ledger.db, 127.0.0.1:8080, demo accounts alice, bob and
# carol. Extra arguments go to `sbd-ledger serve` (e.g. --listen, --db).
# SBD_BUILD_DIR picks the build directory (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh sbd-ledger
exec "${SBD_BUILD_DIR:-build}/tools/sbd-ledger/sbd-ledger" serve --demo "$@"
