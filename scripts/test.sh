#!/usr/bin/env bash
# Runs every test: installs what is missing, then
#   0. the format check (scripts/format.sh --check: .clang-format applied to every C++ source);
#   1. the release build and its whole suite (unit, integration over real sockets, peers,
#      emulator, examples, packaging), the thread_safe-off rerun of the integration tests left to 2;
#   2. an ASan+UBSan build (halt on the first error) running unit and integration tests (the
#      latter twice: client_options::thread_safe on and off);
#   3. a TSan build running the tests that share clients between threads and cancel across them;
#   4. the libFuzzer targets (test/fuzz/run.sh --ci, clang 14): every regression input replayed,
#      then each target fuzzed for 20 s.
# Stages can be picked: scripts/test.sh [format] [release] [asan] [tsan] [fuzz]   (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

stages=("$@")
((${#stages[@]})) || stages=(format release asan tsan fuzz)
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/test/tsan.supp

# The ASan build only needs what its tests run.
san_targets=(livefour-unit-tests livefour-integration-tests livefour-emulator livefour-cli
             livefour-emulator-logic-tests)

# Each stage's wall time, printed as it ends and summed up at the end (CI's budget is 30 min).
timings=()
for stage in "${stages[@]}"; do
  echo "== livefour tests: $stage"
  stage_start=$SECONDS
  [[ $stage == format || $stage == fuzz ]] || cmake --preset "$stage" >/dev/null
  case "$stage" in
    format)
      scripts/format.sh --check ;;
    release)
      cmake --build --preset release
      # integration-single-threaded (thread_safe off) runs in the ASan stage on the same tests;
      # running it here as well cost ~3 minutes of CI (160 s in the release stage).
      ctest --preset release -LE concurrency -E '^integration-single-threaded$' ;;
    asan)
      cmake --build --preset asan --target "${san_targets[@]}"
      ctest --preset asan -R '^(unit|integration|integration-single-threaded|cli|emulator-logic|emulator-curl-smoke)$' ;;
    tsan)
      # The client's threading is what TSan checks; the emulator and CLI come from the release
      # build (built here if the release stage was skipped).
      [[ -x build/release/tools/livefour-emulator && -x build/release/tools/livefour ]] || {
        cmake --preset release >/dev/null
        cmake --build --preset release --target livefour-emulator livefour-cli; }
      cmake --build --preset tsan --target livefour-unit-tests livefour-integration-tests
      LIVEFOUR_TEST_EMULATOR=$PWD/build/release/tools/livefour-emulator \
      LIVEFOUR_TEST_CLI=$PWD/build/release/tools/livefour \
        ctest --preset tsan -L concurrency ;;
    fuzz)
      # A configure of its own (build/fuzz, ccache when installed); 2 jobs: CI has the machine.
      CXX=clang++-14 FUZZ_JOBS="${FUZZ_JOBS:-2}" test/fuzz/run.sh --ci ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
  timings+=("$stage $((SECONDS - stage_start)) s")
  echo "== livefour tests: $stage passed in $((SECONDS - stage_start)) s"
done
echo "== livefour tests: all passed in ${SECONDS} s (setup included): ${timings[*]}"
