#!/usr/bin/env bash
# The main job: build livefour, start the local emulator with TLS on a free port, and run a real
# signed livegetfour + livedetectfour upload through the verifying TLS client (the `livefour` CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target livefour-cli livefour-emulator

bin=build/release/tools
work=$(mktemp -d)
emu_pid=""
cleanup() {
  [[ -n "$emu_pid" ]] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Demo credentials, shared by the emulator and the client through the environment (never argv).
export LIVEFOUR_APPID=1250000000 LIVEFOUR_SECRET_ID=AKIDEXAMPLE LIVEFOUR_SECRET_KEY=SECRETKEYEXAMPLE

# A small sample "video" (an MP4 container header and random payload: the emulator checks the
# container, it cannot lip-read) and an ID-card "photo" (JPEG header).
{ printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c 600000 /dev/urandom; } > "$work/selfie.mp4"
{ printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00'; head -c 40000 /dev/urandom; } > "$work/card.jpg"

"$bin/livefour-emulator" --port 0 --write-ca "$work/ca.pem" --quiet > "$work/emulator.out" &
emu_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/emulator.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$work/emulator.out")
[[ -n "$port" ]] || { echo "demo: the emulator did not start" >&2; exit 1; }
# The CLI reads the endpoint and the CA file from the environment too (docs/cli.md).
export LIVEFOUR_ENDPOINT="https://127.0.0.1:$port" LIVEFOUR_CA_FILE="$work/ca.pem"
echo "== livefour-emulator listening on $LIVEFOUR_ENDPOINT (TLS, CA written to a temp file)"

echo "== livefour digits"
digits_json=$("$bin/livefour" digits)
echo "$digits_json"
digits=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["validate_data"])' <<<"$digits_json")

echo "== livefour detect --validate-data $digits --video selfie.mp4 --card card.jpg"
set +e
"$bin/livefour" detect --validate-data "$digits" --video "$work/selfie.mp4" --card "$work/card.jpg" --progress
status=$?
set -e
echo "== exit status $status (0 accepted, 1 negative verdict, 2 usage error, 3 API error, 4 no answer; see docs/cli.md)"
exit "$status"
