#!/usr/bin/env bash
# Runs the OpenAPI answers test (ctest: openapi_answers).
#   tests/openapi/run.sh path/to/openapi_answer_recorder [path/to/openapi.json]
# Records real answers of the sbd-ledger binary (the recorder starts it), then
# validates the document and every answer with openapi.test.mjs. Installs the
# pinned npm packages (npm ci) when they are missing or older than
# package-lock.json; with them in place it needs no network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
recorder="${1:-}"
document="${2:-$here/../../transport/web/openapi.json}"
if [[ -z "$recorder" || ! -x "$recorder" ]]; then
  echo "usage: $0 path/to/openapi_answer_recorder [path/to/openapi.json]" >&2
  exit 2
fi
SBD_OPENAPI_DOCUMENT="$(cd "$(dirname "$document")" && pwd)/$(basename "$document")"
export SBD_OPENAPI_DOCUMENT

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SBD_OPENAPI_ANSWERS="$work/answers.json"
export SBD_OPENAPI_ANSWERS
timeout 300 "$recorder" "$SBD_OPENAPI_ANSWERS"

cd "$here"
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  echo "openapi test: npm ci" >&2
  timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2
fi

timeout 300 node --test --test-concurrency=1 openapi.test.mjs
