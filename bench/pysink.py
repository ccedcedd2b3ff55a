#!/usr/bin/env python3
"""pysink.py — the cross-check sink: the same contract as livefour-bench-sink, in Python's
standard library only (socketserver threads, ssl, a hand-written HTTP/1.1 reader).

It shares no code with the C++ sink. The harness runs a few scenarios against both: if a client's
figures (and above all its ratio to curl) hold against both sinks, the sink is not what is being
measured. It is much slower per byte than the C++ sink, so absolute numbers against it are lower.

Contract (see bench/sink.cpp): HTTP and HTTPS on one port (first byte 0x16 = TLS), keep-alive,
Content-Length and chunked bodies read and discarded, `100 Continue` for `Expect: 100-continue`,
a small JSON reply after the last body byte carrying "received" (the decoded body bytes),
targets under /close/ answered with `Connection: close`, and GET /stats with the counters.

    python3 pysink.py --cert server.pem --key server.key [--host 127.0.0.1] [--port 0]

Prints "listening on HOST:PORT" once ready; SIGTERM/SIGINT end it.
"""
import argparse
import json
import signal
import socket
import socketserver
import ssl
import sys
import threading

STATS = {"requests": 0, "body_bytes": 0, "connections": 0, "tls_handshakes": 0, "tls_resumed": 0,
         "continues": 0, "chunked": 0, "protocol_errors": 0}
LOCK = threading.Lock()
READ_SIZE = 1 << 20


def count(**deltas):
    with LOCK:
        for k, v in deltas.items():
            STATS[k] += v


class BadRequest(Exception):
    pass


def read_line(rf, limit=65536):
    line = rf.readline(limit + 1)
    if len(line) > limit:
        raise BadRequest("line too long")
    return line


def discard(rf, n, scratch):
    """Reads and drops exactly n bytes; returns how many arrived (fewer only at EOF)."""
    got = 0
    view = memoryview(scratch)
    while got < n:
        r = rf.readinto(view[:min(len(scratch), n - got)])
        if not r:
            break
        got += r
    return got


class Handler(socketserver.BaseRequestHandler):
    tls_context = None

    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count(connections=1)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first[0] == 0x16:
                if self.tls_context is None:
                    return
                sock = self.tls_context.wrap_socket(sock, server_side=True)
                count(tls_handshakes=1, tls_resumed=1 if sock.session_reused else 0)
            self.serve(sock)
        except (OSError, ssl.SSLError, BadRequest):
            pass

    def serve(self, sock):
        rf = sock.makefile("rb", buffering=READ_SIZE)
        scratch = bytearray(READ_SIZE)
        while True:
            request_line = read_line(rf)
            if not request_line:
                return
            parts = request_line.decode("latin-1").split()
            if len(parts) != 3:
                raise BadRequest("bad request line")
            method, target, version = parts
            headers = {}
            while True:
                line = read_line(rf)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            keep_alive = version == "HTTP/1.1"
            conn_hdr = headers.get("connection", "").lower()
            if "close" in conn_hdr or target.startswith("/close/"):
                keep_alive = False
            elif "keep-alive" in conn_hdr:
                keep_alive = True
            if headers.get("expect", "").lower() == "100-continue":
                count(continues=1)
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            received = 0
            if "chunked" in headers.get("transfer-encoding", "").lower():
                count(chunked=1)
                while True:
                    size_line = read_line(rf, 4096).split(b";")[0].strip()
                    size = int(size_line, 16)
                    if size == 0:
                        while read_line(rf, 4096) not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    got = discard(rf, size, scratch)
                    received += got
                    if got < size or rf.read(2) != b"\r\n":
                        raise BadRequest("truncated chunk")
            elif "content-length" in headers:
                length = int(headers["content-length"])
                received = discard(rf, length, scratch)
                if received < length:
                    return
            count(requests=1, body_bytes=received)
            if method == "GET" and target == "/stats":
                with LOCK:
                    body = json.dumps(STATS)
            elif target.endswith("/livegetfour"):
                body = json.dumps({"code": 0, "message": f"received={received}",
                                   "data": {"validate_data": "1234"}, "received": received})
            else:
                body = json.dumps({"code": 0, "message": f"received={received}",
                                   "data": {"live_status": 0, "live_msg": f"received={received}"},
                                   "received": received})
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n")
            if not keep_alive:
                head += "Connection: close\r\n"
            sock.sendall((head + "\r\n" + body).encode())
            if not keep_alive:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    if bool(a.cert) != bool(a.key):
        ap.error("--cert and --key go together")
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.cert, a.key)
        Handler.tls_context = ctx
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server((a.host, a.port), Handler) as srv:
        print(f"listening on {a.host}:{srv.server_address[1]}", flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
