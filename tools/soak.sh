#!/usr/bin/env bash
# The soak of issue 6 (not part of tools/test.sh): sbd-ledger on a fresh log
# for 10 minutes at a steady 200 transfers/s, with 1,000 WebSocket clients
# connecting, dropping and resuming with `since`. Every 10 s it prints the
# server's RSS and open fds, the clients connected, the transfers and the
# send-latency percentiles of the window; at the end it checks that no
# WebSocket message was lost, duplicated or misdelivered. Exit 0 = PASS.
#
#   tools/soak.sh                                 # the 10-minute soak
#   tools/soak.sh --duration 90 --clients 300     # a short one
#   tools/soak.sh --help                          # every flag of sbd-soak
#
# Extra arguments go to sbd-soak (the later of two equal flags wins).
# SBD_BUILD_DIR picks the build directory (default build/); it is configured
# with the benchmarks on, since sbd-soak reuses sbd-bench's clients.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${SBD_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSBD_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target sbd-soak sbd-ledger
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$build_dir/tests/hardening/sbd-soak" \
  --clients 1000 --senders 8 --rate 200 --duration 600 --sample 10 \
  --lifetime-min 2 --lifetime-max 30 --offline-max 2 "$@"
