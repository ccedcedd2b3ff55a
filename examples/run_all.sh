#!/usr/bin/env bash
# Runs every example against a local livefour-emulator (TLS, verified with its generated CA) and
# checks what each one prints. Exits non-zero on the first failure. ctest runs it as `examples`.
#
#   examples/run_all.sh [--emulator PATH] [--bin-dir DIR]
#
# Defaults: build/release/tools/livefour-emulator and build/release/examples.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
emulator=$root/build/release/tools/livefour-emulator
bin=$root/build/release/examples
while (($#)); do
  case $1 in
    --emulator) emulator=$2; shift 2 ;;
    --bin-dir) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--emulator PATH] [--bin-dir DIR]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "examples: FAIL: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do
    [[ -s $f ]] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

# Waits for "listening on HOST:PORT" in a log file and prints the port.
port_of() {
  local log=$1 port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n1)
    [[ -n $port ]] && { echo "$port"; return 0; }
    sleep 0.05
  done
  return 1
}

# The emulator and the examples share these demo credentials through the environment.
export LIVEFOUR_APPID=1250000000 LIVEFOUR_SECRET_ID=AKIDEXAMPLE LIVEFOUR_SECRET_KEY=SECRETKEYEXAMPLE

# A "video" the emulator accepts: it checks the container's magic bytes, it cannot lip-read.
video=$work/selfie.mp4
{ printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c 300000 /dev/urandom; } > "$video"

"$emulator" --port 0 --write-ca "$work/ca.pem" --quiet > "$work/emulator.out" 2> "$work/emulator.err" &
pids+=($!)
emu_port=$(port_of "$work/emulator.out") || fail "the emulator did not start"
common=(--endpoint "https://127.0.0.1:$emu_port" --ca-file "$work/ca.pem")

# The three single-flow examples: exit 0, print the digits and an accepted verdict.
for ex in coroutine callback future; do
  "$bin/livefour-example-$ex" "${common[@]}" --video "$video" > "$work/$ex.out" 2> "$work/$ex.err" ||
    fail "$ex exited with status $?"
  grep -q '^digits to read aloud: [0-9]\{4\}$' "$work/$ex.out" || fail "$ex printed no digits"
  grep -q '"live_status":0' "$work/$ex.out" || fail "$ex: reply without live_status 0"
  grep -q '^verdict: accepted$' "$work/$ex.out" || fail "$ex: verdict not accepted"
done

# A negative verdict is reported as such (exit 1), not as a failure of the call (3): the emulator
# answers live_status -5001 to a file that is not a video container.
head -c 20000 /dev/urandom > "$work/noise.bin"
set +e
"$bin/livefour-example-coroutine" "${common[@]}" --video "$work/noise.bin" > "$work/negative.out" 2> "$work/negative.err"
status=$?
set -e
[[ $status -eq 1 ]] || fail "coroutine with a non-video: exit $status, expected 1"
grep -q '^verdict: rejected' "$work/negative.out" || fail "coroutine with a non-video: no rejection"

# 100 concurrent verifications on 4 threads through one client.
"$bin/livefour-example-multi-thread" "${common[@]}" --video "$video" --count 100 --threads 4 \
  > "$work/multi_thread.out" 2> "$work/multi_thread.err" || fail "multi_thread exited with status $?"
grep -q '^100 verifications on 4 threads in .*: 100 accepted, 0 rejected, 0 failed$' "$work/multi_thread.out" ||
  fail "multi_thread: not every verification was accepted"
# The same with an io_context and a client (thread_safe off) per thread.
"$bin/livefour-example-multi-thread" "${common[@]}" --video "$video" --count 100 --threads 4 --layout per-thread \
  > "$work/multi_thread_per.out" 2> "$work/multi_thread_per.err" || fail "multi_thread --layout per-thread: status $?"
grep -q '^100 verifications on 4 threads in .*: 100 accepted, 0 rejected, 0 failed$' "$work/multi_thread_per.out" ||
  fail "multi_thread --layout per-thread: not every verification was accepted"

# The embedding server: 20 users at once fetch digits and upload their video; every reply must
# carry an accepted verdict. Half the uploads go with chunked encoding (no Content-Length).
"$bin/livefour-example-embed-server" "${common[@]}" --port 0 --threads 4 --spool-dir "$work" \
  > "$work/embed_server.out" 2> "$work/embed_server.err" &
server_pid=$!
pids+=("$server_pid")
srv_port=$(port_of "$work/embed_server.out") || fail "embed_server did not start"
srv="http://127.0.0.1:$srv_port"

upload() {  # upload N: one user's digits + upload; writes $work/user-N.json
  local n=$1 digits extra=()
  digits=$(curl -sS --fail-with-body "$srv/digits" | sed -n 's/.*"validate_data":"\([0-9]*\)".*/\1/p')
  [[ -n $digits ]] || { echo "no digits" > "$work/user-$n.json"; return 1; }
  ((n % 2)) && extra=(-H 'Transfer-Encoding: chunked')
  curl -sS --fail-with-body -H 'Content-Type: video/mp4' "${extra[@]}" --data-binary "@$video" \
    "$srv/verify?validate_data=$digits&filename=user$n.mp4" > "$work/user-$n.json"
}
users=()
for n in $(seq 1 20); do upload "$n" & users+=($!); done
for p in "${users[@]}"; do wait "$p" || fail "an upload through embed_server failed"; done
for n in $(seq 1 20); do
  grep -q '"accepted":true' "$work/user-$n.json" || fail "user $n: $(cat "$work/user-$n.json")"
done

# Refusals that must not reach the API: wrong digits are a verdict (200, not accepted), a missing
# parameter is a 400, an oversized upload a 413 before anything is forwarded (declared by its
# Content-Length, or found out while a chunked one arrives).
code=$(curl -sS -o "$work/wrong.json" -w '%{http_code}' --data-binary "@$video" "$srv/verify?validate_data=0000")
if [[ $code != 200 ]] || ! grep -q '"accepted":false' "$work/wrong.json"; then
  fail "wrong digits: HTTP $code $(cat "$work/wrong.json")"
fi
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary "@$video" "$srv/verify")
[[ $code == 400 ]] || fail "missing validate_data: HTTP $code"
head -c $((7 * 1024 * 1024)) /dev/zero > "$work/huge.mp4"
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary "@$work/huge.mp4" "$srv/verify?validate_data=1234" || true)
[[ $code == 413 ]] || fail "oversized upload: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "@$work/huge.mp4" \
  "$srv/verify?validate_data=1234" || true)
[[ $code == 413 ]] || fail "oversized chunked upload: HTTP $code"
ls "$work"/livefour-upload-* > /dev/null 2>&1 && fail "spool files left behind"

kill -TERM "$server_pid"
wait "$server_pid" || fail "embed_server did not stop cleanly on SIGTERM"

# The forwarding server: the same 20 users, each upload streamed to the API while it arrives (half
# of them chunked); refusals as above. test/integration/forward_server_test.cpp drives it harder.
"$bin/livefour-example-forward-server" "${common[@]}" --port 0 --threads 2 \
  > "$work/forward_server.out" 2> "$work/forward_server.err" &
server_pid=$!
pids+=("$server_pid")
srv_port=$(port_of "$work/forward_server.out") || fail "forward_server did not start"
srv="http://127.0.0.1:$srv_port"
users=()
for n in $(seq 1 20); do upload "$n" & users+=($!); done
for p in "${users[@]}"; do wait "$p" || fail "an upload through forward_server failed"; done
for n in $(seq 1 20); do
  grep -q '"accepted":true' "$work/user-$n.json" || fail "forward_server, user $n: $(cat "$work/user-$n.json")"
done
code=$(curl -sS -o "$work/wrong.json" -w '%{http_code}' --data-binary "@$video" "$srv/verify?validate_data=0000")
if [[ $code != 200 ]] || ! grep -q '"accepted":false' "$work/wrong.json"; then
  fail "forward_server, wrong digits: HTTP $code $(cat "$work/wrong.json")"
fi
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary "@$video" "$srv/verify")
[[ $code == 400 ]] || fail "forward_server, missing validate_data: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary "@$work/huge.mp4" "$srv/verify?validate_data=1234" || true)
[[ $code == 413 ]] || fail "forward_server, oversized upload: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "@$work/huge.mp4" \
  "$srv/verify?validate_data=1234" || true)
[[ $code == 413 ]] || fail "forward_server, oversized chunked upload: HTTP $code"
kill -TERM "$server_pid"
wait "$server_pid" || fail "forward_server did not stop cleanly on SIGTERM"

echo "examples: all passed (coroutine, callback, future, multi_thread 100/100 shared and per thread, embed_server and forward_server 20 concurrent uploads each)"
