#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever livefour needs to build and test that is missing.
set -euo pipefail
pkgs=(g++ cmake ninja-build ccache pkg-config
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libssl-dev openssl doctest-dev python3 curl clang-format
      clang-14 libclang-rt-14-dev)  # the fuzz stage: clang 14 and libFuzzer (libclang_rt.fuzzer)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "livefour setup: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
