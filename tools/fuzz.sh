#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan,
# coverage on every library) into build-asan/ (configured exactly as
# tools/sanitize.sh does, so after it nothing is rebuilt) and runs each for a
# bounded time, starting from its seed corpus in tests/fuzz/corpus/<target>/.
#
#   tools/fuzz.sh                 every target
#   tools/fuzz.sh jwt_verify ...  only these
#
# Environment:
#   SBD_FUZZ_SECONDS  time per target (default 60; the test command uses less).
#   SBD_FUZZ_JOBS     build parallelism (default: nproc).
#   SBD_FUZZ_ARGS     extra libFuzzer flags, e.g. "-runs=100000" or "-jobs=2".
#
#   SBD_FUZZ_BUILD_DIR  build directory (default build-asan).
#
# New inputs the fuzzer finds go to <build>/fuzz-corpus/<target>/ (not into
# the repo; copy the interesting ones to tests/fuzz/corpus/<target>/ by
# hand). A crash stops that target, its input goes to <build>/fuzz-artifacts/,
# and the script exits 1 after running the others. To keep a crash as a
# regression test: copy the input into tests/fuzz/regressions/<target>/ (the
# ctest fuzz_<target>_regression runs every file there), fix, commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

all_targets=(request_parser jwt_verify websocket_frames replay_corrupt_db)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
seconds="${SBD_FUZZ_SECONDS:-60}"
jobs="${SBD_FUZZ_JOBS:-$(nproc)}"
dir="${SBD_FUZZ_BUILD_DIR:-build-asan}"
cxx="$(command -v clang++-14 || command -v clang++ || true)"
if [[ -z "$cxx" ]]; then
  echo "fuzz: clang++ not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# The same as tools/sanitize.sh's build-asan.
configure=(-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DSBD_SANITIZE=address
  -DSBD_BUILD_BENCHMARKS=OFF -DSBD_BUILD_TESTS=ON -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link
  -DSBD_BUILD_FUZZERS=ON)
bin="$dir/tests/fuzz"

start=$SECONDS
cmake -S . -B "$dir" -G Ninja "${configure[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" --target "${targets[@]/%/_fuzzer}"
echo "fuzz: build $((SECONDS - start)) s" >&2

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
if command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}"
fi

failed=()
for target in "${targets[@]}"; do
  corpus="$dir/fuzz-corpus/$target"
  artifacts="$dir/fuzz-artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$artifacts/")
  [[ -f "tests/fuzz/$target.dict" ]] && flags+=(-dict="tests/fuzz/$target.dict")
  case "$target" in
    request_parser | websocket_frames) flags+=(-max_len=8192) ;;
    replay_corrupt_db) flags+=(-max_len=1024) ;;
    *) flags+=(-max_len=4096) ;;
  esac
  echo "fuzz: $target for ${seconds} s" >&2
  t0=$SECONDS
  # shellcheck disable=SC2086  # SBD_FUZZ_ARGS is a list of flags.
  if "$bin/${target}_fuzzer" "${flags[@]}" ${SBD_FUZZ_ARGS:-} "$corpus" \
    "tests/fuzz/corpus/$target" 2>"$dir/$target.log"; then
    echo "fuzz: $target clean ($((SECONDS - t0)) s): $(grep -E 'stat::number_of_executed_units' "$dir/$target.log" | awk '{print $2}') runs" >&2
  else
    echo "fuzz: $target FAILED ($((SECONDS - t0)) s); log $dir/$target.log, inputs in $artifacts/" >&2
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|^[a-z_]+_fuzzer: ' "$dir/$target.log" | head -60 >&2 || true
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all clean in $((SECONDS - start)) s" >&2
