#!/bin/sh
# bench/profile.sh BIN_DIR OUT_DIR [faceid] — where the client CPU goes during a large HTTPS upload,
# for livefour and for curl: syscall counts (perf stat tracepoints) and a flat CPU profile (perf
# record, cpu-clock: this VM has no hardware counters). Writes OUT_DIR/profile-{livefour,curl}.txt and
# OUT_DIR/syscalls.txt; per small request (livefour and wrk, if installed): OUT_DIR/profile-small.md;
# per faceid LivenessCompare of a 6 MB video (livefour, signed and UNSIGNED-PAYLOAD, 1 and 16
# concurrent): OUT_DIR/profile-faceid.md. With `faceid`, only the last.
# Needs perf (apt-get install -y linux-perf) and root or
# kernel.perf_event_paranoid <= 1. Run by `LIVEFOUR_BENCH_PROFILE=1 bench/run.sh` (=faceid: the last only).
set -eu
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = faceid ]; } || { echo "usage: $0 BIN_DIR OUT_DIR [faceid]" >&2; exit 2; }
what=${3:-all}
bin=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
command -v perf >/dev/null || { echo "profile.sh: perf not found" >&2; exit 1; }

tmp=$(mktemp -d /tmp/livefour-profile.XXXXXX)
sink_pid=
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$root/test/peers/make_certs.sh" "$tmp/pki"
[ "$what" = faceid ] || head -c $((100 * 1024 * 1024)) /dev/urandom >"$tmp/payload"
head -c 1024 /dev/urandom >"$tmp/small"

"$bin/livefour-bench-sink" --cert "$tmp/pki/server.pem" --key "$tmp/pki/server.key" >"$tmp/sink.out" &
sink_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q listening "$tmp/sink.out" 2>/dev/null && break; sleep 0.2; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/sink.out")
url=https://127.0.0.1:$port

# faceid (issue 14): LivenessCompare of a 6,000,000-byte video and a 100,000-byte photo (the
# scenario's sizes), recorded with DWARF call graphs so that the samples inside OpenSSL's assembly
# reach livefour's frames: each goes to its pass (the SHA-256 digest pass, or the send pass) and to
# what it was doing (bench/perf_buckets.py --faceid). A run without perf first gives the CPU per
# call (the timed loop) that the shares are scaled to. Syscall counts per call from perf stat.
head -c 6000000 /dev/urandom >"$tmp/video"
head -c 100000 /dev/urandom >"$tmp/image"
{
    echo "# Where livefour's CPU goes per faceid LivenessCompare (6,000,000-byte video, 100,000-byte photo,"
    echo "# 8,133,414-byte body), against livefour-bench-sink: perf record -e cpu-clock -F 1000 --call-graph"
    echo "# dwarf; buckets by bench/perf_buckets.py --faceid. perf's DWARF unwinding inflates the figures"
    echo "# under perf; the last column spreads the CPU per call of the same command without perf"
    echo "# (livefour-bench's timed loop) over the buckets in proportion to their samples."
    for payload in signed unsigned; do
        for conc in 1 16; do
            n=$((conc == 1 ? 40 : 96))
            flags=""
            [ $payload = unsigned ] && flags=--unsigned-payload
            # shellcheck disable=SC2086 # $flags is one flag or none
            set -- "$bin/livefour-bench" faceid-compare --url "$url" --ca "$tmp/pki/ca.pem" --file "$tmp/video" \
                --image "$tmp/image" --count $n --connections $conc $flags
            "$@" >"$tmp/faceid.out"
            per_call=$(grep -o '"cpu_ms_per_req":[0-9.]*' "$tmp/faceid.out" | cut -d: -f2)
            echo
            echo "## $payload, $conc concurrent, $n calls: $per_call ms CPU per call without perf (load $(cut -d' ' -f1 /proc/loadavg))"
            echo
            perf record -q -e cpu-clock -F 1000 --call-graph dwarf,16384 -o "$tmp/faceid.data" -- "$@" >/dev/null 2>&1
            perf script -i "$tmp/faceid.data" -F comm,dso,sym,ip 2>/dev/null |
                python3 "$root/bench/perf_buckets.py" --faceid --requests $n --hz 1000 --per-call-ms "$per_call" \
                    --name "livefour, $payload, x$conc"
            if [ $conc = 1 ]; then
                echo
                echo "System calls per call (perf stat, $n calls, warm-up and start-up included):"
                echo
                perf stat -x, -e syscalls:sys_enter_pread64,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_timerfd_settime,syscalls:sys_enter_openat \
                    -- "$@" 2>&1 >/dev/null | awk -F, -v n=$n '{ printf "- %s: %.1f\n", $3, $1 / n }'
            fi
        done
    done
} >"$out/profile-faceid.md"
if [ "$what" = faceid ]; then
    echo "profile written to $out/profile-faceid.md"
    exit 0
fi

count=5

curl_cfg=$tmp/curl.cfg
: >"$curl_cfg"
i=0
while [ $i -le $count ]; do
    [ $i -gt 0 ] && echo next >>"$curl_cfg"
    f=$tmp/payload
    [ $i -eq 0 ] && f=$tmp/small
    printf 'silent\nshow-error\nurl = "%s/face/livedetectfour"\ncacert = "%s"\nheader = "Expect:"\noutput = "/dev/null"\nform = "appid=1250000000"\nform = "validate_data=1234"\nform = "compare_flag=false"\nform = "video=@%s;type=video/mp4;filename=video.mp4"\n' \
        "$url" "$tmp/pki/ca.pem" "$f" >>"$curl_cfg"
    i=$((i + 1))
done


events=syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_pread64,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_poll,syscalls:sys_enter_timerfd_settime,syscalls:sys_enter_futex
{
    echo "# $count uploads of 100 MiB over one kept-alive HTTPS connection (plus a 1 KiB warm-up upload)"
    echo "## livefour"
    perf stat -x, -e "$events" -e task-clock -- "$bin/livefour-bench" upload --url "$url" --ca "$tmp/pki/ca.pem" \
        --file "$tmp/payload" --warmup-file "$tmp/small" --count $count --mode pooled 2>&1 >/dev/null | cut -d, -f1,3
    echo "## curl"
    perf stat -x, -e "$events" -e task-clock -- curl -K "$curl_cfg" 2>&1 >/dev/null | cut -d, -f1,3
} >"$out/syscalls.txt"

for tool in livefour curl; do
    if [ $tool = livefour ]; then
        # The sink is recorded too, for this upload: what it costs per GB bounds what can be shown.
        perf record -q -e cpu-clock -F 2000 -g -o "$tmp/sink.data" -p "$sink_pid" >/dev/null 2>&1 &
        sink_perf=$!
        sleep 0.5
        perf record -q -e cpu-clock -F 2000 -g -o "$tmp/$tool.data" -- "$bin/livefour-bench" upload --url "$url" \
            --ca "$tmp/pki/ca.pem" --file "$tmp/payload" --warmup-file "$tmp/small" --count $count --mode pooled >/dev/null 2>&1
        kill -INT $sink_perf
        wait $sink_perf || true
    else
        perf record -q -e cpu-clock -F 2000 -g -o "$tmp/$tool.data" -- curl -K "$curl_cfg" >/dev/null 2>&1
    fi
    {
        echo "# perf record -e cpu-clock, $count x 100 MiB HTTPS pooled upload, $tool"
        echo "## by shared object"
        perf report -i "$tmp/$tool.data" --stdio --no-children -g none --sort dso --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
        echo "## by symbol (self time)"
        perf report -i "$tmp/$tool.data" --stdio --no-children -g none --sort dso,symbol --percent-limit 0.4 2>/dev/null | grep -v '^#' | grep -v '^$' |
            sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//' | cut -c1-160 | head -60
    } >"$out/profile-$tool.txt"
done
# One table per tool: buckets of the call chains (bench/perf_buckets.py), CPU seconds per GB.
gb=$(awk "BEGIN { print ($count * 100 * 1048576 + 1024) / 1e9 }")
{
    echo "# Where the client CPU goes: $count x 100 MiB HTTPS uploads on one kept-alive connection"
    echo "# (perf record -e cpu-clock -F 2000 -g; buckets by bench/perf_buckets.py; includes process start-up)"
    for tool in livefour curl sink; do
        echo
        name=$tool
        [ $tool = sink ] && name="livefour-bench-sink (receiving the livefour uploads)"
        perf script -i "$tmp/$tool.data" -F comm,dso,sym,ip 2>/dev/null |
            python3 "$root/bench/perf_buckets.py" --gb "$gb" --hz 2000 --name "$name"
    done
} >"$out/profile-summary.md"

# Small requests (scenario 3): livegetfour on one connection (a ping-pong) and the ~1.5 KB
# multipart on 16, livefour and wrk (the lean-client reference) against the same sink, in CPU µs
# per request, with the wake-ups split out. The multipart once more with the video from memory
# and client_options::thread_safe off: the request wrk sends, on the client's leanest path.
n_small=20000
for kind in digits multipart; do python3 "$root/bench/wrk_script.py" $kind "$tmp/small" "$tmp/$kind.lua"; done
{
    echo "# Where the client CPU goes per small request (perf record -e cpu-clock -F 2000 -g; buckets by"
    echo "# bench/perf_buckets.py --requests; includes process start-up and perf's own overhead)"
    for variant in digits multipart multipart-lean; do
        kind=${variant%-lean}
        conns=1
        target=/face/livegetfour
        [ $kind = multipart ] && conns=16 && target=/face/livedetectfour
        lean=""
        [ $variant = multipart-lean ] && lean="--memory --single-threaded"
        # shellcheck disable=SC2086 # $lean is two flags or none
        perf record -q -e cpu-clock -F 2000 -g -o "$tmp/small-lf.data" -- "$bin/livefour-bench" small --url "$url" \
            --ca "$tmp/pki/ca.pem" --kind $kind --file "$tmp/small" --count $n_small --connections $conns $lean \
            >"$tmp/small-lf.out" 2>&1
        echo
        echo "## $kind, $conns connection(s)${lean:+ ($lean)}: $(grep -o '"req_per_s":[0-9.]*' "$tmp/small-lf.out" | cut -d: -f2) req/s under perf"
        echo
        perf script -i "$tmp/small-lf.data" -F comm,dso,sym,ip 2>/dev/null |
            python3 "$root/bench/perf_buckets.py" --requests $n_small --hz 2000 --name "livefour, $kind x$conns${lean:+ $lean}"
        if [ -z "$lean" ] && command -v wrk >/dev/null; then
            perf record -q -e cpu-clock -F 2000 -g -o "$tmp/small-wrk.data" -- wrk -t1 -c$conns -d3s \
                -s "$tmp/$kind.lua" "$url$target" >"$tmp/small-wrk.out" 2>&1
            n_wrk=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/small-wrk.out")
            echo
            echo "wrk: $n_wrk requests in 3 s under perf"
            echo
            perf script -i "$tmp/small-wrk.data" -F comm,dso,sym,ip 2>/dev/null |
                python3 "$root/bench/perf_buckets.py" --requests "$n_wrk" --hz 2000 --name "wrk, $kind x$conns"
        fi
    done
} >"$out/profile-small.md"
echo "profiles written to $out/profile-summary.md, $out/profile-livefour.txt, profile-curl.txt, syscalls.txt,"
echo "profile-small.md, profile-faceid.md"
