#!/usr/bin/env python3
"""harness.py — livefour vs curl, side by side (issue 5). Normally started by bench/run.sh.

Every comparison alternates the two clients (livefour, curl, livefour, curl, …) against the same
sink, payload and TLS settings (verification on, the same CA, TLS 1.3 AES-256-GCM on both), and
reports the ratio of each adjacent pair plus median/min/max. Each measurement is one process; its
CPU time and peak RSS come from wait4, identically for both tools. Every run is checked: the
sink's per-request byte counts must equal file size + the tool's constant multipart overhead, and
the sink's counters must agree with what the clients report.

    python3 bench/harness.py --bin BUILD/bench --out bench/results [--quick] [--only s1,s2,…]

Scenarios: machine, throughput, latency, small, concurrency, crosscheck, faceid (issue 14: API 3.0
LivenessCompare, livefour vs the official Node.js SDK and curl; bench/scenarios_faceid.py).
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (MiB, SIZES, BenchError, Sink, SinkDelta, curl_config, loadavg, md_table,  # noqa: E402
                      parse_curl_transfers, run_measured)
import scenarios  # noqa: E402
import scenarios_faceid  # noqa: E402


class Bench:
    """Shared state of one benchmark run: binaries, PKI, payload files, sinks, results."""

    def __init__(self, a):
        self.a = a
        self.bin = os.path.abspath(a.bin)
        self.out = os.path.abspath(a.out)
        self.root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.tmp = tempfile.mkdtemp(prefix="livefour-bench-")
        self.pki = os.path.join(self.tmp, "pki")
        self.ca = os.path.join(self.pki, "ca.pem")
        self.files = {}
        self.sinks = {}
        self.results = {"config": {"quick": a.quick, "rounds": a.rounds}, "scenarios": {}}
        self.tables = []  # (title, markdown) for summary.md
        self.log_lines = []

    # -- setup / teardown
    def setup(self):
        os.makedirs(self.out, exist_ok=True)
        subprocess.run([os.path.join(self.root, "test/peers/make_certs.sh"), self.pki], check=True)
        block = os.urandom(16 * MiB)
        only = {s for s in self.a.only.split(",") if s}
        big = not only or only & {"throughput", "crosscheck"}  # the only users of 100 MiB and 1 GiB
        for name, size in SIZES.items():
            if (self.a.quick and size > 100 * MiB) or (not big and size >= 100 * MiB):
                continue
            path = os.path.join(self.tmp, f"payload-{name}.bin")
            with open(path, "wb") as f:
                left = size
                while left:
                    n = min(left, len(block))
                    f.write(block[:n])
                    left -= n
            self.files[name] = path
        self.sinks["c"] = Sink("c", [os.path.join(self.bin, "livefour-bench-sink"), "--cert",
                                     os.path.join(self.pki, "server.pem"), "--key",
                                     os.path.join(self.pki, "server.key")])
        self.self_check(self.sinks["c"])

    def python_sink(self):
        if "py" not in self.sinks:
            self.sinks["py"] = Sink("py", [sys.executable, os.path.join(self.root, "bench/pysink.py"), "--cert",
                                           os.path.join(self.pki, "server.pem"), "--key",
                                           os.path.join(self.pki, "server.key")])
            self.self_check(self.sinks["py"])
        return self.sinks["py"]

    def self_check(self, sink):
        """The parts of the sink contract the comparisons do not use: `Expect: 100-continue` (curl
        sends it for bodies over 1 MiB unless told not to) and chunked bodies, over HTTPS."""
        url = sink.url("https") + "/face/livedetectfour"
        t = {"url": url, "cacert": self.ca, "file": self.files["3M"]}
        chunked = dict(t, headers=["Transfer-Encoding: chunked"])
        with SinkDelta(sink) as d:
            run = self.curl([t, chunked])
        xfers = parse_curl_transfers(run.stdout)
        got = [x["received"] for x in xfers]
        if (len(got) != 2 or got[0] != got[1] or not 0 < got[0] - SIZES["3M"] < 4096
                or d.delta["continues"] < 1 or d.delta["chunked"] != 1 or d.delta["body_bytes"] != sum(got)):
            raise BenchError(f"sink {sink.name} self-check failed: received {got}, counters {d.delta}")
        self.log(f"sink {sink.name}: 100-continue and chunked bodies OK")

    def teardown(self):
        for s in self.sinks.values():
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)  # the 1 GiB payload goes with it

    def log(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        self.log_lines.append(line)

    # -- the two clients
    def livefour(self, *args):
        return run_measured([os.path.join(self.bin, "livefour-bench"), *map(str, args)])

    def curl(self, transfers, parallel=0):
        cfg = os.path.join(self.tmp, "curl.cfg")
        curl_config(cfg, transfers)
        cmd = ["curl"]
        if parallel:
            cmd += ["--parallel", "--parallel-immediate", "--parallel-max", str(parallel)]
        return run_measured(cmd + ["-K", cfg])

    def curl_upload(self, url, file, n, warmup_file=None, extra_headers=(), options=(), expect=False):
        """n multipart uploads of `file` in one curl process (after one of warmup_file); with
        `expect`, each sends `Expect: 100-continue` and waits for the 100, else none does."""
        common = {"cacert": self.ca if url.startswith("https") else None,
                  "headers": ["Expect: 100-continue" if expect else "Expect:", *extra_headers],
                  "options": list(options)}
        ts = [dict(common, url=url, file=warmup_file or file)] + [dict(common, url=url, file=file)] * n
        run = self.curl(ts)
        xfers = parse_curl_transfers(run.stdout)
        if len(xfers) != n + 1 or any(x["status"] != 200 for x in xfers):
            raise BenchError(f"curl: {len(xfers)} transfers, statuses {[x['status'] for x in xfers][:5]}")
        return run, xfers

    # -- checks
    @staticmethod
    def check_uploads(tool, file_size, received, warm_size, warm_received):
        """Every upload delivered the whole file: received − size is the tool's constant multipart
        overhead, the same as for the warm-up upload. Returns that overhead."""
        overhead = warm_received - warm_size
        if not 0 < overhead < 4096:
            raise BenchError(f"{tool}: warm-up upload: sink received {warm_received} for {warm_size} bytes")
        bad = [r for r in received if r - file_size != overhead]
        if bad:
            raise BenchError(f"{tool}: sink received {bad[:3]} for a {file_size}-byte file (overhead {overhead})")
        return overhead

    @staticmethod
    def check_sink(tool, d, requests, body_bytes):
        if d.delta["requests"] != requests or d.delta["body_bytes"] != body_bytes:
            raise BenchError(f"{tool}: sink counted {d.delta['requests']} requests / {d.delta['body_bytes']} bytes, "
                             f"client reported {requests} / {body_bytes}")
        if d.delta["protocol_errors"]:
            raise BenchError(f"{tool}: sink saw {d.delta['protocol_errors']} protocol errors")

    # -- output
    def table(self, title, headers, rows, note=""):
        self.tables.append((title, md_table(headers, rows) + ("\n\n" + note if note else "")))

    def save(self):
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.results, f, indent=1)
        with open(os.path.join(self.out, "summary.md"), "w") as f:
            f.write("# livefour benchmark results\n\nGenerated by bench/run.sh; see docs/benchmarks.md.\n\n")
            m = self.results.get("machine", {})
            label = m.get("git") or self.a.label or subprocess.run(  # without the machine scenario
                ["git", "-C", self.root, "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
            f.write(f"Run of {self.results['config'].get('started', '?')}, livefour {label}, "
                    f"{self.a.rounds} rounds{' (quick)' if self.a.quick else ''}. Load average (1 min) before "
                    "each scenario: " + ", ".join(f"{k} {v['loadavg_before_after'][0][0]:.1f}"
                                                   for k, v in self.results["scenarios"].items()
                                                   if "loadavg_before_after" in v) + ".\n\n")
            for title, body in self.tables:
                f.write(f"## {title}\n\n{body}\n\n")
        with open(os.path.join(self.out, "run.log"), "w") as f:
            f.write("\n".join(self.log_lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description="livefour vs curl benchmarks")
    ap.add_argument("--bin", required=True, help="directory with livefour-bench and livefour-bench-sink")
    ap.add_argument("--out", required=True, help="results directory")
    ap.add_argument("--quick", action="store_true", help="short run: fewer rounds, no 1 GiB, no 1,000 in flight")
    ap.add_argument("--rounds", type=int, default=0, help="A/B rounds per comparison (default 5, quick 2)")
    ap.add_argument("--only", default="", help="comma-separated scenarios (default: all)")
    ap.add_argument("--label", default=os.environ.get("LIVEFOUR_BENCH_LABEL", ""),
                    help="what is measured, e.g. a commit (default: git describe of this tree)")
    a = ap.parse_args()
    if not a.rounds:
        a.rounds = 2 if a.quick else 5
    if not shutil.which("curl"):
        sys.exit("harness: curl is required")
    b = Bench(a)
    wanted = [s for s in a.only.split(",") if s] or list(scenarios.ALL)
    started = time.time()
    b.results["config"]["started"] = time.strftime("%Y-%m-%d %H:%M %Z")
    try:
        b.setup()
        for name in wanted:
            b.log(f"scenario {name} (load average {loadavg()})")
            la0 = loadavg()
            scenarios.ALL[name](b)
            b.results["scenarios"].setdefault(name, {})["loadavg_before_after"] = [la0, loadavg()]
        scenarios.targets(b)
        scenarios_faceid.targets(b)
    finally:
        b.results["config"]["elapsed_s"] = round(time.time() - started, 1)
        b.results["config"]["python"] = platform.python_version()
        b.save()
        b.teardown()
    b.log(f"done in {time.time() - started:.0f} s; results in {b.out}")


if __name__ == "__main__":
    main()
