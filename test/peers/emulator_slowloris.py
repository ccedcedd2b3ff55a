#!/usr/bin/env python3
"""Slowloris test of livefour-emulator: many slow clients at once, one legitimate client.

Opens 200 connections to an HTTPS emulator started with --idle-timeout 1 --request-timeout 2,
each trickling one byte every 100 ms so that it never trips the per-read stall limit:
   50 trickle a TLS ClientHello (the handshake never completes),
  100 complete the handshake and trickle a request header that never ends,
   50 send a complete header and trickle the body.
Checks that
  (a) the emulator closes every one of them within its documented limit (docs/emulator.md,
      "Connections and limits": a handshake or a header within --idle-timeout, a body within
      --request-timeout), not earlier than the limit either, and counts them in
      connections_closed_slow;
  (b) meanwhile a legitimate client (the livefour CLI if given, and curl) is served promptly;
  (c) afterwards the emulator's open descriptors are back at their baseline and its RSS near it.

usage: emulator_slowloris.py /path/to/livefour-emulator [/path/to/livefour-cli]
needs: python3 (standard library only), curl. Exits non-zero on any failure.
"""
import asyncio
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

IDLE_TIMEOUT = 1.0  # --idle-timeout (s): TLS handshake, request header, per-read stall
REQUEST_TIMEOUT = 2.0  # --request-timeout (s): the whole body
TRICKLE = 0.1  # one byte every TRICKLE seconds
KINDS = {"handshake": 50, "header": 100, "body": 50}
SLACK = 1.5  # scheduling slack on a loaded CI machine (s)
LEGIT_LIMIT = 1.5  # a legitimate request must complete within this (s)

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def client_hello(port):
    """The bytes of a real TLS ClientHello for 127.0.0.1 (made in memory, never sent whole)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


async def slow_client(kind, port, tls_ctx, hello, results):
    """Trickles until the emulator closes the connection; records how long that took."""
    start = time.monotonic()
    try:
        if kind == "handshake":
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = hello
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls_ctx,
                                                           server_hostname="127.0.0.1")
            start = time.monotonic()  # the limits run from the first request byte
            head = b"POST /face/livegetfour HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            if kind == "header":
                payload = head + b"X-Slow: " + b"a" * 10000
            else:
                payload = head + b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + \
                    b" " * 100000
                writer.write(payload[:len(payload) - 100000])  # the header at once
                payload = payload[len(payload) - 100000:]
    except OSError as e:
        results.append((kind, None, f"connect failed: {e}"))
        return

    async def trickle():
        for i in range(len(payload)):
            writer.write(payload[i:i + 1])
            await writer.drain()
            await asyncio.sleep(TRICKLE)

    async def wait_close():
        try:
            while await reader.read(4096):
                pass  # an answer is not expected; keep reading until the close
        except (OSError, ssl.SSLError):
            pass

    trickler = asyncio.ensure_future(trickle())
    closer = asyncio.ensure_future(wait_close())
    done, _ = await asyncio.wait({trickler, closer}, timeout=REQUEST_TIMEOUT + 10,
                                 return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.monotonic() - start
    if closer not in done:
        # The trickle failed (write to a closed socket) or ran out: wait briefly for the close.
        try:
            await asyncio.wait_for(closer, 2)
        except asyncio.TimeoutError:
            results.append((kind, None, "never closed"))
            trickler.cancel()
            writer.close()
            return
        elapsed = time.monotonic() - start
    trickler.cancel()
    try:
        await trickler
    except BaseException:
        pass
    writer.close()
    results.append((kind, elapsed, ""))


def legit_requests(port, ca, cli):
    """One request of each legitimate client; returns [(name, seconds, ok)]."""
    out = []
    t = time.monotonic()
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", ca,
                        f"https://127.0.0.1:{port}/_emulator/stats"], capture_output=True, text=True)
    out.append(("curl stats", time.monotonic() - t, r.returncode == 0 and '"requests"' in r.stdout))
    if cli:
        env = dict(os.environ, LIVEFOUR_APPID="1250000000", LIVEFOUR_SECRET_ID="AKIDEXAMPLE",
                   LIVEFOUR_SECRET_KEY="SECRETKEYEXAMPLE")
        t = time.monotonic()
        r = subprocess.run([cli, "digits", "--endpoint", f"https://127.0.0.1:{port}", "--ca-file", ca,
                            "--max-attempts", "1", "--deadline", "10"],
                           capture_output=True, text=True, env=env)
        out.append(("livefour digits", time.monotonic() - t, r.returncode == 0))
    return out


async def attack(port, ca, cli):
    tls_ctx = ssl.create_default_context(cafile=ca)
    hello = client_hello(port)
    results = []
    tasks = [asyncio.ensure_future(slow_client(kind, port, tls_ctx, hello, results))
             for kind, n in KINDS.items() for _ in range(n)]
    legit = []
    loop = asyncio.get_running_loop()
    for _ in range(2):  # at about 0.5 s and 1 s: every slow connection is open and trickling
        await asyncio.sleep(0.5)
        legit += await loop.run_in_executor(None, legit_requests, port, ca, cli)
    await asyncio.gather(*tasks)
    return results, legit


def main():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print(__doc__, file=sys.stderr)
        return 2
    emulator = sys.argv[1]
    cli = sys.argv[2] if len(sys.argv) > 2 and os.access(sys.argv[2], os.X_OK) else None
    work = tempfile.mkdtemp(prefix="livefour-slowloris-")
    ca = os.path.join(work, "ca.pem")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEFOUR_")}
    proc = subprocess.Popen([emulator, "--quiet", "--write-ca", ca, "--idle-timeout", str(int(IDLE_TIMEOUT)),
                             "--request-timeout", str(int(REQUEST_TIMEOUT))],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+) \(https\)", line)
        if not m:
            print(f"FAIL emulator did not announce itself: [{line.strip()}]")
            return 1
        port = int(m.group(1))

        legit_requests(port, ca, cli)  # warm up: what serving a request allocates once
        base_fds, base_rss = open_fds(proc.pid), proc_status_kib(proc.pid, "VmRSS")
        start = time.monotonic()
        results, legit = asyncio.run(attack(port, ca, cli))
        took = time.monotonic() - start
        peak_rss = proc_status_kib(proc.pid, "VmHWM")

        # (a) every slow connection closed within its limit, and not before it
        limit = {"handshake": IDLE_TIMEOUT, "header": IDLE_TIMEOUT, "body": REQUEST_TIMEOUT}
        for kind in KINDS:
            times = [t for k, t, _ in results if k == kind and t is not None]
            errors = [e for k, t, e in results if k == kind and t is None]
            check(f"{kind}: all {KINDS[kind]} slow connections closed", len(times) == KINDS[kind],
                  f"{len(times)} closed; {errors[:3]}")
            if times:
                lo, hi = min(times), max(times)
                print(f"     {kind}: closed after {lo:.2f}..{hi:.2f} s (limit {limit[kind]:.0f} s)")
                check(f"{kind}: closed within the limit + {SLACK} s", hi <= limit[kind] + SLACK, f"max {hi:.2f} s")
                check(f"{kind}: not closed before the limit", lo >= limit[kind] * 0.8, f"min {lo:.2f} s")

        # (b) legitimate clients served promptly meanwhile
        for name, secs, ok in legit:
            print(f"     {name}: {secs:.3f} s")
            check(f"{name} served during the attack", ok)
            check(f"{name} within {LEGIT_LIMIT} s", secs <= LEGIT_LIMIT, f"{secs:.2f} s")

        # (c) back to the baseline
        time.sleep(0.3)
        fds, rss = open_fds(proc.pid), proc_status_kib(proc.pid, "VmRSS")
        print(f"     fds {base_fds} -> {fds}; RSS {base_rss} KiB -> peak {peak_rss} KiB -> {rss} KiB; "
              f"attack took {took:.1f} s")
        check("open descriptors back at the baseline", fds <= base_fds, f"{base_fds} -> {fds}")
        check("RSS back near the baseline (+16 MiB)", rss - base_rss <= 16 * 1024, f"{base_rss} -> {rss} KiB")
        r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", ca,
                            f"https://127.0.0.1:{port}/_emulator/stats"], capture_output=True, text=True)
        stats = json.loads(r.stdout)
        check("connections_closed_slow counts every slow connection",
              stats.get("connections_closed_slow") == sum(KINDS.values()), str(stats.get("connections_closed_slow")))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
