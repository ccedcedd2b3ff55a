#!/usr/bin/env bash
# Proves that livefour can be consumed the ways the README promises, by building and running the
# consumer project next to this script:
#   1. against an installed tree (cmake --install to a temporary prefix, then moved elsewhere:
#      the package must be relocatable), with find_package(livefour 0.1) — and 0.2 must be refused;
#   2. through pkg-config (one g++ command line);
#   3. through add_subdirectory of the source tree;
#   4. through FetchContent (SOURCE_DIR);
#   5. from the Debian package: cpack -G DEB, check its name, contents and Depends, install it with
#      apt-get, build the consumer against /usr (CMake and pkg-config), then remove it.
# Step 5 needs root (or password-less sudo) and apt; without them the script runs 1–4 and exits 77
# (ctest: skipped). Any failure exits 1 and prints the failing step's log.
#
#   test/consumer/check.sh [--source DIR] [--build DIR]
#
# Defaults: the repository holding this script and its build/release directory, which must be
# built (the install step copies its library and tools). LIVEFOUR_CHECK_JOBS sets build
# parallelism (default 2).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=$source_dir/build/release
while (($#)); do
  case $1 in
    --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
    --build) build_dir=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 [--source DIR] [--build DIR]" >&2; exit 2 ;;
  esac
done
jobs=${LIVEFOUR_CHECK_JOBS:-2}

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")
[[ -n $version ]] || { echo "packaging: $build_dir is not a configured livefour build" >&2; exit 1; }

work=$(mktemp -d)
deb_installed=0
SUDO=""
cleanup() {
  if ((deb_installed)); then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o DPkg::Lock::Timeout=300 livefour \
      > "$work/apt-remove.log" 2>&1 || echo "packaging: could not remove the livefour package" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

current=""
log=""
step() {  # step NAME: starts a step; its commands append to $log
  current=$1
  log=$work/$(tr ' /' '__' <<<"$1").log
  : > "$log"
  step_start=$SECONDS
}
ok() { echo "packaging: $current: ok ($((SECONDS - step_start)) s)"; }
fail() {
  echo "packaging: $current: FAIL: $*" >&2
  [[ -s $log ]] && tail -n 40 "$log" >&2
  exit 1
}
run() { "$@" >> "$log" 2>&1 || fail "$(printf '%q ' "$@")"; }

# Consumer builds: Release (no -g, so ccache results do not depend on the build directory) and
# ccache when present, so that the library compiled by add_subdirectory is reused by FetchContent
# and by the next run of this script.
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
command -v ninja > /dev/null && cmake_args+=(-G Ninja)
cxx=(g++ -std=c++20)
if command -v ccache > /dev/null; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cxx=(ccache "${cxx[@]}")
fi

consumer() {  # consumer BUILD_DIR CMAKE_ARGS...: configure, build and run the consumer
  local dir=$1
  shift
  run cmake -S "$here" -B "$dir" "${cmake_args[@]}" "$@"
  run cmake --build "$dir" --parallel "$jobs"
  run "$dir/consumer"
  grep -q '^consumer ok: ' "$log" || fail "the consumer did not report success"
}

# ---- 1. installed tree ---------------------------------------------------------------------------
step "install tree"
run cmake --install "$build_dir" --prefix "$work/stage"
mv "$work/stage" "$work/prefix"  # relocated after installation: nothing may point at the old path
prefix=$work/prefix
config=$(find "$prefix" -name livefourConfig.cmake)
[[ -n $config ]] || fail "livefourConfig.cmake is not installed"
libdir=${config%/cmake/livefour/livefourConfig.cmake}  # lib, or lib/<multiarch> for a /usr prefix
for f in "$prefix"/include/livefour/{client.hpp,detail/multipart_body.hpp} "$libdir"/liblivefour.a \
         "$libdir"/cmake/livefour/livefour{Config,ConfigVersion,Targets}.cmake "$libdir"/pkgconfig/livefour.pc \
         "$prefix"/bin/{livefour,livefour-emulator}; do
  [[ -e $f ]] || fail "${f#"$prefix"/} is not installed"
done
if grep -rlF -e "$source_dir" -e "$build_dir" -e "$work/stage" "$libdir/cmake" "$libdir/pkgconfig" >> "$log"; then
  fail "installed package files name build or staging paths"
fi
run "$prefix/bin/livefour" --help
run "$prefix/bin/livefour-emulator" --help
consumer "$work/installed" -DLIVEFOUR_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix"
grep -q "livefour $version from $libdir/cmake/livefour" "$log" || fail "find_package found another livefour"
if cmake -S "$here" -B "$work/too-new" "${cmake_args[@]}" -DLIVEFOUR_CONSUMER_MODE=package \
     -DCMAKE_PREFIX_PATH="$prefix" -DLIVEFOUR_CONSUMER_VERSION=0.2 > "$work/too-new.log" 2>&1; then
  fail "find_package(livefour 0.2) accepted version $version"
fi
grep -q 'compatible with requested version "0.2"' "$work/too-new.log" ||
  { cat "$work/too-new.log" >> "$log"; fail "find_package(livefour 0.2) failed for another reason"; }
ok

# ---- 2. pkg-config -------------------------------------------------------------------------------
step "pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
[[ $(pkg-config --modversion livefour) == "$version" ]] || fail "pkg-config --modversion livefour"
# shellcheck disable=SC2046  # pkg-config output is a list of words
run "${cxx[@]}" "$here/main.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs livefour)
run "$work/pc-consumer"
unset PKG_CONFIG_PATH
ok

# ---- 3. add_subdirectory, 4. FetchContent --------------------------------------------------------
step "add_subdirectory"
consumer "$work/subdirectory" -DLIVEFOUR_CONSUMER_MODE=subdirectory -DLIVEFOUR_SOURCE_DIR="$source_dir"
ok
step "FetchContent"
consumer "$work/fetchcontent" -DLIVEFOUR_CONSUMER_MODE=fetchcontent -DLIVEFOUR_SOURCE_DIR="$source_dir" \
  -DFETCHCONTENT_BASE_DIR="$work/fetchcontent/_deps"
ok

# ---- 5. Debian package ---------------------------------------------------------------------------
step "deb"
skip() { echo "packaging: deb: skipped: $*"; exit 77; }
for tool in cpack dpkg-deb apt-get; do
  command -v $tool > /dev/null || skip "$tool is missing"
done
if [[ $(id -u) -ne 0 ]]; then
  sudo -n true 2> /dev/null || skip "needs root (or password-less sudo) for apt-get"
  SUDO=sudo
fi
if dpkg-query -W -f='${Status}' livefour 2> /dev/null | grep -q "install ok installed"; then
  skip "a livefour package is already installed here; not replacing it"
fi

run cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/deb"
deb=$work/deb/livefour_${version}_$(dpkg --print-architecture).deb
[[ -f $deb ]] || fail "cpack did not produce $(basename "$deb"): $(ls "$work/deb")"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libboost-json1.81.0 libboost-url1.81.0 libssl3 libboost1.81-dev libboost-json1.81-dev \
         libboost-url1.81-dev libssl-dev; do
  [[ ", $depends," == *", $d"[,\ ]* ]] || fail "Depends lacks $d: $depends"
done
dpkg-deb -c "$deb" > "$work/deb-contents.txt"
for f in '/usr/bin/livefour' '/usr/bin/livefour-emulator' '/usr/include/livefour/client.hpp' \
         '/usr/lib(/[^/]+)?/liblivefour\.a' '/usr/lib(/[^/]+)?/cmake/livefour/livefourConfig\.cmake' \
         '/usr/lib(/[^/]+)?/pkgconfig/livefour\.pc'; do
  grep -Eq " \.$f\$" "$work/deb-contents.txt" || fail "the package lacks $f"
done

deb_installed=1  # from here on, the exit trap removes the package whatever happens
run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "$deb"
dpkg-query -W -f='${Status}' livefour | grep -q "install ok installed" || fail "livefour is not installed"
run /usr/bin/livefour --help
consumer "$work/from-deb" -DLIVEFOUR_CONSUMER_MODE=package
grep -Eq "livefour $version from /usr/lib(/[^/]+)?/cmake/livefour" "$log" || fail "find_package did not use the package"
[[ $(pkg-config --modversion livefour) == "$version" ]] || fail "pkg-config does not see the package"
# shellcheck disable=SC2046
run "${cxx[@]}" "$here/main.cpp" -o "$work/deb-pc-consumer" $(pkg-config --cflags --libs livefour)
run "$work/deb-pc-consumer"
run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o DPkg::Lock::Timeout=300 livefour
deb_installed=0
[[ ! -e /usr/include/livefour ]] || fail "/usr/include/livefour is left after apt-get remove"
ok

echo "packaging: all passed (installed tree, pkg-config, add_subdirectory, FetchContent, $(basename "$deb"))"
