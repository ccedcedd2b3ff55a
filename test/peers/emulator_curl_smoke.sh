#!/usr/bin/env bash
# Smoke test of livefour-emulator with a client we did not write (curl) and signatures computed
# by another implementation (the openssl command line). Exits non-zero on any mismatch.
#
# The last part injects every fault of the control plane (/_emulator/faults) and proves from
# curl's side that it fired (exit status, HTTP status, timing, sizes) and that it was counted.
#
# usage: emulator_curl_smoke.sh /path/to/livefour-emulator
# needs: bash, curl (7.84 or newer, for --rate), openssl, base64, sha256sum, head, od (coreutils)
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
jnum() {  # jnum KEY < json: the integer value of KEY (a key that occurs once; may contain '/')
    sed -nE "s|.*\"$1\":(-?[0-9]+).*|\1|p" | head -n1
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

# --- keepalive_close over TLS: the idle connection is closed (close_notify), curl reconnects -----
"${curl_tls[@]}" -o /dev/null -X POST "$base/_emulator/reset"
check "tls keepalive_close installed" 0 "$("${curl_tls[@]}" -X POST -d '{"fault":"keepalive_close","ms":150}' \
    "$base/_emulator/faults" | jget code)"
connects=$("${curl_tls[@]}" --rate 3/s -o /dev/null -o /dev/null -w '%{num_connects} ' -H "Authorization: $sig" \
    -d "{\"appid\":\"$appid\"}" "$base/face/livegetfour" "$base/face/livegetfour")
check "tls keepalive_close: second request on a new connection" "1 1 " "$connects"
stats=$("${curl_tls[@]}" "$base/_emulator/stats")
check "tls keepalive_close counted" 1 "$(grep -o '"faults_fired":{[^}]*}' <<<"$stats" | jnum keepalive_close)"
check "tls connections_closed_idle" 1 "$(jnum connections_closed_idle <<<"$stats")"
check "tls both requests complete" 2 "$(jnum requests <<<"$stats")"
"${curl_tls[@]}" -o /dev/null -X DELETE "$base/_emulator/faults"

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


# === fault injection (docs/emulator.md, "Fault injection") ======================================
# Every fault is installed through the control plane, observed from curl's side (exit status,
# HTTP status, timing, sizes) and proven counted in /_emulator/stats.
start --plain
fb="http://127.0.0.1:$port"
fault_pid=$last_pid
sig=$(sign 600)
pc=(curl -sS --max-time 20)
curl_err="$work/curl.err"

stats() { "${pc[@]}" "$fb/_emulator/stats"; }
fired() { stats | grep -o '"faults_fired":{[^}]*}' | jnum "$1"; }             # fired NAME
started() { stats | grep -o '"requests_started":{[^}]*}' | jnum "$1"; }       # started total|PATH
counter() { stats | jnum "$1"; }                                              # counter KEY
zero() { "${pc[@]}" -o /dev/null -X POST "$fb/_emulator/reset"; }
install() {  # install NAME JSON: POST the fault, check the control plane accepted it
    check "$1: installed" 0 "$("${pc[@]}" -X POST -d "$2" "$fb/_emulator/faults" | jget code)"
}
getfour() {  # getfour [curl args...]: POST /face/livegetfour, plain HTTP
    "${pc[@]}" -H "Authorization: $sig" -d "{\"appid\":\"$appid\"}" "$@" "$fb/face/livegetfour" 2>>"$curl_err"
}
detect() {  # detect DIGITS [curl args...]: the 3 MiB upload
    local d=$1
    shift
    "${pc[@]}" -H "Authorization: $sig" -F appid=$appid -F "validate_data=$d" -F compare_flag=false \
        -F "video=@$work/video.mp4" "$@" "$fb/face/livedetectfour" 2>>"$curl_err"
}
rc_of() {  # rc_of COMMAND...: the exit status, output discarded
    local rc=0
    "$@" >/dev/null || rc=$?
    echo "$rc"
}
elapsed_ms() {  # elapsed_ms COMMAND...: wall time in ms, output discarded
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null || true
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}
at_least() { [[ "$1" -ge "$2" ]] && echo yes || echo "no ($1 < $2)"; }
below() { [[ "$1" -lt "$2" ]] && echo yes || echo "no ($1 >= $2)"; }

# --- control plane: strict, and never affected by faults ----------------------------------------
status=$("${pc[@]}" -o "$work/bad.json" -w '%{http_code}' -X POST -d '{"fault":"code","code":15,"cuont":2}' "$fb/_emulator/faults")
check "typo in a fault: HTTP 400" 400 "$status"
check "typo in a fault: code 21" 21 "$(jget code <"$work/bad.json")"
check "typo in a fault: nothing installed" 0 "$(counter faults_pending)"
install "control immunity" '{"fault":"reset","when":"before_body","count":0}'
check "stats still answer under a reset-everything fault" 1 "$(counter faults_pending)"
check "faults listing still answers" yes "$("${pc[@]}" "$fb/_emulator/faults" | grep -q '"when":"before_body"' && echo yes || echo no)"
check "DELETE clears" 1 "$("${pc[@]}" -X DELETE "$fb/_emulator/faults" | jget cleared)"
check "queue empty after DELETE" 0 "$(counter faults_pending)"
zero

# --- code: 15 twice, then normal; per path; the request is not processed -----------------------
install "code" '{"fault":"code","code":15,"count":2,"path":"/face/livegetfour"}'
codes=""
for _ in 1 2 3; do codes+="$(getfour | jget code) "; done
check "code 15 twice, then 0" "15 15 0 " "$codes"
check "code counted" 2 "$(fired code)"
check "code fault used up" 0 "$(counter faults_pending)"
check "codes tally" 2 "$(stats | grep -o '"codes":{[^}]*}' | jnum 15)"
digits=$(getfour | jget validate_data)
install "code on detect only" '{"fault":"code","code":15,"count":1,"path":"/face/livedetectfour"}'
check "a getfour request does not take a detect-only fault" 0 "$(getfour | jget code)"
check "detect-only fault still pending" 1 "$(counter faults_pending)"
check "detect gets 15" 15 "$(detect "$digits" | jget code)"
check "the refused detect did not use up the digits" 0 "$(detect "$digits" | jget live_status)"

# --- FIFO: faults act one per request, in order ------------------------------------------------
zero
install "fifo batch" '[{"fault":"code","code":107,"count":2},{"fault":"delay","ms":400}]'
check "fifo batch pending" 2 "$(counter faults_pending)"
check "fifo 1st" 107 "$(getfour | jget code)"
check "fifo 2nd" 107 "$(getfour | jget code)"
check "fifo 3rd is delayed" yes "$(at_least "$(elapsed_ms getfour)" 400)"
check "fifo 4th is normal and fast" yes "$(below "$(elapsed_ms getfour)" 350)"
check "fifo counted: code" 2 "$(fired code)"
check "fifo counted: delay" 1 "$(fired delay)"
check "fifo: 4 requests seen" 4 "$(counter requests)"

# --- http_status: a gateway's HTML page, a JSON envelope with a 5xx ----------------------------
zero
install "http_status 502" '{"fault":"http_status","status":502,"body":"<html>bad gateway</html>","count":1}'
status=$(getfour -o "$work/502.html" -w '%{http_code} %{content_type}')
check "502 status and type" "502 text/html; charset=utf-8" "$status"
check "502 body" "<html>bad gateway</html>" "$(cat "$work/502.html")"
install "http_status 500" '{"fault":"http_status","status":500,"code":213}'
status=$(getfour -o "$work/500.json" -w '%{http_code}')
check "500 status" 500 "$status"
check "500 envelope code" 213 "$(jget code <"$work/500.json")"
check "http_status counted" 2 "$(fired http_status)"

# --- non_json ------------------------------------------------------------------------------------
install "non_json" '{"fault":"non_json","count":1}'
status=$(getfour -o "$work/nonjson.out" -w '%{http_code}')
check "non_json status" 200 "$status"
check "non_json body is not JSON" yes "$([[ "$(head -c 1 "$work/nonjson.out")" != "{" ]] && echo yes || echo no)"
check "non_json counted" 1 "$(fired non_json)"

# --- delay: curl's --max-time shows it ---------------------------------------------------------
zero
install "delay" '{"fault":"delay","ms":1500,"count":1}'
check "delay: curl --max-time 0.5 gives up (28)" 28 "$(rc_of getfour --max-time 0.5)"
check "delay counted" 1 "$(fired delay)"

# --- stall_after_body_bytes ---------------------------------------------------------------------
zero
install "stall 0 bytes" '{"fault":"stall_after_body_bytes","bytes":0,"ms":1200,"count":1}'
check "stall: curl --max-time 0.5 gives up (28)" 28 "$(rc_of detect 1234 --max-time 0.5)"
check "stall counted" 1 "$(fired stall_after_body_bytes)"
check "stall: request started" 1 "$(started /face/livedetectfour)"
sleep 1  # let the abandoned, stalled request run out before the next counts
zero
install "stall 64 KiB then resume" '{"fault":"stall_after_body_bytes","bytes":65536,"ms":700,"count":1}'
t=$(elapsed_ms detect 1234 -o "$work/stalled.json")
check "stall then resume: reply arrives" 0 "$(jget code <"$work/stalled.json")"
check "stall then resume: took the stall" yes "$(at_least "$t" 700)"
check "stall then resume: complete" 1 "$(counter requests)"
check "stall then resume counted" 1 "$(fired stall_after_body_bytes)"

# --- close_after_body_bytes: FIN mid-upload, no reply, exactly B body bytes read --------------
install "close_after_body_bytes" '{"fault":"close_after_body_bytes","bytes":1048576,"count":1}'
zero  # after the install, so that bytes_received counts the upload alone
check "close mid-upload: empty reply (52)" 52 "$(rc_of detect 1234)"
check "close mid-upload counted" 1 "$(fired close_after_body_bytes)"
check "close mid-upload: exactly 1 MiB read" 1048576 "$(counter bytes_received)"
check "close mid-upload: started, not complete" "1 0" "$(started total) $(counter requests)"

# --- close_after_body: whole request read, processed, no reply ----------------------------------
zero
install "close_after_body" '{"fault":"close_after_body","count":1}'
check "close after body: empty reply (52)" 52 "$(rc_of getfour)"
check "close after body counted" 1 "$(fired close_after_body)"
check "close after body: request complete" 1 "$(counter requests)"
check "close after body: withheld reply not in codes" "" "$(stats | grep -o '"codes":{[^}]*}' | jnum 0)"

# --- reset: RST before the body, after B bytes, after the body ----------------------------------
zero
install "reset before body" '{"fault":"reset","when":"before_body","count":1}'
check "reset before body: curl 56" 56 "$(rc_of getfour)"
check "reset before body: started, not complete" "1 0" "$(started /face/livegetfour) $(counter requests)"
install "reset after bytes" '{"fault":"reset","when":"after_body_bytes","bytes":1000,"count":1}'
rc=$(rc_of detect 1234)  # 56 if the RST meets curl receiving, 55 if it meets curl sending
check "reset mid-upload: curl 55 or 56" yes "$([[ $rc == 55 || $rc == 56 ]] && echo yes || echo "no ($rc)")"
install "reset after body" '{"fault":"reset","when":"after_body","count":1}'
check "reset after body: curl 56" 56 "$(rc_of getfour)"
check "reset counted" 3 "$(fired reset)"
check "reset: 3 started, 1 complete" "3 1" "$(started total) $(counter requests)"

# --- truncated_reply: Content-Length says more than is sent -------------------------------------
zero
install "truncated_reply" '{"fault":"truncated_reply","count":1}'
check "truncated reply: curl 18" 18 "$(rc_of getfour)"
check "truncated_reply counted" 1 "$(fired truncated_reply)"

# --- trickle_reply: slowloris-style reply ------------------------------------------------------
install "trickle_reply" '{"fault":"trickle_reply","interval_ms":50,"bytes_per_write":16,"count":1}'
t=$(elapsed_ms getfour -o "$work/trickle.json")
check "trickle: the reply is whole" 0 "$(jget code <"$work/trickle.json")"
check "trickle: it took its time" yes "$(at_least "$t" 500)"
check "trickle_reply counted" 1 "$(fired trickle_reply)"

# --- huge_body: 10 MiB of valid JSON -------------------------------------------------------------
install "huge_body" '{"fault":"huge_body","bytes":10485760,"count":1}'
size=$(getfour -o "$work/huge.json" -w '%{size_download}')
check "huge body: 10 MiB" 10485760 "$size"
check "huge body: still the envelope" 0 "$(head -c 64 "$work/huge.json" | jget code)"
check "huge body: ends the object" "}" "$(tail -c 1 "$work/huge.json")"
check "huge_body counted" 1 "$(fired huge_body)"

# --- huge_header: a 64 KiB header line ---------------------------------------------------------
install "huge_header" '{"fault":"huge_header","bytes":65536,"count":1}'
getfour -D "$work/huge.headers" -o "$work/hh.json" >/dev/null || true
padding=$(grep -i '^X-Emulator-Padding: ' "$work/huge.headers" | tr -d '\r\n' | cut -d' ' -f2)
check "huge header: 64 KiB value" 65536 "${#padding}"
check "huge header: reply intact" 0 "$(jget code <"$work/hh.json")"
check "huge_header counted" 1 "$(fired huge_header)"

# --- rate_limit: token bucket, code 15 beyond it ------------------------------------------------
zero
install "rate_limit" '{"fault":"rate_limit","per_second":0.5,"burst":2}'
codes=""
for _ in 1 2 3 4; do codes+="$(getfour | jget code) "; done
check "rate limit: burst of 2, then 15" "0 0 15 15 " "$codes"
check "rate_limit counted" 2 "$(fired rate_limit)"
"${pc[@]}" -o /dev/null -X DELETE "$fb/_emulator/faults"
check "rate limit cleared" 0 "$(getfour | jget code)"

# --- keepalive_close: an idle keep-alive connection is closed, curl reconnects -----------------
zero
install "keepalive_close" '{"fault":"keepalive_close","ms":500}'
check "keepalive_close: back-to-back requests share the connection" "1 0 " \
    "$(getfour -o /dev/null -o /dev/null -w '%{num_connects} ' "$fb/face/livegetfour")"
check "keepalive_close: after a pause, a new connection" "1 1 " \
    "$(getfour --rate 1/s -o /dev/null -o /dev/null -w '%{num_connects} ' "$fb/face/livegetfour")"
check "keepalive_close counted" 1 "$(fired keepalive_close)"
check "connections_closed_idle" 1 "$(counter connections_closed_idle)"
"${pc[@]}" -o /dev/null -X DELETE "$fb/_emulator/faults"

# --- shutdown does not wait for a connection stalled "forever" ---------------------------------
install "stall forever" '{"fault":"stall_after_body_bytes","bytes":0,"count":1}'
check "stall forever: curl gives up (28)" 28 "$(rc_of detect 1234 --max-time 1)"
t0=$(date +%s%N)
kill -TERM "$fault_pid"
rc=0
wait "$fault_pid" || rc=$?
t1=$(date +%s%N)
check "exit status after SIGTERM with a stalled connection" 0 "$rc"
check "shutdown did not wait for the stall" yes "$(below $(((t1 - t0) / 1000000)) 5000)"

# --- the same faults from the command line -----------------------------------------------------
start --plain --fault '{"fault":"code","code":15,"count":2}' --keepalive-close-ms 150 --rate-limit 1000
fb="http://127.0.0.1:$port"
codes=""
for _ in 1 2 3; do codes+="$(getfour | jget code) "; done
check "--fault: 15 twice, then 0" "15 15 0 " "$codes"
check "--keepalive-close-ms shown" 150 "$("${pc[@]}" "$fb/_emulator/faults" | jnum keepalive_close_ms)"
check "--rate-limit shown" 1000 "$("${pc[@]}" "$fb/_emulator/faults" | jnum per_second)"
kill -TERM "$last_pid"
wait "$last_pid" || true

echo "$((checks - failures))/$checks checks passed"
[[ $failures -eq 0 ]]
