#!/usr/bin/env bash
# Builds and runs livefour's libFuzzer targets (see test/fuzz/CMakeLists.txt).
#
#   test/fuzz/run.sh [SECONDS]   build, then fuzz each target SECONDS (default 60) in turn
#   test/fuzz/run.sh --ci        build, replay the regressions, fuzz each target 20 s
#   test/fuzz/run.sh --replay    build, run every file of regressions/<target>/ once
#   test/fuzz/run.sh --build     build only
#   FUZZ_TARGETS="fuzz_response" test/fuzz/run.sh 300     one target only
#
# Exit status: non-zero when the build fails or any target crashes, leaks, times out or runs
# out of memory (libFuzzer's own exit codes are passed through as 1).
#
# Corpora: the checked-in seeds (corpus/<target>/) are read, never written. New inputs go to a
# scratch directory, $BUILD/corpus/<target>/, which persists between runs; crashes are written to
# $BUILD/artifacts/<target>/ (copy a minimised reproducer to regressions/<target>/ once the bug
# is understood: --replay and --ci replay them forever). Logs: $BUILD/logs/<target>.log.
#
# Environment: LIVEFOUR_FUZZ_BUILD (build directory, default build/fuzz), CXX for the configure
# (default clang++-14, else clang++), FUZZ_JOBS (build parallelism, default 1: the machine is
# shared; scripts/test.sh's fuzz stage uses 2),
# FUZZ_TARGETS (space-separated subset), LIVEFOUR_FUZZ_TOLERATE (see fuzz_support.hpp; ignored
# by --ci and --replay).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${LIVEFOUR_FUZZ_BUILD:-$root/build/fuzz}"
targets=(${FUZZ_TARGETS:-fuzz_response fuzz_multipart_roundtrip fuzz_emulator_request fuzz_emulator_json})

mode=fuzz
seconds=60
case "${1:-}" in
  "") ;;
  --ci) mode=ci; seconds=20 ;;
  --replay) mode=replay ;;
  --build) mode=build ;;
  -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
  *[!0-9]*) echo "usage: $0 [SECONDS] | --ci | --replay | --build" >&2; exit 2 ;;
  *) seconds="$1" ;;
esac
if [[ $mode == ci || $mode == replay ]]; then unset LIVEFOUR_FUZZ_TOLERATE; fi

# Per-target libFuzzer options: input size and allocation caps. The caps make "unbounded
# allocation" a crash: no input of a few KiB may need more.
max_len() {
  case "$1" in
    fuzz_emulator_request) echo 8192 ;;
    *) echo 4096 ;;
  esac
}
common_flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1)
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

build_targets() {
  if [[ ! -f $build/CMakeCache.txt ]]; then
    local gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    local cxx="${CXX:-$(command -v clang++-14 || echo clang++)}"
    cmake -S "$here" -B "$build" "${gen[@]}" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  fi
  cmake --build "$build" -j"${FUZZ_JOBS:-1}" --target "${targets[@]}"
}

# Runs every regression file of $1 once; prints each failure. Returns the number of failures.
replay() {
  local t=$1 failed=0 f
  local dir="$here/regressions/$t"
  [[ -d $dir ]] || return 0
  for f in "$dir"/*; do
    [[ -f $f && $(basename "$f") != README* ]] || continue
    if ! "$build/$t" -runs=1 "$f" >"$build/logs/$t.replay.log" 2>&1; then
      echo "REGRESSION $t: $(basename "$f") fails:" >&2
      grep -E 'ERROR|invariant|runtime error|SUMMARY' "$build/logs/$t.replay.log" | head -5 >&2 || true
      failed=$((failed + 1))
    fi
  done
  return $failed
}

# Fuzzes $1 for $2 seconds; prints executions and coverage. Returns libFuzzer's status.
fuzz() {
  local t=$1 secs=$2 status=0
  local scratch="$build/corpus/$t" artifacts="$build/artifacts/$t/" log="$build/logs/$t.log"
  mkdir -p "$scratch" "$artifacts"
  local dict=()
  [[ -f $here/$t.dict ]] && dict=(-dict="$here/$t.dict")
  "$build/$t" "${common_flags[@]}" "${dict[@]}" -max_len="$(max_len "$t")" -max_total_time="$secs" \
    -artifact_prefix="$artifacts" "$scratch" "$here/corpus/$t" >"$log" 2>&1 || status=$?
  local last execs
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov:' | tail -1 || true)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  printf '%-26s %3ss  execs=%-9s %s\n' "$t" "$secs" "${execs:-?}" \
    "$(sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [0-9]+\/[0-9a-zA-Z]+).*/\1/' <<<"$last")"
  if [[ $status -ne 0 ]]; then
    echo "CRASH in $t (status $status); log: $log; artifacts: $artifacts" >&2
    grep -E 'ERROR|invariant|runtime error|SUMMARY|Test unit written' "$log" | head -8 >&2 || true
  fi
  return $status
}

build_targets
[[ $mode == build ]] && exit 0
mkdir -p "$build/logs"

rc=0
if [[ $mode == replay || $mode == ci ]]; then
  for t in "${targets[@]}"; do
    replay "$t" || rc=1
  done
  [[ $mode == replay ]] && { [[ $rc -eq 0 ]] && echo "replay: all regression inputs pass"; exit $rc; }
fi
for t in "${targets[@]}"; do
  fuzz "$t" "$seconds" || rc=1
done
exit $rc
