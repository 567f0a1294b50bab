#!/usr/bin/env bash
# Runs the browser tests (ctest: browser_wallet): the wallet page, and CORS
# from a page of another origin.
#   tests/browser/run.sh path/to/sbd-ledger
# Installs the pinned npm packages (npm ci) when they are missing or older
# than package-lock.json; with them in place it needs no network. Chromium is
# Debian's (/usr/bin/chromium, or SBD_CHROMIUM): tools/install-deps.sh with
# SBD_DEPS_BROWSER=1 installs it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:-${SBD_LEDGER_BIN:-}}"
if [[ -z "$binary" || ! -x "$binary" ]]; then
  echo "usage: $0 path/to/sbd-ledger (or set SBD_LEDGER_BIN)" >&2
  exit 2
fi
SBD_LEDGER_BIN="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
export SBD_LEDGER_BIN

cd "$here"
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  echo "browser test: npm ci" >&2
  timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2
fi

exec timeout 600 node --test --test-concurrency=1 wallet.test.mjs cors.test.mjs
