#!/usr/bin/env python3
"""The Prometheus example (examples/prometheus.cpp) against the emulator, with retries.

Starts livefour-emulator with faults that make livefour retry, runs livefour-example-prometheus
against it, scrapes its /metrics with curl and checks
  (a) the exposition with `promtool check metrics`: exit 0 and no lint message (names, suffixes,
      units, HELP texts);
  (b) its content: livefour_attempts_total equals the emulator's count of requests, the retries
      show in livefour_retries_total and the attempts' outcome and decision labels, the
      histograms have as many samples as there were attempts (or connections), every reply is in
      livefour_http_responses_total, the bytes sent cover the uploads;
  (c) that these checks can fail: the same exposition doctored (a counter without `_total`, a
      histogram in milliseconds, the retry series removed, one attempt fewer) must be refused.
Two runs: the legacy API (code 15 twice, each retried) and API 3.0 faceid (RequestLimitExceeded
three times in a row: the operation gives up, "attempts_used_up").

usage: prometheus_test.py --emulator PATH --example PATH [--promtool PATH]
needs: python3 (standard library), curl, promtool (Debian: prometheus). Exits 77 (skipped) when
promtool is missing, non-zero on any failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(name)
    return ok


class Lines:
    """The lines a process prints on stdout, collected by a thread (a pipe read never blocks us)."""

    def __init__(self, proc):
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, pipe):
        for line in pipe:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait(self, pattern, timeout):
        """The first line matching pattern, as a match; None after timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(self.lines)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--fail-with-body", "--max-time", "10", *args],
                          capture_output=True, text=True, check=True).stdout


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Samples of a text exposition: [(name, {label: value}, float)]."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"unparsable sample line: {line!r}")
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def total(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items()))


def promtool_problems(promtool, text):
    """promtool's complaints about an exposition, [] when it accepts it without a lint message."""
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    said = (r.stdout + r.stderr).strip()
    if r.returncode != 0 or said:
        return [f"promtool exit {r.returncode}: {said}"]
    return []


HISTOGRAMS = ["livefour_attempt_duration_seconds", "livefour_attempt_pool_wait_seconds",
              "livefour_attempt_resolve_seconds", "livefour_attempt_connect_seconds",
              "livefour_attempt_tls_handshake_seconds", "livefour_attempt_first_byte_seconds"]


def content_problems(text, expect):
    """What is wrong with the exposition given what the run must have done; [] when it is right.

    expect: requests (the emulator's count), retries {(operation, reason): n} with decision retry,
    failed {(operation, outcome, reason): n}, min_bytes."""
    problems = []
    try:
        s = parse(text)
    except ValueError as e:
        return [str(e)]

    def want(what, got, exp):
        if got != exp:
            problems.append(f"{what}: {got:g}, expected {exp:g}")

    attempts = total(s, "livefour_attempts_total")
    want("livefour_attempts_total (all series) against the emulator's requests", attempts, expect["requests"])
    for (op, reason), n in expect["retries"].items():
        which = {"operation": op} if op else {}  # None: any operation
        want(f'livefour_retries_total{{operation="{op or "*"}",decision="retry",reason="{reason}"}}',
             total(s, "livefour_retries_total", decision="retry", reason=reason, **which), n)
        want(f'livefour_attempts_total{{operation="{op or "*"}",outcome="{reason}",decision="retry"}}',
             total(s, "livefour_attempts_total", outcome=reason, decision="retry", **which), n)
    want("livefour_retries_total (all series)", total(s, "livefour_retries_total"), sum(expect["retries"].values()))
    for (op, outcome, reason), n in expect["failed"].items():
        want(f'livefour_operations_failed_total{{operation="{op}",outcome="{outcome}",reason="{reason}"}}',
             total(s, "livefour_operations_failed_total", operation=op, outcome=outcome, reason=reason), n)
    want("livefour_operations_failed_total (all series)", total(s, "livefour_operations_failed_total"),
         sum(expect["failed"].values()))
    done = total(s, "livefour_attempts_total", decision="done")
    want("attempts with decision done against operations", done, expect["operations"])
    if total(s, "livefour_retry_backoff_seconds_total") <= 0 and expect["retries"]:
        problems.append("livefour_retry_backoff_seconds_total: no backoff for the retries")

    # Every attempt got a reply from the emulator (faults answer with codes, not cuts).
    want('livefour_http_responses_total{code="200"}', total(s, "livefour_http_responses_total", code="200"), attempts)
    for h in ["livefour_attempt_duration_seconds", "livefour_attempt_pool_wait_seconds",
              "livefour_attempt_first_byte_seconds"]:
        want(f"{h}_count", total(s, h + "_count"), attempts)
        inf = total(s, h + "_bucket", le="+Inf")
        want(f'{h}_bucket{{le="+Inf"}}', inf, attempts)
    if total(s, "livefour_attempt_duration_seconds_sum") <= 0:
        problems.append("livefour_attempt_duration_seconds_sum is 0")
    new = total(s, "livefour_attempt_connections_total", connection="new") + \
        total(s, "livefour_attempt_connections_total", connection="new_resumed")
    reused = total(s, "livefour_attempt_connections_total", connection="reused")
    want("livefour_attempt_connections_total new + new_resumed + reused", new + reused, attempts)
    if new < 1:
        problems.append("no new connection counted")
    for h in ["livefour_attempt_resolve_seconds", "livefour_attempt_connect_seconds",
              "livefour_attempt_tls_handshake_seconds"]:
        want(f"{h}_count against new connections", total(s, h + "_count"), new)
    if total(s, "livefour_attempt_connect_seconds_sum") <= 0:
        problems.append("livefour_attempt_connect_seconds_sum is 0")
    sent = total(s, "livefour_sent_bytes_total")
    if sent < expect["min_bytes"]:
        problems.append(f"livefour_sent_bytes_total {sent:g} < {expect['min_bytes']}")

    # Bounded labels: every outcome is from the closed vocabulary.
    allowed = re.compile(r"^(ok|-?[0-9]+|[A-Z][A-Za-z0-9.]*|api_unknown|faceid_unknown|auth|rate_limit|"
                         r"bad_request|server|verdict|identity|transport|other)$")
    for n, l, _ in s:
        for key in ("outcome", "reason"):
            if key in l and n != "livefour_operations_failed_total" and not allowed.match(l[key]):
                problems.append(f"{n}: label {key}={l[key]!r} outside the closed set")
    # HELP and TYPE for every family (promtool says so too; this keeps the check independent).
    for fam in ["livefour_attempts_total", "livefour_sent_bytes_total", "livefour_http_responses_total",
                "livefour_attempt_connections_total", "livefour_retry_backoff_seconds_total", *HISTOGRAMS,
                *(["livefour_retries_total"] if expect["retries"] else []),
                *(["livefour_operations_failed_total"] if expect["failed"] else [])]:
        if not re.search(rf"^# HELP {fam} \S", text, re.M):
            problems.append(f"{fam}: no HELP")
        if not re.search(rf"^# TYPE {fam} (counter|histogram)$", text, re.M):
            problems.append(f"{fam}: no TYPE")
    # Nothing of the credentials, nothing of the headers (the events' headers are not exported).
    for secret in ("SECRETKEYEXAMPLE", "Authorization", "X-TC-"):
        if secret in text:
            problems.append(f"the exposition contains {secret!r}")
    return problems


def selftest(promtool, text, expect):
    """The checks must refuse a broken exposition: each doctored copy must be refused."""
    doctored = {
        "a counter without _total": (text.replace("livefour_sent_bytes_total", "livefour_sent_bytes"), "promtool"),
        "a histogram in milliseconds": (text.replace("livefour_attempt_connect_seconds",
                                                     "livefour_attempt_connect_milliseconds"), "promtool"),
        "no HELP text": (re.sub(r"^# HELP livefour_retries_total .*$", "# HELP livefour_retries_total ", text,
                                flags=re.M), "promtool"),
        "the retry series removed": ("\n".join(line for line in text.splitlines()
                                               if not line.startswith("livefour_retries_total{")) + "\n", "content"),
        "one attempt fewer": (re.sub(r'^(livefour_attempts_total\{[^}]*decision="done"[^}]*\}) (\d+)',
                                     lambda m: f"{m.group(1)} {int(float(m.group(2))) - 1}", text, count=1,
                                     flags=re.M), "content"),
    }
    for what, (bad, checker) in doctored.items():
        if bad == text:
            check(f"self-test: {what}: the doctoring changed nothing", False)
            continue
        refused = promtool_problems(promtool, bad) if checker == "promtool" else content_problems(bad, expect)
        check(f"self-test: {what} is refused ({checker})", bool(refused))


def run(args, env, common, extra, expect_status, name):
    """Runs the example, waits for its workload, scrapes /metrics, stops it; the exposition or None."""
    proc = subprocess.Popen([args.example, *common, *extra, "--metrics-port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Lines(proc)
    try:
        m = out.wait(r"^metrics listening on ([^ ]+):(\d+)$", 15)
        if not check(f"{name}: the metrics endpoint is up", m is not None, out.text()):
            return None
        url = f"http://127.0.0.1:{m.group(2)}/metrics"
        done = out.wait(r"^workload done: ", 90)
        check(f"{name}: the workload ended", done is not None, out.text())
        text = curl(url)
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=15)
        err = proc.stderr.read()
        check(f"{name}: exit status {expect_status} after SIGTERM", status == expect_status,
              f"got {status}; stdout: {out.text()} stderr: {err}")
        print(f"{name}: {out.text().splitlines()[-1]}")
        return text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    args = ap.parse_args()
    if not args.promtool:
        print("skipped: promtool not found (Debian: apt-get install prometheus; scripts/setup.sh does it)")
        return 77

    work = tempfile.mkdtemp(prefix="livefour-prom-")
    env = dict(os.environ, LIVEFOUR_APPID="1250000000", LIVEFOUR_SECRET_ID="AKIDEXAMPLE",
               LIVEFOUR_SECRET_KEY="SECRETKEYEXAMPLE")
    video = os.path.join(work, "selfie.mp4")
    with open(video, "wb") as f:  # the emulator checks the container's magic bytes
        f.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(100_000))
    image = os.path.join(work, "face.jpg")
    with open(image, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(5_000))
    ca = os.path.join(work, "ca.pem")

    emu = subprocess.Popen([args.emulator, "--port", "0", "--write-ca", ca, "--quiet",
                            "--fault", '{"fault":"code","code":15,"count":2}'],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        m = Lines(emu).wait(r"listening on [^ ]*:(\d+)", 15)
        if not check("the emulator started", m is not None):
            return 1
        base = f"https://127.0.0.1:{m.group(1)}"
        common = ["--endpoint", base, "--ca-file", ca, "--video", video]

        def stats():
            return json.loads(curl("--cacert", ca, f"{base}/_emulator/stats"))

        # 1. Legacy: 8 verifications, 4 at a time on 2 threads. The first two API requests,
        # whichever operation they belong to, are refused with code 15 and retried after a
        # backoff; every operation then succeeds (3 attempts each at most).
        text = run(args, env, common, ["--count", "8", "--concurrency", "4", "--threads", "2"], 0, "legacy")
        if text is None:
            return 1
        st = stats()
        # Which operations the two refusals hit depends on timing; that there were two does not.
        expect = {"requests": st["requests"], "operations": 16, "retries": {(None, "15"): 2}, "failed": {},
                  "min_bytes": 8 * 100_000}
        check("legacy: the emulator answered code 15 twice", st["codes"].get("15") == 2, json.dumps(st["codes"]))
        check("legacy: 18 requests (16 operations, 2 retries)", st["requests"] == 18, str(st["requests"]))
        p = promtool_problems(args.promtool, text)
        check("legacy: promtool check metrics accepts the exposition", not p, "; ".join(p))
        p = content_problems(text, expect)
        check("legacy: the exposition matches the run", not p, "; ".join(p))
        selftest(args.promtool, text, expect)

        # 2. API 3.0: one verification at a time. GetLiveCode is refused three times in a row:
        # the first verification gives up (attempts used up, exit 3), the second succeeds.
        curl("--cacert", ca, "-X", "POST", f"{base}/_emulator/reset")
        curl("--cacert", ca, "-X", "POST", "-d",
             '{"fault":"code","error":"RequestLimitExceeded","count":3,"path":"/"}', f"{base}/_emulator/faults")
        text = run(args, env, common, ["--api", "faceid", "--image", image, "--count", "2", "--concurrency", "1"], 3,
                   "faceid")
        if text is None:
            return 1
        st = stats()
        expect = {"requests": st["requests"], "operations": 3,
                  "retries": {("GetLiveCode", "RequestLimitExceeded"): 2},
                  "failed": {("GetLiveCode", "RequestLimitExceeded", "attempts_used_up"): 1},
                  "min_bytes": 100_000}
        check("faceid: 5 requests (3 refused GetLiveCode, then GetLiveCode and LivenessCompare)",
              st["requests"] == 5, str(st["requests"]))
        p = promtool_problems(args.promtool, text)
        check("faceid: promtool check metrics accepts the exposition", not p, "; ".join(p))
        p = content_problems(text, expect)
        check("faceid: the exposition matches the run", not p, "; ".join(p))
    finally:
        emu.send_signal(signal.SIGTERM)
        try:
            emu.wait(timeout=15)
        except subprocess.TimeoutExpired:
            emu.kill()
        shutil.rmtree(work, ignore_errors=True)

    if failures:
        print(f"examples-prometheus: {len(failures)} check(s) failed")
        return 1
    print("examples-prometheus: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
