#!/usr/bin/env bash
# Runs clang-tidy-14 (checks: .clang-tidy) over the sources of engine/,
# store/, transport/ and tools/, using the compile commands of a clang build
# configured into build-tidy/ (nothing is compiled; the wallet page's
# generated source is not ours and not checked). Prints the findings and a
# count per module; exits 1 if there is any.
#
#   tools/lint.sh                      every source
#   tools/lint.sh transport/routes.cc  only these
#
# Environment: SBD_TIDY_BUILD_DIR (default build-tidy), SBD_TIDY_JOBS (nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="${SBD_TIDY_BUILD_DIR:-build-tidy}"
jobs="${SBD_TIDY_JOBS:-$(nproc)}"
tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
runner="$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)"
if [[ -z "$tidy" || -z "$runner" ]]; then
  echo "lint: clang-tidy not found (Debian: apt-get install clang-tidy-14)" >&2
  exit 2
fi

if [[ ! -f "$dir/compile_commands.json" ]]; then
  # Configure only: compile_commands.json is all clang-tidy needs. Clang,
  # so every flag in it is one clang-tidy understands.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$(command -v clang++-14 || echo clang++)" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi

if (($#)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'engine/*.cc' 'store/*.cc' 'transport/*.cc' 'tools/*.cc')
fi
# Only what the build compiles (a file not in compile_commands.json has no flags).
regex="^$root/($(printf '%s|' "${files[@]}" | sed 's/[.]/[.]/g; s/|$//'))\$"

log="$dir/clang-tidy.log"
"$runner" -clang-tidy-binary "$tidy" -p "$dir" -j "$jobs" -quiet "$regex" >"$log" 2>&1 || true

# One line per finding: file:line:col: warning: text [check].
# (run-clang-tidy colours its output even into a file: strip the escapes.)
findings="$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" |
  grep -E '^/.*: (warning|error): .*\[[a-z0-9.,-]+\]$' | sort -u || true)"
if [[ -z "$findings" ]]; then
  echo "lint: ${#files[@]} files, no findings" >&2
  exit 0
fi
echo "$findings"
echo "lint: findings per module:" >&2
echo "$findings" | sed -E "s|^$root/||; s|/.*||" | sort | uniq -c >&2
echo "lint: findings per check:" >&2
echo "$findings" | sed -E 's/.*\[([^]]+)\]$/\1/' | sort | uniq -c | sort -rn >&2
exit 1
