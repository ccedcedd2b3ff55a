"""scenarios_faceid — issue 14's benchmark (scenario 5, `--only faceid`): an API 3.0 `LivenessCompare`
with a 6 MB video, livefour against the official Tencent Cloud Node.js SDK and against curl posting
the pre-encoded JSON body, 1 and 16 concurrent, all against the C++ sink's `POST /` mode; and
livefour's memory per in-flight call. See docs/benchmarks.md ("5. faceid") for what is measured.

Conventions as in scenarios.py: a round runs every client once, one after the other, against the
same sink and the same media; each round yields paired ratios, oriented so that > 1 means
livefour is better; tables show medians (and min–max) over the rounds.
"""
import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

from benchlib import BenchError, Sink, SinkDelta, parse_curl_transfers, run_measured, spread, write_csv

# The largest video whose base64 fits VideoBase64's 8 MB, read as 8,000,000 characters (livefour's
# limit, the stricter reading of the documentation): 6,000,000 bytes → 8,000,000 characters. A
# 6 MiB video (8,388,608 characters) is refused by livefour before anything is sent.
VIDEO_BYTES = 6_000_000
IMAGE_BYTES = 100_000  # a selfie-sized photo
MIB6 = 6 * (1 << 20)
SECRET_ID, SECRET_KEY = "AKIDEXAMPLE", "SECRETKEYEXAMPLE"  # livefour-bench's and faceid_node.js's
LIVE_CODE_BODY = 2  # GetLiveCode's body, "{}", from livefour and the SDK alike (the warm-up calls)
SDK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "peers", "node",
                   "node_modules", "tencentcloud-sdk-nodejs")
NODE = shutil.which("node") if os.path.isdir(SDK) else None  # scripts/setup.sh installs both


# ---- media, and curl's pre-signed request --------------------------------------------------

def media(b):
    """The video (random bytes behind an mp4 `ftyp` box), the photo (random bytes behind a JPEG
    marker) and curl's JSON body, written once per run; with their SHA-256s."""
    m = getattr(b, "faceid_media", None)
    if m:
        return m
    video = bytearray(os.urandom(VIDEO_BYTES))
    video[0:8] = b"\x00\x00\x00\x18ftyp"
    image = b"\xff\xd8\xff\xe0" + os.urandom(IMAGE_BYTES - 4)
    # The members in livefour's order, no spaces: the body livefour produces, byte for byte.
    body = json.dumps({"LivenessType": "LIP", "ValidateData": "1234",
                       "ImageBase64": base64.b64encode(image).decode(),
                       "VideoBase64": base64.b64encode(bytes(video)).decode()}, separators=(",", ":")).encode()
    m = {}
    for name, data in (("video", bytes(video)), ("image", image), ("body", body)):
        path = os.path.join(b.tmp, f"faceid-{name}.{'json' if name == 'body' else 'bin'}")
        with open(path, "wb") as f:
            f.write(data)
        m[name] = path
        m[f"{name}_sha256"] = hashlib.sha256(data).hexdigest()
        m[f"{name}_bytes"] = len(data)
    b.faceid_media = m
    return m


def _tc3_peer():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "peers"))
    import tc3_peer  # noqa: E402  (the independent Python peer: its signer signs curl's request)
    return tc3_peer


def presigned_headers(host, body_sha256):
    """curl's headers for the JSON file: the ones livefour sends, and a TC3-HMAC-SHA256 signature of
    that body for `host` computed once, here (curl does not sign), with the Python peer's signer.
    Valid for the service's 5 minutes of skew; the sink does not verify, the peer does."""
    peer = _tc3_peer()
    ts = int(time.time())
    date = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d")
    canonical = "\n".join(["POST", "/", "", f"content-type:application/json\nhost:{host.lower()}\n",
                           "content-type;host", body_sha256])
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), f"{date}/faceid/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    sig = peer.tc3_signature(SECRET_KEY, date, "faceid", to_sign)
    return ["Expect:", "Content-Type: application/json", "X-TC-Action: LivenessCompare",
            "X-TC-Version: 2018-03-01", f"X-TC-Timestamp: {ts}",
            f"Authorization: TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/faceid/tc3_request, "
            "SignedHeaders=content-type;host, Signature=" + sig]


# ---- one run of each client ----------------------------------------------------------------

def _result(run, d, count, j=None):
    r = {"req_per_s": count / run.wall, "cpu_ms_per_req": run.cpu / count * 1e3,
         "cpu_user_ms_per_req": run.cpu_user / count * 1e3, "cpu_sys_ms_per_req": run.cpu_sys / count * 1e3,
         "maxrss_kib": run.maxrss_kib, "wall_s": run.wall, "count": count,
         "sink_cpu_ms_per_req": d.sink_cpu / count * 1e3 if d else None,
         "connections": d.delta["connections"] if d else None}
    if j:
        r.update(inner_req_per_s=j["req_per_s"], loop_cpu_ms_per_req=j["cpu_ms_per_req"], p50_ms=j["p50_ms"],
                 p99_ms=j["p99_ms"])
    return r


def _check_received(tool, j, body_bytes, count):
    if j["count"] != count or j.get("failures"):
        raise BenchError(f"{tool}: {j['count']} of {count} calls succeeded")
    if body_bytes and not (j["received_min"] == j["received_max"] == body_bytes):
        raise BenchError(f"{tool}: the sink received {j['received_min']}..{j['received_max']} bytes per call, "
                         f"expected {body_bytes}")


def _check_sink(tool, d, count, body_bytes, warmups):
    want_req, want_bytes = count + warmups, count * body_bytes + warmups * LIVE_CODE_BODY
    if d.delta["requests"] != want_req or d.delta["body_bytes"] != want_bytes or d.delta["protocol_errors"]:
        raise BenchError(f"{tool}: the sink counted {d.delta['requests']} requests / {d.delta['body_bytes']} bytes "
                         f"({d.delta['protocol_errors']} protocol errors), expected {want_req} / {want_bytes}")


def lf_compare(b, server, conc, count, unsigned, body_bytes=None, any_result=False, check=True):
    m = media(b)
    args = ["faceid-compare", "--url", server.url("https"), "--ca", b.ca, "--file", m["video"], "--image",
            m["image"], "--count", count, "--connections", conc]
    args += (["--unsigned-payload"] if unsigned else []) + (["--any-result"] if any_result else [])
    tool = f"livefour{' unsigned' if unsigned else ''}"
    if not check:
        run = b.livefour(*args)
        return run, run.json()
    with SinkDelta(server) as d:
        run = b.livefour(*args)
    j = run.json()
    _check_received(tool, j, body_bytes, count)
    _check_sink(tool, d, count, body_bytes, conc)
    r = _result(run, d, count, j)
    r.update(rss_before_kib=j["rss_before_kib"], rss_warm_kib=j["rss_warm_kib"], vm_hwm_kib=j["vm_hwm_kib"],
             rss_per_inflight_kib=j["rss_per_inflight_kib"])
    return r


def node_cmd(b, port, conc, count, encode_once=False):
    m = media(b)
    return [NODE, os.path.join(b.root, "bench", "faceid_node.js"), "--port", str(port), "--ca", b.ca, "--video",
            m["video"], "--image", m["image"], "--count", str(count), "--concurrency", str(conc)] + \
        (["--encode-once"] if encode_once else [])


def node_compare(b, sink, conc, count, body_bytes, encode_once=False):
    with SinkDelta(sink) as d:
        run = run_measured(node_cmd(b, sink.port, conc, count, encode_once))
    j = run.json()
    _check_received("node-sdk", j, body_bytes, count)
    _check_sink("node-sdk", d, count, body_bytes, conc)
    r = _result(run, d, count, j)
    b.faceid_node_versions = {k: j[k] for k in ("sdk_version", "node_version", "node_openssl")}
    return r


def curl_transfers(b, server, count):
    m = media(b)
    host = f"{server.host}:{server.port}"
    # --upload-file streams the file (--data-binary @file would load a copy per transfer into
    # memory, at parse time); -T appends the file's name to a URL without one, so the URL names
    # one and --request-target sends `/`.
    t = {"url": server.url("https") + "/faceid", "cacert": b.ca, "output": "/dev/null",
         "headers": presigned_headers(host, m["body_sha256"]),
         "options": [f'upload-file = "{m["body"]}"', 'request = "POST"', 'request-target = "/"']}
    return [t] * count


def curl_compare(b, sink, conc, count, body_bytes):
    with SinkDelta(sink) as d:
        run = b.curl(curl_transfers(b, sink, count), parallel=conc if conc > 1 else 0)
    xfers = parse_curl_transfers(run.stdout)
    if len(xfers) != count or any(x["status"] != 200 or x["size_upload"] != body_bytes for x in xfers):
        raise BenchError(f"curl: {len(xfers)} of {count} transfers, statuses "
                         f"{sorted({x['status'] for x in xfers})}, uploads {sorted({x['size_upload'] for x in xfers})}")
    _check_sink("curl", d, count, body_bytes, 0)
    return _result(run, d, count)


# ---- the scenario --------------------------------------------------------------------------

def verify_bodies(b):
    """Before anything is timed: one LivenessCompare of each client to the Python TC3 peer
    (test/peers/tc3_peer.py: verifies the signature, parses the JSON, strictly decodes the base64).
    Every request must verify and carry the video and the photo intact; returns the body size
    each client sends, which the timed runs then check against the sink's byte counts."""
    m = media(b)
    peer = Sink("tc3-peer", [sys.executable, os.path.join(b.root, "test", "peers", "tc3_peer.py"), "--tls-cert",
                             os.path.join(b.pki, "server.pem"), "--tls-key", os.path.join(b.pki, "server.key"),
                             "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY])
    try:
        lf_compare(b, peer, 1, 1, False, check=False)
        lf_compare(b, peer, 1, 1, True, check=False)
        if NODE:
            run_measured(node_cmd(b, peer.port, 1, 1))
        b.curl(curl_transfers(b, peer, 1))
        import urllib.request
        with urllib.request.urlopen(f"https://{peer.host}:{peer.port}/_peer/requests", timeout=30,
                                    context=__import__("ssl").create_default_context(cafile=b.ca)) as r:
            records = [x for x in json.loads(r.read()) if x.get("action") == "LivenessCompare"]
    finally:
        peer.stop()
    tools = ["livefour", "livefour unsigned"] + (["node-sdk"] if NODE else []) + ["curl"]
    if len(records) != len(tools):
        raise BenchError(f"tc3 peer: {len(records)} LivenessCompare requests recorded, expected {len(tools)}")
    sizes, facts = {}, {}
    for tool, rec in zip(tools, records):
        ok = (rec.get("signature_ok") and not rec.get("error") and rec.get("video", {}).get("sha256") == m["video_sha256"]
              and rec.get("image", {}).get("sha256") == m["image_sha256"]
              and rec.get("unsigned_payload") == (tool == "livefour unsigned") and not rec.get("chunked")
              and not rec.get("expect_100_continue"))
        if not ok:
            raise BenchError(f"tc3 peer: the {tool} request did not verify: {json.dumps(rec)[:600]}")
        sizes[tool] = rec["body_size"]
        facts[tool] = {"body_size": rec["body_size"], "same_body_as_curl_file": rec["body_sha256"] == m["body_sha256"]}
    b.log("  faceid: every client's LivenessCompare verified by the TC3 peer (signature, JSON, base64, media "
          f"SHA-256); body bytes {sizes}; identical to curl's file: "
          + ", ".join(t for t, f in facts.items() if f["same_body_as_curl_file"]))
    return sizes, facts


def _counts(b, conc):
    quick = b.a.quick
    if conc == 1:
        return {"lf": 12 if quick else 30, "node": 4 if quick else 10, "curl": 12 if quick else 30}
    return {"lf": 48 if quick else 96, "node": 16 if quick else 32, "curl": 48 if quick else 96}


CLIENTS = [("lf", "livefour (signed: SHA-256 pass)"), ("lf_unsigned", "livefour (UNSIGNED-PAYLOAD)"),
           ("node", "Node SDK (base64 per call)"), ("node_once", "Node SDK (base64 once, at start)"),
           ("curl", "curl -T body.json (pre-encoded, pre-signed)")]


def faceid(b):
    from scenarios import _m, _rng
    sink = b.sinks["c"]
    sizes, facts = verify_bodies(b)
    lf_body, curl_body = sizes["livefour"], sizes["curl"]
    node_body = sizes.get("node-sdk")
    if sizes["livefour unsigned"] != lf_body:
        raise BenchError(f"livefour: signed and unsigned bodies differ in size: {sizes}")
    res = {"media": {k: v for k, v in media(b).items() if k not in ("video", "image", "body")},
           "verified": facts, "rows": [], "memory": []}
    if not NODE:
        b.log("  node or the SDK (test/peers/node/node_modules) not found: the Node SDK rows are skipped "
              "(scripts/setup.sh installs both)")
    table, ratio_table, csv_rows = [], [], []
    for conc in (1, 16):
        n = _counts(b, conc)
        runners = {"lf": lambda: lf_compare(b, sink, conc, n["lf"], False, lf_body),
                   "lf_unsigned": lambda: lf_compare(b, sink, conc, n["lf"], True, lf_body),
                   "curl": lambda: curl_compare(b, sink, conc, n["curl"], curl_body)}
        if NODE:
            runners["node"] = lambda: node_compare(b, sink, conc, n["node"], node_body)
            runners["node_once"] = lambda: node_compare(b, sink, conc, n["node"], node_body, encode_once=True)
        rounds = []
        for i in range(b.a.rounds):
            r = {k: runners[k]() for k, _ in CLIENTS if k in runners}
            for k in ("node", "curl"):
                if k in r:
                    r[f"ratio_{k}"] = r["lf"]["req_per_s"] / r[k]["req_per_s"]
                    r[f"ratio_unsigned_{k}"] = r["lf_unsigned"]["req_per_s"] / r[k]["req_per_s"]
                    r[f"cpu_ratio_{k}"] = r[k]["cpu_ms_per_req"] / r["lf"]["cpu_ms_per_req"]
            if "node" in r:  # the timed loops alone: no process start-up (Node's is ~0.3 s) on either side
                r["ratio_loop_node"] = r["lf"]["inner_req_per_s"] / r["node"]["inner_req_per_s"]
            rounds.append(r)
            b.log(f"  faceid x{conc} round {i + 1}: req/s " + ", ".join(
                f"{k} {r[k]['req_per_s']:.2f}" for k, _ in CLIENTS if k in r) + "; CPU ms/req " + ", ".join(
                f"{k} {r[k]['cpu_ms_per_req']:.1f}" for k, _ in CLIENTS if k in r) + f" (load {_load()})")
        s = {}
        for k, _ in CLIENTS:
            if k in rounds[0]:
                for key in rounds[0][k]:
                    s[f"{k}_{key}"] = spread([r[k][key] for r in rounds])
        for key in [k for k in rounds[0] if k.startswith(("ratio", "cpu_ratio"))]:
            s[key] = spread([r[key] for r in rounds])
        res["rows"].append({"concurrent": conc, "counts": n, "summary": s, "rounds": rounds})
        none = {"median": None}
        for k, label in CLIENTS:
            if f"{k}_req_per_s" not in s:
                continue
            g = lambda key: s.get(f"{k}_{key}", none)  # noqa: E731
            count = n["node" if k.startswith("node") else ("curl" if k == "curl" else "lf")]
            table.append([label, conc, count, _m(g("req_per_s")), _m(g("inner_req_per_s")),
                          _m(g("cpu_ms_per_req"), digits=1), _m(g("loop_cpu_ms_per_req"), digits=1),
                          _m(g("cpu_sys_ms_per_req"), digits=1), _m(g("maxrss_kib"), 1 / 1024, 1),
                          _m(g("p50_ms"), digits=1), _m(g("sink_cpu_ms_per_req"), digits=1)])
            csv_rows.append([k, conc, count, g("req_per_s")["median"], g("inner_req_per_s")["median"],
                             g("cpu_ms_per_req")["median"], g("loop_cpu_ms_per_req")["median"],
                             g("maxrss_kib")["median"], g("p50_ms")["median"], g("sink_cpu_ms_per_req")["median"]])
        ratio_table.append([conc] + [_rng(s[key]) if key in s else "–" for key in
                                     ("ratio_node", "ratio_loop_node", "ratio_unsigned_node", "cpu_ratio_node",
                                      "ratio_curl", "ratio_unsigned_curl", "cpu_ratio_curl")])

    # Memory: (peak RSS − RSS before the warm-up) / in flight, one client of N connections.
    mem_table = []
    for inflight in ((64,) if b.a.quick else (64, 100)):
        for unsigned in (False, True):
            runs = [lf_compare(b, sink, inflight, 2 * inflight, unsigned, lf_body)
                    for _ in range(min(3, b.a.rounds))]
            s = {k: spread([r[k] for r in runs]) for k in ("rss_per_inflight_kib", "rss_before_kib", "vm_hwm_kib",
                                                          "loop_cpu_ms_per_req", "req_per_s")}
            res["memory"].append({"inflight": inflight, "unsigned": unsigned, "summary": s, "runs": runs})
            b.log(f"  faceid {inflight} in flight{' unsigned' if unsigned else ''}: "
                  f"{s['rss_per_inflight_kib']['median']:.0f} KiB per in-flight call")
            mem_table.append([inflight, "UNSIGNED-PAYLOAD" if unsigned else "signed", 2 * inflight,
                              _m(s["rss_before_kib"], 1 / 1024, 1), _m(s["vm_hwm_kib"], 1 / 1024, 1),
                              _rng(s["rss_per_inflight_kib"], 0), _m(s["loop_cpu_ms_per_req"], digits=1),
                              _m(s["req_per_s"], digits=1)])
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    res["versions"] = dict(getattr(b, "faceid_node_versions", {}), curl=curl)
    b.log(f"  faceid versions: {res['versions']}")
    b.results["scenarios"]["faceid"] = res
    write_csv(os.path.join(b.out, "faceid.csv"),
              ["client", "concurrent", "requests", "req_per_s", "inner_req_per_s", "cpu_ms_per_req",
               "loop_cpu_ms_per_req", "maxrss_kib", "p50_ms", "sink_cpu_ms_per_req"], csv_rows)
    m = media(b)
    b.table("5. faceid LivenessCompare: livefour vs the official Node.js SDK vs curl",
            ["client", "concurrent", "calls per run", "req/s", "req/s (timed loop)", "CPU ms/call",
             "CPU ms/call (timed loop)", "of which sys ms", "peak RSS MiB", "p50 ms", "sink CPU ms/call"], table,
            f"A {m['video_bytes']:,}-byte video and a {m['image_bytes']:,}-byte photo, one "
            f"{lf_body:,}-byte JSON body per call ({_same(facts)}), over TLS 1.3 to the sink's POST / mode, which "
            "does not verify (every client's request was verified once by the TC3 peer first). Medians of "
            f"{b.a.rounds} rounds. req/s = calls / process wall time (start-up, warm-up and handshakes included, for "
            "every client); CPU ms/call = the process's user+sys (wait4) / calls. 'timed loop': livefour-bench's and "
            "faceid_node.js's own clock and getrusage / process.cpuUsage around the calls only (after C GetLiveCode "
            "calls opened the C connections). curl: one process, `-K` with one transfer per call, `--upload-file` "
            "the pre-encoded body with `-X POST`, `-H 'Expect:'`, `--parallel --parallel-max 16` for 16.")
    b.table("5b. faceid: livefour / peer ratios (paired per round, > 1 = livefour better)",
            ["concurrent", "req/s livefour / Node SDK", "timed loops: livefour / Node SDK",
             "req/s livefour unsigned / Node SDK",
             "CPU per call Node SDK / livefour", "req/s livefour / curl", "req/s livefour unsigned / curl",
             "CPU per call curl / livefour"], ratio_table,
            "Node SDK: base64 per call (the SDK takes base64 strings: the application reads and encodes the "
            "files for every call, as livefour does). livefour = signed unless said. Median (min–max) of the "
            "per-round ratios.")
    b.table("5c. faceid: livefour memory per in-flight LivenessCompare",
            ["in flight", "payload", "calls", "RSS before MiB", "peak RSS MiB", "RSS per in-flight KiB (min–max)",
             "CPU ms/call (timed loop)", "req/s (timed loop)"], mem_table,
            "One faceid client with max_connections = in flight; N GetLiveCode calls open the N connections, then "
            "N coroutines make 2N LivenessCompare calls. RSS per in-flight = (peak RSS − RSS before the warm-up) / N, "
            f"measured by livefour-bench from /proc/self/status; median of {min(3, b.a.rounds)} runs.")
    if os.environ.get("LIVEFOUR_BENCH_EMULATOR"):
        emulator_check(b, lf_body)
    floor(b, res, lf_body)


def floor(b, res, body):
    """What the bytes of one call cost at one core's speed of OpenSSL's primitives (livefour-bench
    primitives), against livefour's CPU per call: the rest is file reads, the kernel's socket path
    and livefour's own code."""
    from scenarios import _m
    p = b.livefour("primitives").json()
    m = media(b)
    raw = m["video_bytes"] + m["image_bytes"]
    ms = {"base64": raw / (p["base64_encode_gb_per_s"] * 1e9) * 1e3, "sha256": body / (p["sha256_gb_per_s"] * 1e9) * 1e3,
          "aes": body / (p["aes_256_gcm_16k_gb_per_s"] * 1e9) * 1e3}
    crypto_signed, crypto_unsigned = ms["sha256"] + ms["aes"], ms["aes"]
    res["primitives"] = dict(p, sha256_aes_signed_ms=crypto_signed, aes_unsigned_ms=crypto_unsigned,
                             evp_base64_ms_per_pass=ms["base64"])
    rows = [["SHA-256 of the body", f"{p['sha256_gb_per_s']:.2f} GB/s", f"{ms['sha256']:.2f}", "1×", "–"],
            ["AES-256-GCM of the body (16 KiB records)", f"{p['aes_256_gcm_16k_gb_per_s']:.2f} GB/s",
             f"{ms['aes']:.2f}", "1×", "1×"],
            ["**SHA-256 and AES-GCM alone**", "", "", f"**{crypto_signed:.2f}**", f"**{crypto_unsigned:.2f}**"],
            ["base64 of the video and photo with OpenSSL's EVP_EncodeBlock", f"{p['base64_encode_gb_per_s']:.2f} GB/s",
             f"{ms['base64']:.2f}", f"2× = {2 * ms['base64']:.2f}", f"1× = {ms['base64']:.2f}"]]
    for r in res["rows"]:
        s = r["summary"]
        rows.append([f"livefour, timed loop, {r['concurrent']} concurrent", "", "",
                     _m(s["lf_loop_cpu_ms_per_req"]), _m(s["lf_unsigned_loop_cpu_ms_per_req"])])
    b.table("5e. faceid: the cost of the bytes of one call at one core's speed of OpenSSL (livefour-bench primitives)",
            ["work", "speed (one core, this run)", "ms per call", "signed: × passes", "UNSIGNED-PAYLOAD"], rows,
            "SHA-256 and AES-GCM are of the whole body, base64 of the video and the photo (input bytes). livefour "
            "encodes whole 24-byte blocks with AVX2 where the CPU has it (src/json_encoding.cpp, about 9× "
            "EVP_EncodeBlock), so its base64 costs a fraction of the last primitive row. The livefour rows are table "
            "5's medians: what they add to SHA-256 and AES-GCM is base64, the file reads (page-cache copies), the "
            "kernel's socket path and livefour's own code (bench/profile.sh faceid: how much of each).")


def emulator_check(b, lf_body):
    """Optional (LIVEFOUR_BENCH_EMULATOR=path/to/livefour-emulator): livefour at 16 concurrent
    against the emulator, which verifies TC3 and decodes the base64, and against the sink in the
    same round: whether the emulator would be the bottleneck of this benchmark."""
    from scenarios import _m
    emu = Sink("emulator", [os.environ["LIVEFOUR_BENCH_EMULATOR"], "--cert", os.path.join(b.pki, "server.pem"),
                            "--key", os.path.join(b.pki, "server.key"), "--secret-id", SECRET_ID, "--secret-key",
                            SECRET_KEY, "--quiet"])
    rows, table = [], []
    try:
        for _ in range(min(3, b.a.rounds)):
            for unsigned in (False, True):
                cpu0 = emu.cpu()
                _, j = lf_compare(b, emu, 16, 64, unsigned, any_result=True, check=False)
                emu_cpu = (emu.cpu() - cpu0) / 64
                _check_received("livefour (emulator)", j, None, 64)
                sink = lf_compare(b, b.sinks["c"], 16, 64, unsigned, lf_body)
                rows.append({"unsigned": unsigned, "emulator_req_per_s": j["req_per_s"],
                             "emulator_cpu_ms_per_req": emu_cpu * 1e3, "sink_req_per_s": sink["inner_req_per_s"],
                             "sink_cpu_ms_per_req": sink["sink_cpu_ms_per_req"],
                             "client_cpu_ms_per_req": j["cpu_ms_per_req"]})
    finally:
        emu.stop()
    for unsigned in (False, True):
        rs = [r for r in rows if r["unsigned"] == unsigned]
        s = {k: spread([r[k] for r in rs]) for k in rs[0] if k != "unsigned"}
        table.append(["UNSIGNED-PAYLOAD" if unsigned else "signed", _m(s["sink_req_per_s"]),
                      _m(s["emulator_req_per_s"]), _m(s["sink_cpu_ms_per_req"], digits=1),
                      _m(s["emulator_cpu_ms_per_req"], digits=1), _m(s["client_cpu_ms_per_req"], digits=1)])
    b.results["scenarios"]["faceid"]["emulator"] = rows
    b.table("5d. faceid: the sink or livefour-emulator as the server (livefour, 16 concurrent)",
            ["payload", "req/s against the sink", "req/s against the emulator", "sink CPU ms/call",
             "emulator CPU ms/call", "livefour CPU ms/call (against the emulator)"], table,
            "The emulator verifies the TC3 signature (SHA-256 of the body), decodes and hashes the base64 media. "
            "Timed loops of 64 calls after 16 GetLiveCode calls; the emulator's CPU from /proc (warm-up included).")


def _same(facts):
    same = [t for t, f in facts.items() if f["same_body_as_curl_file"]]
    other = [f"{t}: {f['body_size']:,} bytes" for t, f in facts.items() if not f["same_body_as_curl_file"]]
    return "byte for byte the same body: " + ", ".join(same) + ("; different: " + ", ".join(other) if other else "")


def _load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def targets(b):
    """Issue 14's targets against this run."""
    sc = b.results["scenarios"].get("faceid")
    if not sc:
        return
    rows = []
    scale = MIB6 / VIDEO_BYTES

    def add(name, value, ok, unit=""):
        if value is not None:
            rows.append([name, f"{value:.2f}{unit}", "met" if ok else "NOT met"])

    by_conc = {r["concurrent"]: r["summary"] for r in sc["rows"]}
    for conc, s in sorted(by_conc.items()):
        for key, label, limit in (("lf", "signed", 15), ("lf_unsigned", "UNSIGNED-PAYLOAD", 10)):
            v = s[f"{key}_loop_cpu_ms_per_req"]["median"]
            add(f"client CPU per call, {label}, {conc} concurrent, ≤ {limit} ms per 6 MiB (measured per 6 MB video "
                f"× {scale:.3f})", v * scale, v * scale <= limit, " ms")
    s16 = by_conc.get(16, {})
    for key, label in (("ratio_node", "signed"), ("ratio_unsigned_node", "UNSIGNED-PAYLOAD")):
        if key in s16:
            v = s16[key]["median"]
            add(f"req/s ≥ 3× the Node SDK's at 16 concurrent ({label})", v, v >= 3, "×")
    for mrow in sc["memory"]:
        v = mrow["summary"]["rss_per_inflight_kib"]["median"]
        add(f"RSS per in-flight call ≤ 512 KiB at {mrow['inflight']} ({'UNSIGNED-PAYLOAD' if mrow['unsigned'] else 'signed'})",
            v, v <= 512, " KiB")
    b.results["targets_faceid"] = rows
    b.table("Targets of issue 14 (faceid)", ["target", "measured", "verdict"], rows,
            "CPU: livefour-bench's timed loop (getrusage around the calls, process start and warm-up excluded), "
            "median over the rounds, scaled from the 6,000,000-byte video to 6 MiB.")
