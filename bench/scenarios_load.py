"""scenarios_load — request rate and concurrency (issue 5, scenarios 3 and 4). See scenarios.py for
the conventions."""
import os
import re
import shutil

import wrk_script

from benchlib import SIZES, BenchError, SinkDelta, parse_curl_transfers, percentile, run_measured, spread, write_csv

DIGITS_BODY = len('{"appid":"1250000000"}')
# (a format starting with "@" would be read from a file: keep the leading newline)
SMALL_WRITE_OUT = r"\n@@ %{http_code} %{size_upload} %{time_total} %{time_connect} %{time_appconnect}\n"


def _check_tally(tool, j, size):
    """Every upload of a run delivered the same complete body (size + constant overhead)."""
    lo, hi = j["received_min"], j["received_max"]
    if lo != hi or not 0 < hi - size < 4096:
        raise BenchError(f"{tool}: sink received between {lo} and {hi} bytes for a {size}-byte file")


# ---- 3. small requests ---------------------------------------------------------------------

def _lf_small(b, sink, kind, conns, n, threads=1, spin=False, memory=False, single_threaded=False):
    args = ["small", "--url", sink.url("https"), "--ca", b.ca, "--kind", kind, "--connections", conns,
            "--count", n, "--threads", threads, "--file", b.files["1k"]] + (["--spin"] if spin else []) + \
           (["--memory"] if memory else []) + (["--single-threaded"] if single_threaded else [])
    with SinkDelta(sink) as d:
        run = b.livefour(*args)
    j = run.json()
    if kind == "digits" and j["received_min"] != DIGITS_BODY:
        raise BenchError(f"livefour: livegetfour body of {j['received_min']} bytes")
    if kind == "multipart":
        _check_tally("livefour", j, SIZES["1k"])
    b.check_sink("livefour", d, n, j["received_total"])
    return {"req_per_s": n / run.wall, "inner_req_per_s": j["req_per_s"], "cpu_us_per_req": run.cpu / n * 1e6,
            "maxrss_kib": run.maxrss_kib, "connections": d.delta["connections"],
            "body_bytes": j["received_total"] / n}


def _curl_small(b, sink, kind, conns, n):
    url = sink.url("https") + ("/face/livegetfour" if kind == "digits" else "/face/livedetectfour")
    t = {"url": url, "cacert": b.ca, "output": "/dev/null", "write_out": SMALL_WRITE_OUT, "headers": ["Expect:"]}
    if kind == "digits":
        t = dict(t, json='{"appid":"1250000000"}', headers=["Expect:", "Content-Type: application/json"])
    else:
        t = dict(t, file=b.files["1k"])
    with SinkDelta(sink) as d:
        run = b.curl([t] * n, parallel=conns if conns > 1 else 0)
    xfers = parse_curl_transfers(run.stdout)
    if len(xfers) != n or any(x["status"] != 200 for x in xfers):
        raise BenchError(f"curl: {len(xfers)} of {n} small requests answered 200")
    b.check_sink("curl", d, n, sum(x["size_upload"] for x in xfers))
    return {"req_per_s": n / run.wall, "inner_req_per_s": None, "cpu_us_per_req": run.cpu / n * 1e6,
            "maxrss_kib": run.maxrss_kib, "connections": d.delta["connections"],
            "body_bytes": sum(x["size_upload"] for x in xfers) / n}


def _wrk_small(b, sink, kind, conns, seconds):
    """wrk (no TLS verification, one thread, C connections, keep-alive) against the same sink: the
    request rate a lean C client reaches on this machine, the reference for scenario 3's targets."""
    url = sink.url("https") + ("/face/livegetfour" if kind == "digits" else "/face/livedetectfour")
    with SinkDelta(sink) as d:
        # multipart-file: wrk opens, reads and closes the video for every request, as livefour does
        script = wrk_script.write(os.path.join(b.tmp, f"wrk-{kind}.lua"), kind, b.files["1k"])
        run = run_measured(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", script, url])
    if "Non-2xx" in run.stdout or "Socket errors" in run.stdout:
        raise BenchError(f"wrk: errors: {run.stdout[-400:]}")
    m = re.search(r"(\d+) requests in ([\d.]+)s", run.stdout)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", run.stdout)
    if not m or not rps:
        raise BenchError(f"wrk: no summary: {run.stdout[-400:]}")
    done, served = int(m.group(1)), d.delta["requests"]
    # wrk counts answered requests; the sink also counts the ones cut off at the end.
    if not done <= served <= done + conns or d.delta["protocol_errors"]:
        raise BenchError(f"wrk: reported {done} requests, the sink served {served}")
    body = d.delta["body_bytes"] / served
    if kind == "digits" and body != DIGITS_BODY:
        raise BenchError(f"wrk: {body} body bytes per request")
    if kind != "digits":
        with open(b.files["1k"], "rb") as f:
            want = len(wrk_script.multipart_body(f.read()))
        if body != want:
            raise BenchError(f"wrk ({kind}): {body} body bytes per request, expected {want}")
    return {"req_per_s": float(rps.group(1)), "cpu_us_per_req": run.cpu / done * 1e6, "body_bytes": body}


def small(b):
    from scenarios import ab, summarize, _m, _rng
    n = 2000 if b.a.quick else 20000  # process start-up (~40 ms) stays a few per cent of a run
    sink = b.sinks["c"]
    have_wrk = shutil.which("wrk") is not None
    if not have_wrk:
        b.log("  wrk not found (apt-get install -y wrk): no lean-client reference in scenario 3")
    results, table = [], []
    for kind in ("digits", "multipart"):
        for conns in (1, 16):
            rounds = ab(b, f"{kind} x{conns}", lambda: _lf_small(b, sink, kind, conns, n),
                        lambda: _curl_small(b, sink, kind, conns, n), key="req_per_s")
            s = summarize(rounds, "req_per_s", "inner_req_per_s", "cpu_us_per_req", "connections", "body_bytes")
            wrk = [_wrk_small(b, sink, kind, conns, 1 if b.a.quick else 2) for _ in range(3)] if have_wrk else []
            if wrk:
                s["wrk_req_per_s"] = spread([w["req_per_s"] for w in wrk])
                s["wrk_cpu_us_per_req"] = spread([w["cpu_us_per_req"] for w in wrk])
                b.log(f"  {kind} x{conns}: wrk {s['wrk_req_per_s']['median']:.0f} req/s")
            results.append({"kind": kind, "connections": conns, "threads": 1, "count": n, "summary": s,
                            "rounds": rounds, "wrk": wrk})
            none = {"median": None}
            table.append([kind, conns, 1, _m(s["lf_req_per_s"], digits=0), _m(s["lf_inner_req_per_s"], digits=0),
                          _m(s["curl_req_per_s"], digits=0), _rng(s["ratio"]),
                          _m(s.get("wrk_req_per_s", none), digits=0), _m(s["lf_cpu_us_per_req"], digits=0),
                          _m(s["curl_cpu_us_per_req"], digits=0), _m(s.get("wrk_cpu_us_per_req", none), digits=0),
                          _m(s["lf_body_bytes"], digits=0)])
    # livefour alone, 16 connections: the multipart's video from memory (no open/fstat/pread/close
    # per request: the request wrk sends), client_options::thread_safe off (one thread, no strands),
    # both, and an io_context run by two threads. Interleaved, so drift hits every variant alike.
    variants = [("multipart (video from memory)", "multipart", dict(memory=True)),
                ("digits (thread_safe off)", "digits", dict(single_threaded=True)),
                ("multipart (thread_safe off)", "multipart", dict(single_threaded=True)),
                ("multipart (from memory, thread_safe off)", "multipart", dict(memory=True, single_threaded=True)),
                ("digits", "digits", dict(threads=2)),
                ("multipart", "multipart", dict(threads=2))]
    runs = {label: [] for label, _, _ in variants}
    for _ in range(max(3, b.a.rounds)):
        for label, kind, kw in variants:
            runs[label].append(_lf_small(b, sink, kind, 16, n, **kw))
    # The lean-client reference for the file rows: wrk reading the video file for every request.
    wrk_file = [_wrk_small(b, sink, "multipart-file", 16, 1 if b.a.quick else 2) for _ in range(3)] if have_wrk else []
    for label, kind, kw in variants:
        s = {k: spread([r[k] for r in runs[label]]) for k in runs[label][0]}
        threads = kw.get("threads", 1)
        b.log(f"  {label} x16, {threads} thread(s): livefour {s['req_per_s']['median']:.0f} req/s")
        results.append({"kind": kind, "label": label, "connections": 16, "threads": threads, "count": n,
                        "memory": kw.get("memory", False), "thread_safe": not kw.get("single_threaded", False),
                        "summary": s, "rounds": runs[label]})
        table.append([label, 16, threads, _m(s["req_per_s"], digits=0), _m(s["inner_req_per_s"], digits=0), "–", "–",
                      "–", _m(s["cpu_us_per_req"], digits=0), "–", "–", _m(s["body_bytes"], digits=0)])
    if wrk_file:
        s = {"wrk_req_per_s": spread([w["req_per_s"] for w in wrk_file]),
             "wrk_cpu_us_per_req": spread([w["cpu_us_per_req"] for w in wrk_file])}
        b.log(f"  multipart x16, wrk reading the file per request: {s['wrk_req_per_s']['median']:.0f} req/s")
        results.append({"kind": "multipart", "label": "multipart (wrk reads the video file per request)",
                        "connections": 16, "threads": 1, "wrk_only": True, "summary": s, "wrk": wrk_file})
        table.append(["multipart (wrk reads the video file per request)", 16, "–", "–", "–", "–", "–",
                      _m(s["wrk_req_per_s"], digits=0), "–", "–", _m(s["wrk_cpu_us_per_req"], digits=0), "–"])
    # livefour alone on one connection with a busy-polling event loop (io_context::poll in a loop):
    # the client thread never sleeps, so the difference to the 1-connection rows above is what its
    # sleep and wake-up around every reply cost on this VM (an application's choice, not a default).
    for kind in ("digits", "multipart"):
        runs = [_lf_small(b, sink, kind, 1, n, spin=True) for _ in range(max(1, b.a.rounds // 2))]
        s = {k: spread([r[k] for r in runs]) for k in runs[0]}
        b.log(f"  {kind} x1, spinning event loop: livefour {s['req_per_s']['median']:.0f} req/s")
        results.append({"kind": kind, "connections": 1, "threads": 1, "spin": True, "count": n, "summary": s,
                        "rounds": runs})
        table.append([kind + " (spinning loop)", 1, 1, _m(s["req_per_s"], digits=0), _m(s["inner_req_per_s"], digits=0),
                      "–", "–", "–", _m(s["cpu_us_per_req"], digits=0), "–", "–", _m(s["body_bytes"], digits=0)])
    b.results["scenarios"]["small"] = {"rows": results}
    write_csv(os.path.join(b.out, "small.csv"),
              ["kind", "connections", "threads", "lf_req_per_s", "lf_inner_req_per_s", "curl_req_per_s",
               "ratio_median", "wrk_req_per_s"],
              [[r.get("label", r["kind"]) + (" (spinning loop)" if r.get("spin") else ""), r["connections"], r["threads"],
                (r["summary"].get("lf_req_per_s") or r["summary"].get("req_per_s") or {}).get("median"),
                (r["summary"].get("lf_inner_req_per_s") or r["summary"].get("inner_req_per_s") or {}).get("median"),
                r["summary"].get("curl_req_per_s", {}).get("median"),
                r["summary"].get("ratio", {}).get("median"),
                r["summary"].get("wrk_req_per_s", {}).get("median")] for r in results])
    b.table("3. Small requests over HTTPS", ["request", "connections", "livefour threads", "livefour req/s",
                                             "livefour req/s (in-process)", "curl req/s", "ratio (min–max)",
                                             "wrk req/s", "livefour CPU µs/req", "curl CPU µs/req",
                                             "wrk CPU µs/req", "body bytes"], table,
            f"{n} requests per run. req/s = requests / process wall time (start-up and handshakes included, "
            "for both tools); 'in-process' excludes livefour's process start. curl: one process, `-K` with "
            f"{n} transfers, `--parallel --parallel-max 16` for 16 connections. Request = livegetfour JSON "
            "(22-byte body) or a multipart with a 1 KiB file (~1.5 KB body). wrk (the reference for what a "
            "lean C client reaches here; it does not verify the certificate): one thread, the same connections, "
            "body and header sizes, median of 3 runs of 2 s after each A/B pair of rounds; it sends its body from "
            "memory. 'video from memory': livefour-bench --memory, the same multipart with the video as a "
            "body_source::memory (no file open, fstat, pread and close per request); 'wrk reads the video file "
            "per request': wrk with a Lua request() that opens, reads and closes it each time (the file work "
            "livefour does for a file source). 'thread_safe off': "
            "livefour-bench --single-threaded, client_options::thread_safe = false (no strands, no hop per "
            "exchange). livefour-only rows: median of the interleaved runs. 'spinning loop': livefour-bench "
            "--spin, the io_context run as a busy loop of poll() (the thread never sleeps).")


# ---- 4. concurrency ------------------------------------------------------------------------

def _lf_conc(b, sink, inflight, total, threads, warmup=True):
    args = ["concurrency", "--url", sink.url("https"), "--ca", b.ca, "--file", b.files["3M"], "--inflight", inflight,
            "--count", total, "--threads", threads]
    if not warmup:
        args.append("--no-warmup")
    with SinkDelta(sink) as d:
        run = b.livefour(*args)
    j = run.json()
    _check_tally("livefour", j, SIZES["3M"])
    warm_bytes = d.delta["body_bytes"] - j["received_total"]
    expected_warm = DIGITS_BODY * inflight if warmup else 0
    if d.delta["requests"] != total + (inflight if warmup else 0) or warm_bytes != expected_warm:
        raise BenchError(f"livefour: sink counted {d.delta['requests']} requests / {d.delta['body_bytes']} bytes")
    nbytes = SIZES["3M"] * total
    return {**j, "wall_gb_per_s": nbytes / run.wall / 1e9, "cpu_s_per_gb": run.cpu / (nbytes / 1e9),
            "maxrss_kib": run.maxrss_kib, "connections": d.delta["connections"]}


def _curl_conc(b, sink, inflight, total):
    # Parallel transfers interleave their reply bodies on stdout, so bodies go to /dev/null and the
    # check uses curl's own per-transfer upload size against the sink's counters.
    t = {"url": sink.url("https") + "/face/livedetectfour", "cacert": b.ca, "headers": ["Expect:"],
         "file": b.files["3M"], "output": "/dev/null", "write_out": SMALL_WRITE_OUT}
    with SinkDelta(sink) as d:
        run = b.curl([t] * total, parallel=inflight)
    xfers = parse_curl_transfers(run.stdout)
    if len(xfers) != total or any(x["status"] != 200 for x in xfers):
        raise BenchError(f"curl: {len(xfers)} of {total} uploads answered 200")
    sent = [x["size_upload"] for x in xfers]
    if min(sent) != max(sent) or not 0 < sent[0] - SIZES["3M"] < 4096:
        raise BenchError(f"curl: uploaded {min(sent)}..{max(sent)} bytes per request")
    b.check_sink("curl", d, total, sum(sent))
    nbytes = SIZES["3M"] * total
    secs = [x["total"] for x in xfers]
    return {"wall_gb_per_s": nbytes / run.wall / 1e9, "p50_ms": percentile(secs, 0.5) * 1e3,
            "p99_ms": percentile(secs, 0.99) * 1e3, "cpu_s_per_gb": run.cpu / (nbytes / 1e9),
            "maxrss_kib": run.maxrss_kib, "connections": d.delta["connections"]}


def concurrency(b):
    from scenarios import ab, summarize, _m, _rng
    sink = b.sinks["c"]
    levels = (1, 10, 100) if b.a.quick else (1, 10, 100, 1000)
    per = {1: 32, 10: 40, 100: 200, 1000: 1000}
    warm_rows, table = [], []
    for threads in (1, 2):
        for n in levels:
            j = _lf_conc(b, sink, n, per[n], threads)
            b.log(f"  {n} in flight, {threads} thread(s): {j['gb_per_s']:.3f} GB/s, p99 {j['p99_ms']:.1f} ms, "
                  f"{j['rss_per_inflight_kib']:.0f} KiB/in-flight")
            warm_rows.append(j)
            table.append([threads, n, j["count"], f"{j['gb_per_s']:.3f}", f"{j['p50_ms']:.1f}", f"{j['p99_ms']:.1f}",
                          f"{j['vm_hwm_kib'] / 1024:.1f}", f"{j['rss_before_kib'] / 1024:.1f}",
                          f"{j['rss_per_inflight_kib']:.0f}", f"{j['cpu_s_per_gb']:.2f}", j["connections"]])
    b.table("4. Concurrent 3 MiB HTTPS uploads (livefour, warm pool)",
            ["threads", "in flight", "uploads", "aggregate GB/s", "p50 ms", "p99 ms", "peak RSS MiB",
             "RSS before MiB", "RSS per in-flight KiB", "CPU s/GB", "connections"], table,
            "One client with max_connections = in-flight; N concurrent livegetfour calls open the N connections "
            "first, then N coroutines upload the given number of files; only the uploads are timed. RSS per "
            "in-flight = (peak RSS − RSS before the warm-up) / N, default 256 KiB write buffer.")
    with open(os.path.join(b.out, "concurrency_plot.dat"), "w") as f:
        f.write("# inflight p50_t1 p99_t1 gbps_t1 rss_per_t1 p50_t2 p99_t2 gbps_t2 rss_per_t2\n")
        for n in levels:
            cols = []
            for threads in (1, 2):
                j = next(r for r in warm_rows if r["inflight"] == n and r["threads"] == threads)
                cols += [j["p50_ms"], j["p99_ms"], j["gb_per_s"], j["rss_per_inflight_kib"]]
            f.write(f"{n} " + " ".join(f"{c:.4f}" for c in cols) + "\n")

    # A/B with curl --parallel: same number of uploads, connections opened on demand by both.
    ab_rows, ab_table = [], []
    for n in (1, 10, 100):
        total = max(16, 2 * n)
        rounds = ab(b, f"{n} in flight cold", lambda: _lf_conc(b, sink, n, total, 1, warmup=False),
                    lambda: _curl_conc(b, sink, n, total), key="wall_gb_per_s")
        s = summarize(rounds, "wall_gb_per_s", "p99_ms", "cpu_s_per_gb", "maxrss_kib")
        ab_rows.append({"inflight": n, "count": total, "summary": s, "rounds": rounds})
        ab_table.append([n, total, _m(s["lf_wall_gb_per_s"], digits=3), _m(s["curl_wall_gb_per_s"], digits=3),
                         _rng(s["ratio"]), _m(s["lf_p99_ms"], digits=1), _m(s["curl_p99_ms"], digits=1),
                         _m(s["lf_cpu_s_per_gb"]), _m(s["curl_cpu_s_per_gb"]), _m(s["lf_maxrss_kib"], 1 / 1024, 1),
                         _m(s["curl_maxrss_kib"], 1 / 1024, 1)])
    b.table("4b. Concurrent uploads, livefour vs curl --parallel (connections opened on demand)",
            ["in flight", "uploads", "livefour GB/s", "curl GB/s", "ratio (min–max)", "livefour p99 ms",
             "curl p99 ms", "livefour CPU s/GB", "curl CPU s/GB", "livefour peak RSS MiB", "curl peak RSS MiB"],
            ab_table, "GB/s = payload / process wall time (start-up and handshakes included for both); one thread "
                      "each. curl caps --parallel-max at 300, so this comparison stops at 100.")
    b.results["scenarios"]["concurrency"] = {"warm": warm_rows, "ab": ab_rows}
    write_csv(os.path.join(b.out, "concurrency.csv"),
              ["threads", "inflight", "uploads", "gb_per_s", "p50_ms", "p99_ms", "vm_hwm_kib", "rss_before_kib",
               "rss_per_inflight_kib", "cpu_s_per_gb"],
              [[j["threads"], j["inflight"], j["count"], j["gb_per_s"], j["p50_ms"], j["p99_ms"], j["vm_hwm_kib"],
                j["rss_before_kib"], j["rss_per_inflight_kib"], j["cpu_s_per_gb"]] for j in warm_rows])
