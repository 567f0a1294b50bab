#!/usr/bin/env bash
# Installs what is missing, builds, and runs the server on its embedded
# defaults: ./data/ledger.db, 127.0.0.1:8080, demo accounts alice, bob, carol.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
mkdir -p data
exec build/tools/sbd-ledger serve --demo "$@"
