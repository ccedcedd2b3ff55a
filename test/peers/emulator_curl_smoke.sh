#!/usr/bin/env bash
# Smoke test of livefour-emulator with a client we did not write (curl) and signatures computed
# by another implementation (the openssl command line). Exits non-zero on any mismatch.
#
# usage: emulator_curl_smoke.sh /path/to/livefour-emulator
# needs: bash, curl, openssl, base64, sha256sum, head, od (coreutils)
set -euo pipefail

emulator=${1:-${LIVEFOUR_EMULATOR:-}}
if [[ -z "$emulator" || ! -x "$emulator" ]]; then
    echo "usage: $0 /path/to/livefour-emulator" >&2
    exit 2
fi

appid=1250000000
secret_id=AKIDEXAMPLE
secret_key=SECRETKEYEXAMPLE
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
checks=0
check() {  # check NAME EXPECTED ACTUAL
    checks=$((checks + 1))
    if [[ "$2" == "$3" ]]; then
        echo "ok   $1"
    else
        echo "FAIL $1: expected [$2], got [$3]"
        failures=$((failures + 1))
    fi
}

# Starts the emulator with extra flags; sets $port and $last_pid.
start() {
    local out="$work/out.$#.$RANDOM"
    env -u LIVEFOUR_APPID -u LIVEFOUR_SECRET_ID -u LIVEFOUR_SECRET_KEY \
        "$emulator" --quiet "$@" >"$out" 2>>"$work/emulator.err" &
    last_pid=$!
    pids+=("$last_pid")
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$out" 2>/dev/null; then break; fi
        sleep 0.1
    done
    local line
    line=$(head -n1 "$out")
    [[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)\ \((https|http)\)$ ]] || {
        echo "FAIL emulator did not announce itself: [$line]"
        cat "$work/emulator.err" >&2
        exit 1
    }
    port=${BASH_REMATCH[1]}
}

# sign [expiry-offset] [secret-key] [bucket]: the spec §2 signature, computed with openssl.
sign() {
    local now e plain
    now=$(date +%s)
    e=$((now + ${1:-300}))
    plain="a=$appid&b=${3:-}&k=$secret_id&e=$e&t=$now&r=$RANDOM$RANDOM&f="
    { printf '%s' "$plain" | openssl dgst -sha1 -hmac "${2:-$secret_key}" -binary; printf '%s' "$plain"; } | base64 -w0
}

jget() {  # jget FIELD < json: the first scalar value of FIELD (strings without quotes)
    sed -nE "s/.*\"$1\":(\"([^\"]*)\"|(-?[0-9]+)|(null)).*/\2\3\4/p" | head -n1
}

start --write-ca "$work/ca.pem"
base="https://127.0.0.1:$port"
curl_tls=(curl -sS --cacert "$work/ca.pem" --max-time 60)
sig=$(sign)

# Test files: a 3 MiB "mp4" (ftyp box at offset 4), an 8x8 JPEG card, a 7 MB blob, a non-video.
{ printf '\x00\x00\x00\x18ftypisom'; head -c $((3 * 1024 * 1024 - 12)) /dev/urandom; } >"$work/video.mp4"
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9' >"$work/card.jpg"
head -c 7000000 /dev/urandom >"$work/big.mp4"
printf 'definitely not a video container' >"$work/text.mp4"

getfour() {
    "${curl_tls[@]}" -H "Authorization: $sig" -H 'Content-Type: application/json' \
        -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour"
}

# --- livegetfour over verified TLS --------------------------------------------------------------
headers=$("${curl_tls[@]}" -D - -o "$work/getfour.json" -H "Authorization: $sig" \
    -d "{\"appid\":\"$appid\",\"seq\":\"abc\"}" "$base/face/livegetfour")
check "getfour code" 0 "$(jget code <"$work/getfour.json")"
check "getfour seq echoed" abc "$(jget seq <"$work/getfour.json")"
digits=$(jget validate_data <"$work/getfour.json")
check "getfour digits are 4 digits" yes "$([[ "$digits" =~ ^[0-9]{4}$ ]] && echo yes || echo "no ($digits)")"
check "request id header" yes "$(grep -qi '^X-Emulator-Request-Id: ' <<<"$headers" && echo yes || echo no)"

# The spec's golden vector parses and authenticates up to its (long past) expiry: code 9, not 5.
golden='jKRTbdGcAB6DUqNB3Vu9heBcPYhhPTEyNTAwMDAwMDAmYj0maz1BS0lERVhBTVBMRSZlPTE1MDAwMDAzMDAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5MCZmPQ=='
check "golden vector is expired" 9 "$("${curl_tls[@]}" -H "Authorization: $golden" -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour" | jget code)"

# --- livedetectfour, 3 MiB video + card, Expect: 100-continue, Content-Length ------------------
verbose="$work/detect.verbose"
reply=$("${curl_tls[@]}" -v -H "Authorization: $sig" -H 'Expect: 100-continue' \
    -F appid=$appid -F "validate_data=$digits" -F compare_flag=true \
    -F "video=@$work/video.mp4;type=video/mp4" -F "card=@$work/card.jpg" \
    "$base/face/livedetectfour" 2>"$verbose")
check "detect code" 0 "$(jget code <<<"$reply")"
check "detect live_status" 0 "$(jget live_status <<<"$reply")"
check "detect compare_status" 0 "$(jget compare_status <<<"$reply")"
sim=$(jget sim <<<"$reply")
check "detect sim in 60..99" yes "$([[ "$sim" =~ ^[0-9]+$ ]] && ((sim >= 60 && sim <= 99)) && echo yes || echo "no ($sim)")"
check "detect photo present" yes "$(grep -q '"photo":"/9j/' <<<"$reply" && echo yes || echo no)"
check "server sent 100 Continue" yes "$(grep -q '< HTTP/1.1 100 Continue' "$verbose" && echo yes || echo no)"
stats=$("${curl_tls[@]}" "$base/_emulator/stats")
video_part=$(grep -o '{"name":"video"[^}]*}' <<<"$stats" || true)
check "stats video size" "$(stat -c %s "$work/video.mp4")" "$(jget size <<<"$video_part")"
check "stats video sha256" "$(sha256sum "$work/video.mp4" | cut -d' ' -f1)" "$(jget sha256 <<<"$video_part")"
check "stats video filename" video.mp4 "$(jget filename <<<"$video_part")"
check "stats video content_type" video/mp4 "$(jget content_type <<<"$video_part")"

# Same digits again: single use → -5008.
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -F appid=$appid -F "validate_data=$digits" \
    -F compare_flag=false -F "video=@$work/video.mp4" "$base/face/livedetectfour")
check "reused digits live_status" -5008 "$(jget live_status <<<"$reply")"

# --- chunked upload -----------------------------------------------------------------------------
digits=$(getfour | jget validate_data)
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -H 'Transfer-Encoding: chunked' \
    -F appid=$appid -F "validate_data=$digits" -F compare_flag=false -F "video=@$work/video.mp4" \
    "$base/face/livedetectfour")
check "chunked live_status" 0 "$(jget live_status <<<"$reply")"
video_part=$("${curl_tls[@]}" "$base/_emulator/stats" | grep -o '{"name":"video"[^}]*}' || true)
check "chunked stats sha256" "$(sha256sum "$work/video.mp4" | cut -d' ' -f1)" "$(jget sha256 <<<"$video_part")"

# --- verdicts -----------------------------------------------------------------------------------
digits=$(getfour | jget validate_data)
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -F appid=$appid -F "validate_data=$digits" \
    -F compare_flag=false -F "video=@$work/text.mp4" "$base/face/livedetectfour")
check "not a video live_status" -5001 "$(jget live_status <<<"$reply")"
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -F appid=$appid -F validate_data=0000 \
    -F compare_flag=false -F "video=@$work/video.mp4" -F 'seq=force:live_status=-5016' "$base/face/livedetectfour")
check "forced live_status" -5016 "$(jget live_status <<<"$reply")"
check "forced live_msg" VIDEO_NOT_LIVE "$(jget live_msg <<<"$reply")"

# --- request errors -----------------------------------------------------------------------------
bad_sig=$(sign 300 WRONGKEY)
reply=$("${curl_tls[@]}" -H "Authorization: $bad_sig" -F appid=$appid -F validate_data=1234 \
    -F compare_flag=false -F "video=@$work/video.mp4" "$base/face/livedetectfour")
check "bad signature code" 14 "$(jget code <<<"$reply")"
check "no signature code" 4 "$("${curl_tls[@]}" -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour" | jget code)"
check "expired signature code" 9 "$("${curl_tls[@]}" -H "Authorization: $(sign -10)" -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour" | jget code)"

status=$("${curl_tls[@]}" -o "$work/missing.json" -w '%{http_code}' -H "Authorization: $sig" \
    -F appid=$appid -F validate_data=1234 -F compare_flag=false "$base/face/livedetectfour")
check "missing video code" 21 "$(jget code <"$work/missing.json")"
check "missing video HTTP status" 400 "$status"

status=$("${curl_tls[@]}" -o "$work/big.json" -w '%{http_code}' -H "Authorization: $sig" \
    -F appid=$appid -F validate_data=1234 -F compare_flag=false -F "video=@$work/big.mp4" \
    "$base/face/livedetectfour")
check "oversize (Content-Length, Expect) code" 23 "$(jget code <"$work/big.json")"
check "oversize HTTP status" 400 "$status"
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -H 'Expect:' -F appid=$appid -F "video=@$work/big.mp4" \
    "$base/face/livedetectfour" || true)
check "oversize (Content-Length, no Expect) code" 23 "$(jget code <<<"$reply")"
reply=$("${curl_tls[@]}" -H "Authorization: $sig" -H 'Transfer-Encoding: chunked' -F appid=$appid \
    -F "video=@$work/big.mp4" "$base/face/livedetectfour" || true)
check "oversize (chunked) code" 23 "$(jget code <<<"$reply")"

# --- keep-alive: two requests, one connection ---------------------------------------------------
connects=$("${curl_tls[@]}" -o /dev/null -o /dev/null -w '%{num_connects} ' -H "Authorization: $sig" \
    -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour" "$base/face/livegetfour")
check "keep-alive reuses the connection" "1 0 " "$connects"

# --- graceful shutdown --------------------------------------------------------------------------
kill -TERM "$last_pid"
rc=0
wait "$last_pid" || rc=$?
check "exit status after SIGTERM" 0 "$rc"

# --- plain HTTP mode ----------------------------------------------------------------------------
start --plain
check "plain getfour code" 0 "$(curl -sS --max-time 10 -H "Authorization: $sig" -d "{\"appid\":\"$appid\"}" \
    "http://127.0.0.1:$port/face/livegetfour" | jget code)"
kill -INT "$last_pid"
rc=0
wait "$last_pid" || rc=$?
check "exit status after SIGINT" 0 "$rc"

echo "$((checks - failures))/$checks checks passed"
[[ $failures -eq 0 ]]
