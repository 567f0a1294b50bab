#!/usr/bin/env bash
# Builds the GoogleTest suite (and the binaries its end-to-end tests start)
# under ASan+UBSan (build-asan/) and under TSan (build-tsan/), and runs it
# with ctest, excluding the browser test (label `browser`) and the cluster
# tests that only drive processes and wait out elections (label
# `cluster_processes`; the in-process cluster test runs).
#
#   tools/sanitize.sh                 both suites
#   tools/sanitize.sh address         ASan+UBSan only
#   tools/sanitize.sh thread          TSan only
#
# Environment:
#   SBD_SANITIZE_TESTS  ctest -R regex selecting the tests to run (default:
#                       all but the browser test). CI runs everything; set it
#                       to narrow a run by hand, e.g. '^(engine|store)_'.
#   SBD_SANITIZE_JOBS   build and ctest parallelism (default: nproc).
#   SBD_SANITIZE_CXX    compiler (default: clang++-14 if installed, else c++).
#                       Clang: GCC 12 at -O2 with -fsanitize=address reports
#                       false -Wmaybe-uninitialized inside Boost.Beast, which
#                       -Werror turns into a failed build.
#
# Each suite prints its wall time. A report is an error: the runtimes halt on
# the first one and the test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

jobs="${SBD_SANITIZE_JOBS:-$(nproc)}"
# Shared with tools/fuzz.sh, whose build directory is build-asan too.
SANITIZE_OPT_FLAGS="-O1 -gline-tables-only"
cxx="${SBD_SANITIZE_CXX:-$(command -v clang++-14 || echo c++)}"
modes=("$@")
((${#modes[@]})) || modes=(address thread)

# The ledger simulation's seeds: the release suite runs 2,000 (its job is
# finding a schedule that breaks an invariant); under a sanitizer the same
# code paths in a few hundred seeds are what finds a race or a bad access,
# and 2,000 made that one test the suite's long pole (134 s of ASan's 163 s).
export SBD_SIM_SEEDS="${SBD_SIM_SEEDS:-300}"

# Every report fails the test that produced it, with a symbolised stack.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:check_initialization_order=1:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$root/tests/tsan.supp:print_suppressions=0"
if command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}"
  export TSAN_OPTIONS="$TSAN_OPTIONS:external_symbolizer_path=$(command -v llvm-symbolizer)"
fi

run_suite() {
  local mode="$1" dir="build-${1/address/asan}"
  dir="${dir/thread/tsan}"
  local start=$SECONDS
  echo "sanitize: $mode: configuring and building $dir" >&2
  local extra=()
  if [[ "$mode" == address && "$("$cxx" --version)" == *clang* ]]; then
    # build-asan doubles as tools/fuzz.sh's build (same flags there): the
    # libFuzzer targets and their regression tests come with it, and CI
    # compiles the tree once less. Coverage instrumentation costs the
    # tests little.
    extra=(-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DSBD_BUILD_FUZZERS=ON)
  fi
  # -O1 with line tables only: what the sanitizers' reports need (symbolised
  # stacks with lines), and about a fifth less compile time than -O2 -g.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$SANITIZE_OPT_FLAGS" \
    -DSBD_SANITIZE="$mode" -DSBD_BUILD_BENCHMARKS=OFF -DSBD_BUILD_TESTS=ON "${extra[@]}" \
    >/dev/null || return 1
  # Everything but the benchmarks: the test executables and the sbd-ledger /
  # sbd-replay binaries the end-to-end tests run (so those run sanitized too).
  # (set -e does not apply inside a function called from `||`.)
  cmake --build "$dir" -j "$jobs" || return 1
  local built=$SECONDS
  echo "sanitize: $mode: running tests" >&2
  local filter=()
  [[ -n "${SBD_SANITIZE_TESTS:-}" ]] && filter=(-R "$SBD_SANITIZE_TESTS")
  # Every process writes its reports to a file here: also the sbd-ledger
  # servers the end-to-end tests start (their stderr goes to a temporary
  # file) and the ones they SIGKILL, whose exit code nobody checks. (ASan
  # and UBSan share one runtime and so one log_path.)
  local reports="$root/$dir/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  local status=0
  # Sanitized code runs 2-15x slower: the generous timeout keeps a busy CI
  # machine from failing a correct test.
  ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$reports/asan" \
    UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$reports/asan" \
    TSAN_OPTIONS="$TSAN_OPTIONS:log_path=$reports/tsan" \
    ctest --test-dir "$dir" --output-on-failure -LE "browser|cluster_processes" -j "$jobs" --timeout 900 \
    "${filter[@]}" || status=$?
  echo "sanitize: $mode: build $((built - start)) s, tests $((SECONDS - built)) s" >&2
  if compgen -G "$reports/*" >/dev/null; then
    echo "sanitize: $mode: sanitizer reports (also in $reports/):" >&2
    for report in "$reports"/*; do
      echo "==== $report" >&2
      cat "$report" >&2
    done
    status=1
  fi
  return "$status"
}

failed=()
for mode in "${modes[@]}"; do
  case "$mode" in
    address | thread) run_suite "$mode" || failed+=("$mode") ;;
    *)
      echo "usage: tools/sanitize.sh [address] [thread]" >&2
      exit 2
      ;;
  esac
done
if ((${#failed[@]})); then
  echo "sanitize: FAILED: ${failed[*]}" >&2
  exit 1
fi
