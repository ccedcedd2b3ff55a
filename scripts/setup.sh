#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever livefour needs to build and test that is missing.
set -euo pipefail
pkgs=(g++ cmake ninja-build ccache pkg-config
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libssl-dev openssl doctest-dev python3 curl clang-format
      clang-14 libclang-rt-14-dev  # the fuzz stage: clang 14 and libFuzzer (libclang_rt.fuzzer)
      tinyproxy-bin                # the HTTP proxy of test/integration/proxy_test.cpp: the binary only, no service
      prometheus-cpp-dev prometheus)  # examples/prometheus.cpp, and promtool to check its output
# Node.js runs the official Tencent Cloud SDK as a test peer (test/peers/node). A newer node that is
# already installed (with its npm) is used as it is; otherwise Debian's (18).
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "livefour setup: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Only promtool is wanted from `prometheus`; on a machine with systemd, Debian also starts the
  # server on :9090. When this script installed it, it stops and disables that service again.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null &&
     systemctl is-enabled --quiet prometheus 2>/dev/null; then
    echo "livefour setup: stopping the prometheus service (only its promtool is needed)" >&2
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# The SDK itself, at the exact versions of test/peers/node/package-lock.json, when what is
# installed is not the pinned version (about 10 s).
peer=test/peers/node
cd "$(dirname "$0")/.."
if ! node -e "process.exit(require('./$peer/node_modules/tencentcloud-sdk-nodejs/package.json').version ===
                            require('./$peer/package.json').dependencies['tencentcloud-sdk-nodejs'] ? 0 : 1)" 2>/dev/null; then
  echo "livefour setup: npm ci --prefix $peer" >&2
  npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error >/dev/null
fi
