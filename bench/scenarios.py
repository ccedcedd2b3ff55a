"""scenarios — the measurements of issue 5, each a function of the Bench (see harness.py).

Conventions: "lf" is livefour-bench, "curl" the curl CLI. A comparison runs R rounds; each round
is one livefour process then one curl process with the same sink, payload and TLS settings, and
yields one paired ratio. Ratios are oriented so that > 1 means livefour is better.
"""
import os
import platform
import re
import subprocess

from benchlib import (SIZES, BenchError, SinkDelta, median, parse_curl_transfers, percentile, run_measured, spread,
                      write_csv)

GB = 1e9
DIGITS_BODY = len('{"appid":"1250000000"}')


def _per_gb(seconds, nbytes):
    return seconds / (nbytes / GB) if nbytes else None


# ---- one run of each client ----------------------------------------------------------------

def lf_upload(b, sink, scheme, mode, file, count, chunked=False, cmd="upload", warm="1k", expect=False):
    size, wsize = SIZES[file], SIZES[warm]
    args = [cmd, "--url", sink.url(scheme), "--ca", b.ca, "--file", b.files[file], "--count", count,
            "--mode", mode, "--warmup-file", b.files[warm]]
    if chunked:
        args.append("--chunked")
    if expect:
        args.append("--expect")
    with SinkDelta(sink) as d:
        run = b.livefour(*args)
    j = run.json()
    overhead = b.check_uploads("livefour", size, j["received"], wsize, j["warmup_received"])
    b.check_sink("livefour", d, count + 1, sum(j["received"]) + j["warmup_received"])
    return dict(_upload_result(run, d, j["seconds"], size, count, wsize, j.get("measured_cpu_s")),
                multipart_overhead=overhead)


def curl_upload(b, sink, scheme, mode, file, count, chunked=False, warm="1k", expect=False):
    size, wsize = SIZES[file], SIZES[warm]
    fresh = mode in ("new", "cold", "resumed")
    url = sink.url(scheme) + ("/close" if fresh else "") + "/face/livedetectfour"
    options = ["no-sessionid"] if mode in ("new", "cold") else []
    headers = ["Transfer-Encoding: chunked"] if chunked else []
    with SinkDelta(sink) as d:
        run, xfers = b.curl_upload(url, b.files[file], count, warmup_file=b.files[warm],
                                   extra_headers=headers, options=options, expect=expect)
    received = [x["received"] for x in xfers]
    overhead = b.check_uploads("curl", size, received[1:], wsize, received[0])
    b.check_sink("curl", d, count + 1, sum(received))
    r = _upload_result(run, d, [x["total"] for x in xfers[1:]], size, count, wsize, None)
    r["multipart_overhead"] = overhead
    r["appconnect_ms"] = median([x["appconnect"] * 1e3 for x in xfers[1:]])
    return r


def lf_digits_latency(b, sink, mode, count):
    args = ["latency", "--kind", "digits", "--url", sink.url("https"), "--ca", b.ca, "--count", count, "--mode", mode]
    with SinkDelta(sink) as d:
        run = b.livefour(*args)
    j = run.json()
    if any(r != DIGITS_BODY for r in j["received"] + [j["warmup_received"]]):
        raise BenchError(f"livefour: livegetfour bodies of {set(j['received'])} bytes")
    b.check_sink("livefour", d, count + 1, DIGITS_BODY * (count + 1))
    return _request_result(run, d, j["seconds"], count)


def curl_digits_latency(b, sink, mode, count):
    fresh = mode in ("cold", "resumed")
    t = {"url": sink.url("https") + ("/close" if fresh else "") + "/face/livegetfour", "cacert": b.ca,
         "headers": ["Expect:", "Content-Type: application/json"], "json": '{"appid":"1250000000"}',
         "options": ["no-sessionid"] if mode == "cold" else []}
    with SinkDelta(sink) as d:
        run = b.curl([t] * (count + 1))
    xfers = parse_curl_transfers(run.stdout)
    if len(xfers) != count + 1 or any(x["status"] != 200 or x["received"] != DIGITS_BODY for x in xfers):
        raise BenchError(f"curl: {len(xfers)} livegetfour replies, not all 200 with {DIGITS_BODY} bytes")
    b.check_sink("curl", d, count + 1, DIGITS_BODY * (count + 1))
    return _request_result(run, d, [x["total"] for x in xfers[1:]], count)


def _request_result(run, d, secs, count):
    return {"p50_ms": percentile(secs, 0.5) * 1e3, "p99_ms": percentile(secs, 0.99) * 1e3,
            "cpu_ms_per_request": run.cpu / (count + 1) * 1e3, "tls_handshakes": d.delta["tls_handshakes"],
            "tls_resumed": d.delta["tls_resumed"], "seconds": secs}


def _upload_result(run, d, secs, size, count, wsize, loop_cpu):
    payload = size * count + wsize
    return {
        "gb_per_s": size * len(secs) / sum(secs) / GB,
        "seconds": secs,
        "p50_ms": percentile(secs, 0.5) * 1e3,
        "p99_ms": percentile(secs, 0.99) * 1e3,
        "cpu_s": run.cpu, "cpu_user_s": run.cpu_user, "cpu_sys_s": run.cpu_sys,
        "cpu_s_per_gb": _per_gb(run.cpu, payload),
        "cpu_ms_per_upload": run.cpu / (count + 1) * 1e3,
        "loop_cpu_s_per_gb": _per_gb(loop_cpu, size * count) if loop_cpu is not None else None,
        "maxrss_kib": run.maxrss_kib, "wall_s": run.wall,
        "sink_cpu_s_per_gb": _per_gb(d.sink_cpu, payload),
        "connections": d.delta["connections"], "tls_handshakes": d.delta["tls_handshakes"],
        "tls_resumed": d.delta["tls_resumed"], "continues": d.delta["continues"],
    }


def ab(b, label, run_lf, run_curl, better="higher", key="gb_per_s"):
    """R rounds of (livefour, curl); the paired ratio of `key` per round, > 1 = livefour better."""
    rounds = []
    for i in range(b.a.rounds):
        lf, cu = run_lf(), run_curl()
        if better == "higher":
            ratio = lf[key] / cu[key]
        else:
            ratio = cu[key] / lf[key]
        rounds.append({"lf": lf, "curl": cu, "ratio": ratio})
        b.log(f"  {label} round {i + 1}: livefour {lf[key]:.4g} curl {cu[key]:.4g} ratio {ratio:.3f}")
    return rounds


def summarize(rounds, *keys):
    out = {"ratio": spread([r["ratio"] for r in rounds])}
    for tool in ("lf", "curl"):
        for k in keys:
            out[f"{tool}_{k}"] = spread([r[tool][k] for r in rounds if r[tool] is not None])
    return out


def _rng(s, digits=2):
    if s["median"] is None:
        return "–"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def _m(s, scale=1.0, digits=2):
    return "–" if s["median"] is None else f"{s['median'] * scale:.{digits}f}"


# ---- scenarios -----------------------------------------------------------------------------

def machine(b):
    f = {"kernel": platform.release(), "nproc": os.cpu_count()}
    with open("/proc/cpuinfo") as fh:
        m = re.search(r"model name\s*:\s*(.*)", fh.read())
        f["cpu"] = m.group(1) if m else "?"
    with open("/proc/meminfo") as fh:
        f["mem_total_mib"] = int(fh.readline().split()[1]) // 1024

    def cmd(*c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=120).stdout.strip()
        except OSError:
            return "?"
    f["openssl"] = cmd("openssl", "version")
    f["curl"] = cmd("curl", "--version").splitlines()[0]
    f["compiler"] = cmd("c++", "--version").splitlines()[0]
    f["git"] = b.a.label or cmd("git", "-C", b.root, "describe", "--always", "--dirty")
    f["library_files_modified"] = cmd("git", "-C", b.root, "status", "--porcelain", "--", "src", "include")
    speed = cmd("openssl", "speed", "-elapsed", "-seconds", "2", "-bytes", "16384", "-evp", "aes-256-gcm")
    m = re.search(r"AES-256-GCM\s+([\d.]+)k", speed, re.I)
    f["aes_256_gcm_gb_per_s"] = float(m.group(1)) * 1e3 / GB if m else None
    f["loopback"] = []
    for w in (16384, 131072, 1 << 20):
        run = run_measured([os.path.join(b.bin, "livefour-bench-sink"), "--loopback-test", str(w),
                            "256" if b.a.quick else "1024"])
        f["loopback"].append(run.json())
    b.results["machine"] = f
    rows = [["CPU", f"{f['cpu']}, {f['nproc']} cores (shared with other users during the run)"],
            ["memory", f"{f['mem_total_mib']} MiB"], ["kernel", f["kernel"]], ["OpenSSL", f["openssl"]],
            ["curl", f["curl"]], ["compiler", f["compiler"]], ["livefour", f["git"]],
            ["AES-256-GCM, one core, 16 KiB", f"{f['aes_256_gcm_gb_per_s']:.2f} GB/s"
             if f["aes_256_gcm_gb_per_s"] else "?"]]
    for lb in f["loopback"]:
        rows.append([f"loopback TCP, {lb['write_bytes'] // 1024} KiB writes",
                     f"{lb['gb_per_s']:.2f} GB/s, writer {lb['writer_cpu_s_per_gb']:.2f} s CPU/GB"])
    b.table("Machine", ["what", "value"], rows)


def _throughput_rows(b):
    counts = {"1M": 30, "6M": 10, "100M": 3, "1G": 1}
    rows = []
    for size in ("1M", "6M", "100M", "1G"):
        if size not in b.files:
            continue
        for scheme in ("https", "http"):
            for mode in ("new", "pooled"):
                n = counts[size] * (2 if mode == "pooled" and size == "1G" else 1)
                rows.append({"size": size, "scheme": scheme, "mode": mode, "count": max(1, n // (2 if b.a.quick else 1)),
                             "chunked": False})
    rows.append({"size": "100M", "scheme": "https", "mode": "pooled", "count": 3, "chunked": True})
    return rows


def _throughput_block(b, sink, rows, title, key):
    results, table = [], []
    for row in rows:
        label = f"{row['size']} {row['scheme']} {row['mode']}{' chunked' if row['chunked'] else ''}"
        rounds = ab(b, label,
                    lambda: lf_upload(b, sink, row["scheme"], row["mode"], row["size"], row["count"], row["chunked"]),
                    lambda: curl_upload(b, sink, row["scheme"], row["mode"], row["size"], row["count"], row["chunked"]))
        s = summarize(rounds, "gb_per_s", "cpu_s_per_gb", "maxrss_kib", "sink_cpu_s_per_gb", "loop_cpu_s_per_gb")
        results.append({**row, "summary": s, "rounds": rounds})
        table.append([row["size"], row["scheme"], row["mode"] + (" (chunked)" if row["chunked"] else ""),
                      _m(s["lf_gb_per_s"], digits=3), _m(s["curl_gb_per_s"], digits=3), _rng(s["ratio"]),
                      _m(s["lf_cpu_s_per_gb"]), _m(s["curl_cpu_s_per_gb"]),
                      _m(s["lf_maxrss_kib"], 1 / 1024, 1), _m(s["curl_maxrss_kib"], 1 / 1024, 1)])
    b.results["scenarios"][key] = {"rows": results}
    b.table(title, ["size", "scheme", "connection", "livefour GB/s", "curl GB/s", "ratio (min–max)",
                    "livefour CPU s/GB", "curl CPU s/GB", "livefour peak RSS MiB", "curl peak RSS MiB"], table,
            f"Medians of {b.a.rounds} paired rounds; ratio = livefour/curl throughput per round. CPU is the whole "
            "process (user+sys, wait4) per GB of payload, so for 1–6 MiB it includes process start-up.")
    return results


def throughput(b):
    results = _throughput_block(b, b.sinks["c"], _throughput_rows(b), "1. Single-stream upload throughput",
                                "throughput")
    csv_rows, plot = [], {}
    for r in results:
        s = r["summary"]
        csv_rows.append([r["size"], r["scheme"], r["mode"], r["chunked"], s["lf_gb_per_s"]["median"],
                         s["curl_gb_per_s"]["median"], s["ratio"]["median"], s["ratio"]["min"], s["ratio"]["max"],
                         s["lf_cpu_s_per_gb"]["median"], s["curl_cpu_s_per_gb"]["median"],
                         s["lf_loop_cpu_s_per_gb"]["median"], s["lf_maxrss_kib"]["median"],
                         s["curl_maxrss_kib"]["median"], s["lf_sink_cpu_s_per_gb"]["median"]])
        if not r["chunked"]:
            plot.setdefault(r["size"], {})[(r["scheme"], r["mode"])] = (s["lf_gb_per_s"]["median"],
                                                                        s["curl_gb_per_s"]["median"],
                                                                        s["lf_cpu_s_per_gb"]["median"],
                                                                        s["curl_cpu_s_per_gb"]["median"])
    write_csv(os.path.join(b.out, "throughput.csv"),
              ["size", "scheme", "mode", "chunked", "lf_gb_per_s", "curl_gb_per_s", "ratio_median", "ratio_min",
               "ratio_max", "lf_cpu_s_per_gb", "curl_cpu_s_per_gb", "lf_loop_cpu_s_per_gb", "lf_maxrss_kib",
               "curl_maxrss_kib", "sink_cpu_s_per_gb_lf"], csv_rows)
    # gnuplot data: one line per size, columns per (scheme, mode, tool).
    combos = [(s, m) for s in ("https", "http") for m in ("pooled", "new")]
    with open(os.path.join(b.out, "throughput_plot.dat"), "w") as f:
        f.write("# size_mib " + " ".join(f"lf_{s}_{m} curl_{s}_{m} lfcpu_{s}_{m} curlcpu_{s}_{m}"
                                         for s, m in combos) + "\n")
        for size, v in plot.items():
            cols = []
            for c in combos:
                cols += [f"{x:.4f}" if x is not None else "NaN" for x in v.get(c, (None,) * 4)]
            f.write(f"{SIZES[size] / (1 << 20):g} " + " ".join(cols) + "\n")


def latency(b):
    n = 15 if b.a.quick else 40
    results, table = [], []
    sink = b.sinks["c"]
    for mode in ("cold", "resumed", "warm"):
        rounds = ab(b, f"3M {mode}",
                    lambda: lf_upload(b, sink, "https", mode, "3M", n, cmd="latency", warm="3M"),
                    lambda: curl_upload(b, sink, "https", mode, "3M", n, warm="3M"),
                    better="lower", key="p50_ms")
        s = summarize(rounds, "p50_ms", "p99_ms", "cpu_ms_per_upload", "tls_resumed", "tls_handshakes")
        results.append({"mode": mode, "count": n, "summary": s, "rounds": rounds})
        table.append([mode, _m(s["lf_p50_ms"]), _m(s["lf_p99_ms"]), _m(s["curl_p50_ms"]), _m(s["curl_p99_ms"]),
                      _rng(s["ratio"]), _m(s["lf_cpu_ms_per_upload"]), _m(s["curl_cpu_ms_per_upload"]),
                      f"{_m(s['lf_tls_resumed'], digits=0)}/{_m(s['lf_tls_handshakes'], digits=0)}",
                      f"{_m(s['curl_tls_resumed'], digits=0)}/{_m(s['curl_tls_handshakes'], digits=0)}"])
    b.results["scenarios"]["latency"] = {"rows": results}
    write_csv(os.path.join(b.out, "latency.csv"),
              ["mode", "lf_p50_ms", "lf_p99_ms", "curl_p50_ms", "curl_p99_ms", "ratio_median", "lf_cpu_ms_per_upload",
               "curl_cpu_ms_per_upload", "lf_tls_resumed", "curl_tls_resumed"],
              [[r["mode"], r["summary"]["lf_p50_ms"]["median"], r["summary"]["lf_p99_ms"]["median"],
                r["summary"]["curl_p50_ms"]["median"], r["summary"]["curl_p99_ms"]["median"],
                r["summary"]["ratio"]["median"], r["summary"]["lf_cpu_ms_per_upload"]["median"],
                r["summary"]["curl_cpu_ms_per_upload"]["median"], r["summary"]["lf_tls_resumed"]["median"],
                r["summary"]["curl_tls_resumed"]["median"]] for r in results])
    b.table("2. Latency of a 3 MiB HTTPS upload", ["connection", "livefour p50 ms", "livefour p99 ms", "curl p50 ms",
                                                    "curl p99 ms", "ratio curl/livefour p50", "livefour CPU ms/upload",
                                                    "curl CPU ms/upload", "livefour resumed/handshakes",
                                                    "curl resumed/handshakes"], table,
            f"{n} uploads per run after one warm-up, {b.a.rounds} rounds. cold: new connection and full "
            "handshake per upload; resumed: new connection per upload (the sink closes it), the client's "
            "session cache may resume; warm: one kept-alive connection. Handshake counts are the sink's.")

    # The same three connection modes with a tiny request, where connect + handshake dominate.
    n_small = 60 if b.a.quick else 200
    hs_rows, hs_table = [], []
    for mode in ("cold", "resumed", "warm"):
        rounds = ab(b, f"livegetfour {mode}", lambda: lf_digits_latency(b, sink, mode, n_small),
                    lambda: curl_digits_latency(b, sink, mode, n_small), better="lower", key="p50_ms")
        s = summarize(rounds, "p50_ms", "p99_ms", "cpu_ms_per_request", "tls_resumed", "tls_handshakes")
        hs_rows.append({"mode": mode, "count": n_small, "summary": s, "rounds": rounds})
        hs_table.append([mode, _m(s["lf_p50_ms"], digits=3), _m(s["lf_p99_ms"], digits=3),
                         _m(s["curl_p50_ms"], digits=3), _m(s["curl_p99_ms"], digits=3), _rng(s["ratio"]),
                         _m(s["lf_cpu_ms_per_request"], digits=3), _m(s["curl_cpu_ms_per_request"], digits=3),
                         f"{_m(s['lf_tls_resumed'], digits=0)}/{_m(s['lf_tls_handshakes'], digits=0)}",
                         f"{_m(s['curl_tls_resumed'], digits=0)}/{_m(s['curl_tls_handshakes'], digits=0)}"])
    b.results["scenarios"]["latency"]["handshake_rows"] = hs_rows
    b.table("2b. Connection set-up: a livegetfour call (22-byte body) per connection mode",
            ["connection", "livefour p50 ms", "livefour p99 ms", "curl p50 ms", "curl p99 ms",
             "ratio curl/livefour p50", "livefour CPU ms/req", "curl CPU ms/req", "livefour resumed/handshakes",
             "curl resumed/handshakes"], hs_table,
            f"{n_small} calls per run after one warm-up, {b.a.rounds} rounds; same modes as above. The CPU per "
            "request of the cold and resumed rows is where a full handshake and a resumption differ most.")


def expect(b):
    """Issue 15: `Expect: 100-continue` must not slow down an upload the server accepts. A 6 MiB
    upload on a warm HTTPS connection to a sink that answers 100 at once, with and without Expect,
    paired in each round, for livefour and for curl; the sink's counters confirm who sent it."""
    n = 15 if b.a.quick else 40
    sink = b.sinks["c"]
    runs = {
        "lf_expect": lambda: lf_upload(b, sink, "https", "warm", "6M", n, cmd="latency", warm="6M", expect=True),
        "lf_plain": lambda: lf_upload(b, sink, "https", "warm", "6M", n, cmd="latency", warm="6M"),
        "curl_expect": lambda: curl_upload(b, sink, "https", "warm", "6M", n, warm="6M", expect=True),
        "curl_plain": lambda: curl_upload(b, sink, "https", "warm", "6M", n, warm="6M"),
    }
    rounds = []
    for i in range(b.a.rounds):
        r = {k: run() for k, run in runs.items()}  # the four back to back, in the same order each round
        for k, v in r.items():
            want = n + 1 if k.endswith("expect") else 0  # the warm-up upload included
            if v["continues"] != want:
                raise BenchError(f"expect: {k} made the sink send {v['continues']} 100 Continue, not {want}")
        r["lf_ratio"] = r["lf_expect"]["p50_ms"] / r["lf_plain"]["p50_ms"]
        r["curl_ratio"] = r["curl_expect"]["p50_ms"] / r["curl_plain"]["p50_ms"]
        rounds.append(r)
        b.log(f"  expect round {i + 1}: livefour {r['lf_expect']['p50_ms']:.3f}/{r['lf_plain']['p50_ms']:.3f} ms "
              f"({r['lf_ratio']:.3f}), curl {r['curl_expect']['p50_ms']:.3f}/{r['curl_plain']['p50_ms']:.3f} ms "
              f"({r['curl_ratio']:.3f})")
    s = {f"{k}_p50_ms": spread([r[k]["p50_ms"] for r in rounds]) for k in runs}
    s.update({f"{k}_p99_ms": spread([r[k]["p99_ms"] for r in rounds]) for k in runs})
    s["lf_ratio"] = spread([r["lf_ratio"] for r in rounds])
    s["curl_ratio"] = spread([r["curl_ratio"] for r in rounds])
    b.results["scenarios"]["expect"] = {"count": n, "summary": s, "rounds": rounds}
    table = [[tool, _m(s[f"{k}_expect_p50_ms"]), _m(s[f"{k}_plain_p50_ms"]), _rng(s[f"{k}_ratio"], digits=3),
              _m(s[f"{k}_expect_p99_ms"]), _m(s[f"{k}_plain_p99_ms"])]
             for tool, k in (("livefour", "lf"), ("curl", "curl"))]
    b.table("2c. Expect: 100-continue on an accepted 6 MiB HTTPS upload (warm connection)",
            ["client", "p50 ms with Expect", "p50 ms without", "ratio with/without p50", "p99 ms with Expect",
             "p99 ms without"], table,
            f"{n} uploads per run after one warm-up, {b.a.rounds} rounds; the sink answers 100 Continue at once. "
            "Each round runs the four back to back; the ratio is paired within a round (1.00 = no cost).")


def crosscheck(b):
    """The same comparisons against the Python sink: if livefour/curl ratios hold there too, the C++
    sink is not what decides them."""
    py = b.python_sink()
    rows = [{"size": "100M", "scheme": "https", "mode": "pooled", "count": 3, "chunked": False},
            {"size": "100M", "scheme": "http", "mode": "pooled", "count": 3, "chunked": False},
            {"size": "6M", "scheme": "https", "mode": "new", "count": 10, "chunked": False}]
    saved = b.a.rounds
    b.a.rounds = min(saved, 3)
    try:
        results = _throughput_block(b, py, rows, "Cross-check: the same uploads against the Python sink",
                                    "crosscheck")
    finally:
        b.a.rounds = saved
    c_rows = b.results["scenarios"].get("throughput", {}).get("rows", [])
    table, csv_rows = [], []
    for r in results:
        c = next((x for x in c_rows if all(x[k] == r[k] for k in ("size", "scheme", "mode", "chunked"))), None)
        cs = c["summary"] if c else None
        ps = r["summary"]
        table.append([r["size"], r["scheme"], r["mode"],
                      _m(cs["lf_gb_per_s"], digits=3) if cs else "–", _m(cs["curl_gb_per_s"], digits=3) if cs else "–",
                      _rng(cs["ratio"]) if cs else "–", _m(ps["lf_gb_per_s"], digits=3),
                      _m(ps["curl_gb_per_s"], digits=3), _rng(ps["ratio"])])
        csv_rows.append([r["size"], r["scheme"], r["mode"], cs["ratio"]["median"] if cs else None,
                         ps["ratio"]["median"], ps["lf_gb_per_s"]["median"], ps["curl_gb_per_s"]["median"]])
    b.table("Cross-check: C++ sink vs Python sink", ["size", "scheme", "connection", "C++ sink: livefour GB/s",
                                                      "curl GB/s", "ratio", "Python sink: livefour GB/s", "curl GB/s",
                                                      "ratio"], table)
    write_csv(os.path.join(b.out, "crosscheck.csv"), ["size", "scheme", "mode", "ratio_c_sink", "ratio_py_sink",
                                                      "lf_gb_per_s_py", "curl_gb_per_s_py"], csv_rows)


def targets(b):
    """The issue's targets against what this run measured (only those whose scenario ran)."""
    sc = b.results["scenarios"]
    rows = []

    def add(name, value, ok, unit=""):
        if value is not None:
            rows.append([name, f"{value:.2f}{unit}", "met" if ok else "NOT met"])

    for r in sc.get("throughput", {}).get("rows", []):
        s = r["summary"]
        if r["size"] in ("100M", "1G") and not r["chunked"]:
            name = f"{r['size']} {r['scheme']} {r['mode']}"
            need = 1.3 if r["scheme"] == "https" else 1.0
            add(f"{name}: livefour/curl ≥ {need}", s["ratio"]["median"], s["ratio"]["median"] >= need, "×")
            if r["scheme"] == "https":
                v = s["lf_cpu_s_per_gb"]["median"]
                add(f"{name}: livefour CPU ≤ 0.7 s/GB", v, v <= 0.7, " s/GB")
    rows_tp = {(r["size"], r["scheme"], r["mode"]): r for r in sc.get("throughput", {}).get("rows", [])
               if not r["chunked"]}
    if ("1G", "https", "pooled") in rows_tp and ("1M", "https", "pooled") in rows_tp:
        d = (rows_tp[("1G", "https", "pooled")]["summary"]["lf_maxrss_kib"]["median"]
             - rows_tp[("1M", "https", "pooled")]["summary"]["lf_maxrss_kib"]["median"]) / 1024
        add("peak RSS, 1 GiB minus 1 MiB upload ≤ 2 MiB", d, d <= 2, " MiB")
    lat = {r["mode"]: r["summary"] for r in sc.get("latency", {}).get("rows", [])}
    if "warm" in lat:
        v = lat["warm"]["lf_p50_ms"]["median"]
        add("3 MiB warm pooled p50 ≤ 4 ms", v, v <= 4, " ms")
    hs = {r["mode"]: r["summary"] for r in sc.get("latency", {}).get("handshake_rows", [])}
    if "cold" in hs and "resumed" in hs:
        resumed = hs["resumed"]["lf_tls_resumed"]["median"] or 0
        gain = hs["cold"]["lf_p50_ms"]["median"] - hs["resumed"]["lf_p50_ms"]["median"]
        add("resumption: livegetfour on a new connection, p50 cold minus resumed > 0 (sink saw resumptions)",
            gain, gain > 0 and resumed > 0, " ms")
        gain = hs["cold"]["lf_cpu_ms_per_request"]["median"] - hs["resumed"]["lf_cpu_ms_per_request"]["median"]
        add("resumption: client CPU per new connection, cold minus resumed > 0", gain, gain > 0 and resumed > 0,
            " ms")
    small_rows = sc.get("small", {}).get("rows", [])
    wrk_file = next((r["summary"]["wrk_req_per_s"]["median"] for r in small_rows if r.get("wrk_only")), None)
    for r in small_rows:
        if r["threads"] != 1 or r.get("spin") or r.get("wrk_only"):
            continue
        s = r["summary"]
        v = (s.get("lf_req_per_s") or s["req_per_s"])["median"]  # A/B rows, or livefour-only rows
        need = 20000 if r["connections"] == 1 else 35000
        wrk = s.get("wrk_req_per_s", {}).get("median")
        ref = f" (wrk, same sink: {wrk:.0f})" if wrk else ""
        if r["kind"] == "multipart" and r["connections"] == 16 and not r.get("memory") and wrk_file:
            ref = ref[:-1] + f"; reading the file per request: {wrk_file:.0f})" if ref else \
                f" (wrk reading the file per request: {wrk_file:.0f})"
        add(f"{r.get('label', r['kind'])} on {r['connections']} TLS connection(s) ≥ {need} req/s{ref}", v, v >= need,
            " req/s")
    warm = sc.get("concurrency", {}).get("warm", [])
    for j in warm:
        if j["inflight"] == 1000:
            add(f"RSS per in-flight upload at 1,000 ({j['threads']} thread(s)) ≤ 320 KiB", j["rss_per_inflight_kib"],
                j["rss_per_inflight_kib"] <= 320, " KiB")
    for threads in (1, 2):
        one = next((j for j in warm if j["inflight"] == 1 and j["threads"] == threads), None)
        hundred = next((j for j in warm if j["inflight"] == 100 and j["threads"] == threads), None)
        if one and hundred:
            v = hundred["gb_per_s"] / one["gb_per_s"]
            add(f"aggregate at 100 in flight ≥ 80% of 1 in flight ({threads} thread(s))", v * 100, v >= 0.8, " %")
            big = rows_tp.get(("100M", "https", "pooled"))
            if big and threads == 1:
                v2 = hundred["gb_per_s"] / big["summary"]["lf_gb_per_s"]["median"]
                add("aggregate at 100 in flight ≥ 80% of the 100 MiB single stream", v2 * 100, v2 >= 0.8, " %")
    b.results["targets"] = rows
    if rows:
        b.table("Targets of issue 5", ["target", "measured", "verdict"], rows)


from scenarios_faceid import faceid  # noqa: E402  (it imports helpers from this module)
from scenarios_load import concurrency, small  # noqa: E402

ALL = {"machine": machine, "throughput": throughput, "latency": latency, "expect": expect, "small": small,
       "concurrency": concurrency, "crosscheck": crosscheck, "faceid": faceid}
