#!/usr/bin/env python3
"""Independent test peer for the legacy lip-reading liveness API (spec: shared/spec/api.md).

Written in Python with the standard library only, so that a misunderstanding shared by our C++
client and our C++ emulator cannot pass: signatures are checked with hmac/hashlib/base64, chunked
bodies are decoded here, multipart bodies are parsed by the `email` package and cross-checked by
a strict byte-level split (those checks live in peer_checks.py). Every request leaves a JSON
report (NNNN.json) in --report-dir, written *before* the response is sent, so a client that has
its answer can read the report at once.
See README.md next to this file for the flags and the report format.
"""
import argparse
import base64
import contextlib
import hashlib
import http.server
import itertools
import json
import mmap
import os
import re
import secrets
import signal
import ssl
import sys
import tempfile
import threading
import time
import traceback

from peer_checks import parse_multipart, verify_signature

SLICE = 1 << 20  # read and feed bodies in 1 MiB pieces
FAKE_PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xd9"  # a few JPEG-looking bytes


class BadRequest(Exception):
    """Framing error after which the connection cannot be trusted: reply 400 and close."""


class Config:
    """Parsed command line, shared read-only by the handler threads."""

    def __init__(self, args):
        self.__dict__.update(vars(args))
        self.clock_check = not args.no_clock_check


class PeerServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.report_no = itertools.count(1)
        self.connection_no = itertools.count(1)
        self.issued_digits = set()
        super().__init__((cfg.host, cfg.port), Handler)
        if cfg.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
            ctx.set_alpn_protocols(["http/1.1"])
            ctx.sni_callback = lambda sock, name, _ctx: setattr(sock, "peer_sni", name)
            # Handshakes run in the connection's thread (Handler.setup), not in accept().
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        if self.cfg.verbose:
            print(f"peer: connection from {client_address}: {sys.exc_info()[1]!r}", file=sys.stderr, flush=True)

    def write_report(self, report):
        if not self.cfg.report_dir:
            return
        with self.lock:
            number = next(self.report_no)
        report["seq"] = number
        path = os.path.join(self.cfg.report_dir, f"{number:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
        os.replace(path + ".tmp", path)  # readers never see half a report


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "livefour-python-peer/1"

    def setup(self):
        self.timeout = self.server.cfg.idle_timeout
        self.connection_id = next(self.server.connection_no)
        self.requests_on_connection = 0
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            super().log_message(fmt, *args)

    def handle_expect_100(self):
        self.expect_100_sent = True
        return super().handle_expect_100()

    def do_POST(self):
        self.handle_request()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    # -- request handling ------------------------------------------------------------------

    def handle_request(self):
        self.requests_on_connection += 1
        report = self.base_report()
        with tempfile.TemporaryFile() as body:
            try:
                report.update(self.read_body(body))
            except BadRequest as err:
                report.update(body_complete=False, body_error=str(err), body_size=body.tell())
                return self.finish_request(report, 400, 3, f"bad request: {err}", close=True)
            except (OSError, EOFError) as err:  # client went away mid-body: report what came
                report.update(body_complete=False, body_error=f"{type(err).__name__}: {err}",
                              body_size=body.tell())
                self.close_connection = True
                return self.server.write_report(report)
            report["body_complete"] = True
            size = report["body_size"]
            body.flush()
            self.responded = False
            try:
                with (mmap.mmap(body.fileno(), size, access=mmap.ACCESS_READ) if size else
                      contextlib.nullcontext(b"")) as view:
                    report["body_sha256"] = hashlib.sha256(view).hexdigest()
                    self.dispatch(report, view, size)
            except Exception:  # a bug in this peer must not look like a network failure
                if self.responded:
                    raise
                traceback.print_exc(file=sys.stderr)
                report["peer_internal_error"] = traceback.format_exc()
                self.finish_request(report, 500, 213, "internal error in python_peer", close=True)

    def base_report(self):
        redact = lambda k, v: "[redacted]" if k.lower() == "authorization" else v
        tls = None
        if isinstance(self.request, ssl.SSLSocket):
            tls = {"version": self.request.version(), "cipher": self.request.cipher()[0],
                   "alpn": self.request.selected_alpn_protocol(),
                   "sni": getattr(self.request, "peer_sni", None)}
        headers = {}
        for k, v in self.headers.items():
            key = k.lower()
            headers[key] = headers[key] + ", " + redact(k, v) if key in headers else redact(k, v)
        return {
            "method": self.command, "path": self.path, "http_version": self.request_version,
            "connection": {"id": self.connection_id, "request_index": self.requests_on_connection,
                           "client_port": self.client_address[1]},
            "tls": tls,
            "headers": headers,
            "header_lines": [[k, redact(k, v)] for k, v in self.headers.items()],
            "content_length": self.headers.get("Content-Length"),
            "transfer_encoding": self.headers.get("Transfer-Encoding"),
            "expect_100_continue_sent": self.__dict__.pop("expect_100_sent", False),
        }

    def read_body(self, sink):
        """Copy the request body into `sink`, honouring Content-Length or chunked (RFC 9112)."""
        lengths = self.headers.get_all("Content-Length") or []
        codings = self.headers.get_all("Transfer-Encoding") or []
        if lengths and codings:
            raise BadRequest("both Content-Length and Transfer-Encoding")
        if codings:
            if len(codings) != 1 or codings[0].strip().lower() != "chunked":
                raise BadRequest(f"unsupported Transfer-Encoding {codings!r}")
            return self.read_chunked(sink)
        if len(lengths) > 1:
            raise BadRequest("several Content-Length headers")
        if lengths and not re.match(r"[0-9]+\Z", lengths[0]):
            raise BadRequest(f"invalid Content-Length {lengths[0]!r}")
        remaining = int(lengths[0]) if lengths else 0
        while remaining:
            data = self.rfile.read(min(remaining, SLICE))
            if not data:
                raise EOFError(f"connection closed with {remaining} body bytes missing")
            sink.write(data)
            remaining -= len(data)
        return {"body_size": sink.tell()}

    def read_line(self):
        line = self.rfile.readline(65537)
        if not line:
            raise EOFError("connection closed inside chunked body")
        if not line.endswith(b"\r\n"):
            raise BadRequest("chunked framing line not terminated by CRLF (or too long)")
        return line[:-2]

    def read_chunked(self, sink):
        sizes = []
        while True:
            line = self.read_line()
            match = re.match(rb"([0-9A-Fa-f]{1,16})[ \t]*(;.*)?\Z", line)
            if not match:
                raise BadRequest(f"invalid chunk-size line {line[:40]!r}")
            size = int(match.group(1), 16)
            if size == 0:
                break
            sizes.append(size)
            remaining = size
            while remaining:
                data = self.rfile.read(min(remaining, SLICE))
                if not data:
                    raise EOFError("connection closed inside a chunk")
                sink.write(data)
                remaining -= len(data)
            if self.rfile.read(2) != b"\r\n":
                raise BadRequest("chunk data not followed by CRLF")
        trailers = []
        while line := self.read_line():
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not re.match(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z", name):
                raise BadRequest(f"invalid trailer line {line[:40]!r}")
            trailers.append([name, value.strip()])
        return {"body_size": sink.tell(), "chunked": {
            "chunk_count": len(sizes), "min_chunk": min(sizes, default=0),
            "max_chunk": max(sizes, default=0), "trailers": trailers}}

    def dispatch(self, report, view, size):
        cfg = self.server.cfg
        values = [v.strip(" \t") for v in self.headers.get_all("Authorization") or []]
        code, message, fields = verify_signature(values, cfg, time.time())
        report["signature_ok"] = code == 0
        report["signature"] = {"code": code, "message": message, **(fields or {})}
        routes = {"/face/livegetfour": self.live_get_four,
                  "/face/livedetectfour": self.live_detect_four,
                  "/face/idcardlivedetectfour": self.id_card_live_detect_four}
        if self.path not in routes:
            return self.finish_request(report, 404, 3, f"no such API {self.path}")
        if self.command != "POST":
            return self.finish_request(report, 405, 3, "only POST is allowed")
        if "Host" not in self.headers:
            return self.finish_request(report, 400, 3, "Host header missing")
        routes[self.path](report, view, size, code, message)

    def live_get_four(self, report, view, size, sig_code, sig_message):
        problems = report["problems"] = []
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            problems.append(f"Content-Type {ctype!r} is not application/json")
        try:
            doc = report["json"] = json.loads(bytes(view).decode("utf-8"))
        except ValueError as err:
            problems.append(f"body is not JSON: {err}")
            doc = {}
        if not isinstance(doc, dict) or not isinstance(doc.get("appid"), str):
            problems.append("appid missing or not a string")
        elif doc["appid"] != self.server.cfg.appid:
            problems.append("appid differs from the configured appid")
        if sig_code:
            return self.finish_request(report, self.server.cfg.error_status, sig_code, sig_message)
        if problems:
            return self.finish_request(report, self.server.cfg.error_status, 21, "; ".join(problems))
        digits = self.server.cfg.digits or f"{secrets.randbelow(10000):04d}"
        with self.server.lock:
            self.server.issued_digits.add(digits)
        self.finish_request(report, 200, 0, "OK", {"validate_data": digits})

    def detect_common(self, report, view, size, required_text, files):
        """Parse the multipart body; return (problems, values by name, parts by name)."""
        multipart = parse_multipart(view, size, self.headers.get("Content-Type") or "",
                                    self.server.cfg.email_limit)
        report["parts"] = multipart.pop("parts")
        report["multipart"] = multipart
        problems = report["problems"] = list(multipart["framing_errors"])
        by_name = {}
        for part in report["parts"]:
            if part["disposition"] != "form-data" or part["name"] is None:
                problems.append("a part lacks Content-Disposition: form-data with a name")
            elif part["name"] in by_name:
                problems.append(f"part {part['name']!r} appears twice")
            by_name.setdefault(part["name"], part)
        values = {name: p.get("value") for name, p in by_name.items()}
        for name in required_text:
            if name not in by_name:
                problems.append(f"part {name!r} missing")
            elif by_name[name]["filename"] is not None:
                problems.append(f"part {name!r} should be a plain field, not a file")
        for name in files:
            if name in by_name and by_name[name]["filename"] is None:
                problems.append(f"part {name!r} is not a file (no filename)")
        if "appid" in values and values["appid"] != self.server.cfg.appid:
            problems.append("appid part differs from the configured appid")
        if not re.match(r"[0-9]+\Z", values.get("validate_data") or ""):
            problems.append("validate_data is not digits")
        report["validate_data_issued"] = values.get("validate_data") in self.server.issued_digits
        return problems, values, by_name

    def live_detect_four(self, report, view, size, sig_code, sig_message):
        problems, values, by_name = self.detect_common(
            report, view, size, ("appid", "validate_data", "compare_flag"), ("video", "card"))
        compare = values.get("compare_flag")
        if "compare_flag" in values and compare not in ("true", "false"):
            problems.append("compare_flag is neither 'true' nor 'false'")
        if "video" not in by_name:
            problems.append("part 'video' missing")
        if compare == "true" and "card" not in by_name:
            problems.append("compare_flag is true but part 'card' is missing")
        data = {"live_status": 0, "live_msg": "LIVE"}
        if compare == "true":
            data.update(compare_status=0, compare_msg="OK", sim=88,
                        photo=base64.b64encode(FAKE_PHOTO).decode("ascii"))
        self.detect_reply(report, problems, sig_code, sig_message, data)

    def id_card_live_detect_four(self, report, view, size, sig_code, sig_message):
        problems, values, by_name = self.detect_common(
            report, view, size, ("appid", "validate_data", "idcard_number", "idcard_name"), ("video",))
        if "video" not in by_name:
            problems.append("part 'video' missing")
        data = {"live_status": 0, "live_msg": "LIVE", "compare_status": 0, "compare_msg": "OK",
                "sim": 88, "video_photo": base64.b64encode(FAKE_PHOTO).decode("ascii")}
        self.detect_reply(report, problems, sig_code, sig_message, data)

    def detect_reply(self, report, problems, sig_code, sig_message, data):
        if sig_code:
            return self.finish_request(report, self.server.cfg.error_status, sig_code, sig_message)
        if problems:
            return self.finish_request(report, self.server.cfg.error_status, 21, "; ".join(problems))
        self.finish_request(report, 200, 0, "OK", data)

    def finish_request(self, report, status, code, message, data=None, close=False):
        """Write the report, then send the JSON envelope."""
        reply = {"code": code, "message": message}
        if data is not None:
            reply["data"] = data
        close = close or self.close_connection or self.server.cfg.connection_close
        report["response"] = {"status": status, "body": reply, "connection_close": close}
        self.server.write_report(report)
        self.responded = True
        payload = json.dumps(reply).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close" if close else "keep-alive")
        self.end_headers()
        self.wfile.write(payload)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tls-cert", help="PEM certificate chain; TLS when given")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--report-dir", help="one NNNN.json per request (created if missing)")
    p.add_argument("--appid", default="1250000000")
    p.add_argument("--secret-id", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default="SECRETKEYEXAMPLE")
    p.add_argument("--bucket", default="", help="expected b= field of the signature")
    p.add_argument("--no-clock-check", action="store_true",
                   help="do not compare e/t with the current time (clients with a fake clock)")
    p.add_argument("--clock-skew", type=int, default=60, help="seconds t may be ahead of now")
    p.add_argument("--digits", help="fixed validate_data for livegetfour (default random)")
    p.add_argument("--error-status", type=int, default=400, help="HTTP status of API errors")
    p.add_argument("--connection-close", action="store_true", help="close after every response")
    p.add_argument("--idle-timeout", type=float, default=30.0, help="socket timeout, seconds")
    p.add_argument("--email-limit", type=int, default=80 << 20,
                   help="bodies above this many bytes skip the email parser (raw split only)")
    p.add_argument("--lifetime", type=float, default=0, help="exit after this many seconds (0: never)")
    p.add_argument("--verbose", action="store_true", help="log requests and errors to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.digits is not None and not re.match(r"[0-9]+\Z", args.digits):
        p.error("--digits must be decimal digits")
    return args


def main(argv):
    cfg = Config(parse_args(argv))
    if cfg.report_dir:
        os.makedirs(cfg.report_dir, exist_ok=True)
    server = PeerServer(cfg)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    deadline = time.monotonic() + cfg.lifetime if cfg.lifetime > 0 else None
    while not stop.wait(0.2):
        if deadline is not None and time.monotonic() >= deadline:
            break
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
