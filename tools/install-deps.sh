#!/usr/bin/env bash
# Installs what the build needs on Debian 12, skipping what is already
# present. Idempotent; run as root. The base set builds every target (the
# configure step looks for GoogleTest and Google Benchmark too), which is all
# the demo (README command 1) needs. The test command adds:
#   SBD_DEPS_TEST=1     clang, its sanitizer and fuzzer runtimes, clang-tidy
#                       (tools/sanitize.sh, fuzz.sh, lint.sh), and nats-server
#                       (the cluster tests start a 3-server JetStream cluster,
#                       tests/support/nats_cluster.h);
#   SBD_DEPS_BROWSER=1  what the wallet page's browser test needs: Chromium,
#                       and Node.js with npm unless a node is already on the
#                       PATH (its npm packages are installed by
#                       tests/browser/run.sh); the OpenAPI answers test runs
#                       on the same Node.js (tests/openapi/run.sh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git sqlite3 procps
  libsqlitecpp-dev libsqlite3-dev libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libboost-program-options1.81-dev libsimdjson-dev libabsl-dev libbenchmark-dev
  libgtest-dev libgmock-dev libssl-dev libjwt-dev
  # The NATS C client: cluster mode's server links it (and its tests use it).
  libnats-dev
)
if [[ "${SBD_DEPS_TEST:-0}" == 1 ]]; then
  packages+=(clang-14 libclang-rt-14-dev llvm-14 clang-tidy-14)
  # Only the tests run a NATS server; a cluster-mode deployment brings its own.
  packages+=(nats-server)
fi
if [[ "${SBD_DEPS_BROWSER:-0}" == 1 ]]; then
  packages+=(chromium fonts-dejavu-core)
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all Debian packages present" >&2
fi
