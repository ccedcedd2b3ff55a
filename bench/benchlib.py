"""benchlib — the harness's plumbing: measured child processes, sinks, curl command files,
statistics and result files. The scenarios themselves are in harness.py."""
import csv
import json
import math
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

MiB = 1 << 20
# Payload files the harness generates (random bytes) under a temporary directory.
SIZES = {"1k": 1024, "1M": MiB, "3M": 3 * MiB, "6M": 6 * MiB, "100M": 100 * MiB, "1G": 1024 * MiB}
APPID = "1250000000"
FORM_FIELDS = [("appid", APPID), ("validate_data", "1234"), ("compare_flag", "false")]


class BenchError(Exception):
    """A run failed or did not deliver what it should have: the whole benchmark stops."""


# ---- measured processes ----------------------------------------------------------------------

class Run:
    """A finished child process: stdout, wall time, CPU (wait4) and peak RSS (GNU time)."""

    def __init__(self, cmd, stdout, stderr, wall, rc, ru, maxrss_kib):
        self.cmd, self.stdout, self.stderr, self.wall, self.rc = cmd, stdout, stderr, wall, rc
        self.cpu_user = ru.ru_utime
        self.cpu_sys = ru.ru_stime
        self.maxrss_kib = maxrss_kib

    @property
    def cpu(self):
        return self.cpu_user + self.cpu_sys

    def json(self):
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise BenchError(f"no JSON from {self.cmd[0]}: {self.stderr[-500:]}")


GNU_TIME = "/usr/bin/time"


def run_measured(cmd, timeout=600):
    """Runs cmd to completion, the same way for livefour-bench and for curl.

    CPU: wait4's rusage of the child (user + system, microsecond resolution; it includes the
    ~1 ms of GNU time's own start). Peak RSS: not from that rusage, because Linux counts into a
    process's ru_maxrss the memory it had before exec, i.e. a fork of this Python process (~45 MiB).
    GNU time forks the command from its own small image and reports the command's ru_maxrss (%M).
    """
    if not os.access(GNU_TIME, os.X_OK):
        raise BenchError("GNU time is required for peak RSS (apt-get install -y time)")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss:
        t0 = time.perf_counter()
        p = subprocess.Popen([GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *cmd], stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = rss.read().split()
        maxrss = int(text[-1]) if text and text[-1].isdigit() else None
        run = Run(cmd, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                  wall, p.returncode, ru, maxrss)
    if run.rc != 0:
        raise BenchError(f"{' '.join(map(str, cmd[:3]))} … exited {run.rc}: {run.stderr[-800:]}")
    return run


# ---- sinks -----------------------------------------------------------------------------------

class Sink:
    """A running sink (C++ or Python): one port for HTTP and HTTPS, GET /stats for counters."""

    def __init__(self, name, cmd):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on ([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise BenchError(f"sink {name} did not start: {line!r} {self.proc.stderr.read()[-500:]}")
        self.host, self.port = m.group(1), int(m.group(2))

    def url(self, scheme):
        return f"{scheme}://{self.host}:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.url("http") + "/stats", timeout=30) as r:
            return json.loads(r.read())

    def cpu(self):
        """User + system CPU seconds the sink has used so far (from /proc)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class SinkDelta:
    """What the sink counted during a block: `with SinkDelta(sink) as d: ...; d.delta`."""

    def __init__(self, sink):
        self.sink = sink

    def __enter__(self):
        self.before = self.sink.stats()
        self.cpu0 = self.sink.cpu()
        return self

    def __exit__(self, *exc):
        self.sink_cpu = self.sink.cpu() - self.cpu0
        after = self.sink.stats()
        self.delta = {k: after[k] - self.before[k] for k in after}
        # The GET /stats of __exit__ is counted in its own answer (request and connection).
        self.delta["requests"] -= 1
        self.delta["connections"] -= 1
        return False


# ---- curl ------------------------------------------------------------------------------------

def _q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


WRITE_OUT = r"\n@@ %{http_code} %{size_upload} %{time_total} %{time_connect} %{time_appconnect}\n"


def curl_config(path, transfers):
    """Writes a curl -K file: one block per transfer, separated by `next`. Each transfer is a dict
    with url, and optionally file (multipart upload), json (body), headers, extra options."""
    lines = []
    for i, t in enumerate(transfers):
        if i:
            lines.append("next")
        lines += ["silent", "show-error", f"url = {_q(t['url'])}", f"write-out = {_q(t.get('write_out', WRITE_OUT))}"]
        if t.get("cacert"):
            lines.append(f"cacert = {_q(t['cacert'])}")
        if t.get("output"):
            lines.append(f"output = {_q(t['output'])}")
        for h in t.get("headers", []):
            lines.append(f"header = {_q(h)}")
        for opt in t.get("options", []):
            lines.append(opt)
        if "file" in t:
            for k, v in FORM_FIELDS:
                lines.append(f"form = {_q(f'{k}={v}')}")
            lines.append(f"form = {_q('video=@' + t['file'] + ';type=video/mp4;filename=video.mp4')}")
        if "json" in t:
            lines.append(f"data = {_q(t['json'])}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def parse_curl_transfers(stdout):
    """Pairs each reply body with its write-out line: [{status, size_upload, total, connect,
    appconnect, received}] in transfer order."""
    out, last_body = [], None
    for line in stdout.splitlines():
        if line.startswith("{"):
            last_body = json.loads(line)
        elif line.startswith("@@ "):
            code, up, total, conn, app = line[3:].split()
            out.append({"status": int(code), "size_upload": int(up), "total": float(total),
                        "connect": float(conn), "appconnect": float(app),
                        "received": last_body.get("received") if last_body else None})
            last_body = None
    return out


# ---- statistics ------------------------------------------------------------------------------

def median(v):
    return statistics.median(v) if v else None


def percentile(v, q):
    """Nearest rank, as in loadgen.cpp."""
    if not v:
        return None
    s = sorted(v)
    rank = max(1, math.ceil(q * len(s)))
    return s[min(len(s), rank) - 1]


def spread(v):
    """median/min/max of a list (None-safe)."""
    v = [x for x in v if x is not None]
    if not v:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def fmt(x, digits=2):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |")
    return "\n".join(out)


def write_csv(path, headers, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if c is None else (f"{c:.6g}" if isinstance(c, float) else c) for c in r])


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]
