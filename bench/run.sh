#!/bin/sh
# bench/run.sh [harness options] — builds the benchmarks (release, -j2 at most) and runs them all:
# livefour vs curl side by side, results (JSON, CSV, summary.md) in bench/results/, plots in
# docs/img/. A full run takes 3–8 minutes on the 2-core VM (plus the build); `--quick` about 1.
#
#   bench/run.sh                      everything
#   bench/run.sh --quick              fewer rounds, no 1 GiB file, no 1,000 in-flight uploads
#   bench/run.sh --only throughput    some scenarios: machine,throughput,latency,expect,small,concurrency,crosscheck,
#                                     faceid (issue 14: API 3.0 LivenessCompare vs the official Node.js SDK
#                                     and curl; needs node and the SDK of scripts/setup.sh)
#   bench/run.sh --rounds 9           more A/B rounds on a noisy machine
#   bench/run.sh --label "abc123 + my change"   what the results are of (default: git describe)
#
# Environment: LIVEFOUR_BENCH_BUILD (build dir, default build/bench), JOBS (default 2),
# LIVEFOUR_BENCH_OUT (results dir, default bench/results), LIVEFOUR_BENCH_IMG (plots, default
# docs/img), LIVEFOUR_BENCH_PROFILE=1 to also record the perf profiles (bench/profile.sh), =faceid for
# the faceid profile only; LIVEFOUR_BENCH_EMULATOR=path/to/livefour-emulator adds the faceid scenario's
# emulator-as-server table.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LIVEFOUR_BENCH_BUILD:-$root/build/bench}
out=${LIVEFOUR_BENCH_OUT:-$root/bench/results}
img=${LIVEFOUR_BENCH_IMG:-$root/docs/img}
jobs=${JOBS:-2}
[ "$jobs" -le 2 ] || jobs=2

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIVEFOUR_BUILD_BENCH=ON \
    -DLIVEFOUR_BUILD_TESTS=OFF -DLIVEFOUR_BUILD_TOOLS=OFF -DLIVEFOUR_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target livefour-bench livefour-bench-sink

command -v curl >/dev/null || { echo "run.sh: curl is required (apt-get install -y curl)" >&2; exit 1; }
python3 "$root/bench/harness.py" --bin "$build/bench" --out "$out" "$@"

case ${LIVEFOUR_BENCH_PROFILE:-0} in
    1) "$root/bench/profile.sh" "$build/bench" "$out" ;;
    faceid) "$root/bench/profile.sh" "$build/bench" "$out" faceid ;;
esac

if command -v gnuplot >/dev/null; then
    mkdir -p "$img"
    gnuplot -e "results='$out'; img='$img'" "$root/bench/plots.gp"
    echo "plots written to $img"
else
    echo "run.sh: gnuplot not found (apt-get install -y gnuplot-nox): plots not regenerated" >&2
fi
