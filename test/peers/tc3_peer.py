#!/usr/bin/env python3
"""Independent test peer for Tencent Cloud API 3.0 `faceid` (TC3-HMAC-SHA256, JSON bodies).

Standard library only, and none of livefour's code: the signature is recomputed here with
hmac/hashlib from api3.md §1.1, bodies are parsed with `json` and the media fields decoded with
`base64` (strict RFC 4648, padded), so a misunderstanding shared by livefour's signer and its
emulator cannot pass. Every API request is recorded (action, signature verdict, decoded sizes and
SHA-256 of VideoBase64/ImageBase64, the other fields) before its reply is sent: in the --record
file (JSON lines) and at GET /_peer/requests. See README.md next to this file.
"""
import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http.server
import itertools
import json
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import uuid

ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
ACTIONS = ("GetLiveCode", "GetActionSequence", "LivenessCompare", "LivenessRecognition")
AUTH_RE = re.compile(r"TC3-HMAC-SHA256 Credential=([^/, ]+)/(\d{4}-\d{2}-\d{2})/([^/, ]+)/tc3_request, "
                     r"SignedHeaders=([a-z0-9;.-]+), Signature=([0-9a-f]{64})\Z")
TINY_JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9").decode()


class Reject(Exception):
    """An API error: answered as {"Response":{"Error":{...}}} with HTTP 200."""

    def __init__(self, code, message):
        super().__init__(code)
        self.code, self.message = code, message


class BadFraming(Exception):
    """The HTTP body cannot be read reliably: 400 and close."""


def utc_date(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")


def hmac256(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key, date, service, string_to_sign):
    k = hmac256(("TC3" + secret_key).encode("utf-8"), date)
    k = hmac256(k, service)
    k = hmac256(k, "tc3_request")
    return hmac.new(k, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def strict_b64(text, field):
    """Decode RFC 4648 §4 base64 with padding; reject whitespace, URL-safe alphabet, non-canonical bits."""
    if not isinstance(text, str):
        raise Reject("InvalidParameterValue", f"{field} must be a string")
    if text == "":
        raise Reject("InvalidParameterValue", f"{field} is empty")
    if len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise Reject("InvalidParameterValue", f"{field} is not padded standard base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as err:
        raise Reject("InvalidParameterValue", f"{field}: {err}") from None
    if base64.b64encode(data).decode("ascii") != text:  # unused bits must be zero
        raise Reject("InvalidParameterValue", f"{field} is not canonical base64")
    return data


class PeerServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.seq = itertools.count(1)
        self.records = []
        self.live_codes = set()
        super().__init__((cfg.host, cfg.port), Handler)
        if cfg.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
            ctx.set_alpn_protocols(["http/1.1"])
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        if self.cfg.verbose:
            print(f"tc3_peer: connection from {client_address}: {sys.exc_info()[1]!r}", file=sys.stderr, flush=True)

    def record(self, entry):
        with self.lock:
            entry["seq"] = next(self.seq)
            self.records.append(entry)
            if self.cfg.record:
                with open(self.cfg.record, "a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "livefour-tc3-peer/1"

    def setup(self):
        self.timeout = self.server.cfg.idle_timeout
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            super().log_message(fmt, *args)

    # BaseHTTPRequestHandler would send "100 Continue" before do_POST runs; the decision belongs
    # to handle_api, which first checks the header (and may reject without reading the body).
    def handle_expect_100(self):
        return True

    def do_GET(self):
        if self.path == "/_peer/requests":
            with self.server.lock:
                body = json.dumps(self.server.records, ensure_ascii=False).encode("utf-8")
            return self.send_raw(200, body, "application/json")
        self.read_body_or_close()
        return self.send_raw(404, b'{"error":"unknown path"}', "application/json")

    def do_POST(self):
        if self.path == "/_peer/reset":
            self.read_body_or_close()
            with self.server.lock:
                self.server.records.clear()
            return self.send_raw(200, b'{"ok":true}', "application/json")
        if self.path != "/":
            self.read_body_or_close()
            return self.send_raw(404, b'{"error":"unknown path"}', "application/json")
        return self.handle_api()

    do_PUT = do_DELETE = do_PATCH = do_POST

    # -- the API ------------------------------------------------------------------------------

    def handle_api(self):
        cfg = self.server.cfg
        h = self.headers
        rec = {
            "action": h.get("X-TC-Action"), "version": h.get("X-TC-Version"), "region": h.get("X-TC-Region"),
            "language": h.get("X-TC-Language"), "token_present": h.get("X-TC-Token") is not None,
            "request_client": h.get("X-TC-RequestClient"), "timestamp": h.get("X-TC-Timestamp"),
            "host": h.get("Host"), "content_type": h.get("Content-Type"),
            "content_length": h.get("Content-Length"), "chunked": h.get("Transfer-Encoding") is not None,
            "expect_100_continue": (h.get("Expect") or "").lower() == "100-continue",
            "content_sha256_header": h.get("X-TC-Content-SHA256"),
            "signature_ok": False, "rejected_before_body": False,
        }
        try:
            if cfg.reject_early:
                raise Reject(cfg.reject_early, "rejected before the body (--reject-early)")
            if self.command != "POST":
                raise Reject("UnsupportedOperation", "only POST is served")
            auth = self.check_header(rec)
        except Reject as err:
            # A client that waits for 100 Continue gets the answer instead; any other client has
            # its body on the way: read it so that the connection stays usable.
            if rec["expect_100_continue"] or cfg.reject_early:
                return self.reject_before_body(rec, err)
            try:
                rec["body_size"] = len(self.read_body())
            except (BadFraming, Reject):
                return self.reject_before_body(rec, err)
            return self.reply(rec, self.error_response(rec, err))

        if rec["expect_100_continue"]:
            self.send_response_only(100)
            self.end_headers()
            rec["continue_sent"] = True
        try:
            body = self.read_body()
        except BadFraming as err:
            rec["body_error"] = str(err)
            self.server.record(rec)
            return self.send_raw(400, str(err).encode(), "text/plain", close=True)
        except Reject as err:  # too large: the rest is not read
            return self.reject_before_body(rec, err)
        rec["body_size"] = len(body)
        rec["body_sha256"] = hashlib.sha256(body).hexdigest()
        try:
            self.check_signature(rec, auth, body)
            response = self.dispatch(rec, body)
        except Reject as err:
            response = self.error_response(rec, err)
        self.reply(rec, response)

    def check_header(self, rec):
        """Everything that can be checked before the body: returns the parsed Authorization."""
        cfg = self.server.cfg
        h = self.headers
        m = AUTH_RE.match(h.get("Authorization") or "")
        if not m:
            raise Reject("AuthFailure.InvalidAuthorization", "Authorization is not a TC3-HMAC-SHA256 value")
        secret_id, date, service, signed, signature = m.groups()
        rec.update(secret_id=secret_id, scope_date=date, service=service, signed_headers=signed)
        if secret_id != cfg.secret_id:
            raise Reject("AuthFailure.SecretIdNotFound", "unknown SecretId")
        ts = h.get("X-TC-Timestamp") or ""
        if not re.fullmatch(r"[0-9]{1,12}", ts):
            raise Reject("MissingParameter", "X-TC-Timestamp is missing or not decimal")
        if abs(time.time() - int(ts)) > cfg.skew:
            raise Reject("AuthFailure.SignatureExpire", "the timestamp is more than the allowed skew away")
        if date != utc_date(int(ts)):
            raise Reject("AuthFailure.SignatureFailure", "the credential date is not the UTC date of X-TC-Timestamp")
        if service != cfg.service:
            raise Reject("AuthFailure.SignatureFailure", f"the credential service is not {cfg.service}")
        names = signed.split(";")
        if names != sorted(names) or len(set(names)) != len(names) or not {"content-type", "host"} <= set(names):
            raise Reject("AuthFailure.SignatureFailure", "SignedHeaders must be sorted and include content-type;host")
        for n in names:
            if h.get(n) is None or len(h.get_all(n)) != 1:
                raise Reject("AuthFailure.SignatureFailure", f"signed header {n} is missing or repeated")
        token = h.get("X-TC-Token")
        if token != cfg.token and not (token is None and cfg.token is None):
            raise Reject("AuthFailure.TokenFailure", "X-TC-Token does not match the temporary credential"
                         if cfg.token else "X-TC-Token given with a long-term key")
        rec["unsigned_payload"] = h.get("X-TC-Content-SHA256") == UNSIGNED
        if rec["unsigned_payload"]:  # the signature does not depend on the body: check it now
            self.verify(rec, names, signature, ts, date, hashlib.sha256(UNSIGNED.encode()).hexdigest())
        return names, signature, ts, date

    def verify(self, rec, names, signature, ts, date, payload_hash):
        cfg = self.server.cfg
        canonical_headers = "".join(f"{n}:{self.headers.get(n).strip().lower()}\n" for n in names)
        query = self.path.partition("?")[2]
        canonical = "\n".join([self.command, "/", query, canonical_headers, ";".join(names), payload_hash])
        to_sign = "\n".join([ALGORITHM, ts, f"{date}/{cfg.service}/tc3_request",
                             hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
        if not hmac.compare_digest(tc3_signature(cfg.secret_key, date, cfg.service, to_sign), signature):
            raise Reject("AuthFailure.SignatureFailure", "signature mismatch")
        rec["signature_ok"] = True

    def check_signature(self, rec, auth, body):
        if rec["unsigned_payload"]:
            return
        names, signature, ts, date = auth
        digest = hashlib.sha256(body).hexdigest()
        declared = self.headers.get("X-TC-Content-SHA256")
        if declared is not None and declared != digest:
            raise Reject("AuthFailure.SignatureFailure", "X-TC-Content-SHA256 is not the body's SHA-256")
        self.verify(rec, names, signature, ts, date, digest)

    def dispatch(self, rec, body):
        cfg = self.server.cfg
        action = rec["action"]
        if action not in ACTIONS:
            raise Reject("InvalidAction", f"unknown action {action!r}")
        if rec["version"] != cfg.api_version:
            raise Reject("NoSuchVersion", f"version must be {cfg.api_version}")
        ct = (rec["content_type"] or "").split(";")[0].strip().lower()
        if ct != "application/json":
            raise Reject("InvalidParameter", "Content-Type must be application/json")
        try:
            req = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError) as err:
            raise Reject("InvalidParameter", f"body is not JSON: {err}") from None
        if not isinstance(req, dict):
            raise Reject("InvalidParameter", "body is not a JSON object")
        rec["fields"] = {k: (v if not isinstance(v, str) or len(v) <= 1024 else f"<{len(v)} chars>")
                         for k, v in req.items() if k not in ("VideoBase64", "ImageBase64")}
        for field, limit, key in (("VideoBase64", cfg.max_video, "video"), ("ImageBase64", cfg.max_image, "image")):
            if field in req:
                if isinstance(req[field], str) and len(req[field]) > limit:
                    raise Reject("InvalidParameterValue", f"{field} is over {limit} characters")
                data = strict_b64(req[field], field)
                rec[key] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                            "base64_chars": len(req[field])}
        if action == "GetLiveCode":
            code = cfg.live_code or f"{secrets.randbelow(10000):04d}"
            with self.server.lock:
                self.server.live_codes.add(code)
            return {"LiveCode": code}
        if action == "GetActionSequence":
            return {"ActionSequence": "1,2"}
        if req.get("LivenessType") not in ("LIP", "ACTION", "SILENT"):
            raise Reject("InvalidParameterValue", "LivenessType must be LIP, ACTION or SILENT")
        if "video" not in rec and "VideoUrl" not in req:
            raise Reject("MissingParameter", "VideoBase64 or VideoUrl is required")
        if action == "LivenessCompare" and "image" not in rec and "ImageUrl" not in req:
            raise Reject("MissingParameter", "ImageBase64 or ImageUrl is required")
        if action == "LivenessRecognition":
            for f in ("IdCard", "Name"):
                if not isinstance(req.get(f), str) or not req[f]:
                    raise Reject("MissingParameter", f"{f} is required")
        if req.get("LivenessType") == "LIP":
            with self.server.lock:
                rec["live_code_issued"] = req.get("ValidateData") in self.server.live_codes
        return {"Result": "Success", "Description": "成功", "Sim": 88.5, "BestFrameBase64": TINY_JPEG,
                "BestFrameList": []}

    # -- replies ------------------------------------------------------------------------------

    def error_response(self, rec, err):
        rec["error"] = err.code
        return {"Error": {"Code": err.code, "Message": err.message}}

    def reject_before_body(self, rec, err):
        """Answer without reading the body, then close: the body may still be on its way."""
        rec["rejected_before_body"] = True
        self.reply(rec, self.error_response(rec, err), close=True)

    def reply(self, rec, response, close=False):
        response["RequestId"] = str(uuid.uuid4())
        rec["response"] = response
        self.server.record(rec)  # before the reply: a client that has its answer finds the record
        body = json.dumps({"Response": response}, ensure_ascii=False).encode("utf-8")
        self.send_raw(200, body, "application/json", close=close)

    def send_raw(self, status, body, content_type, close=False):
        if close:
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close" if self.close_connection else "keep-alive")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    # -- bodies -------------------------------------------------------------------------------

    def read_body(self):
        limit = self.server.cfg.max_body
        te = self.headers.get("Transfer-Encoding")
        cl = self.headers.get_all("Content-Length") or []
        if te is not None:
            if cl or te.strip().lower() != "chunked":
                raise BadFraming("unsupported framing")
            return self.read_chunked(limit)
        if len(cl) > 1 or (cl and not re.fullmatch(r"[0-9]+", cl[0])):
            raise BadFraming("bad Content-Length")
        n = int(cl[0]) if cl else 0
        if n > limit:
            raise Reject("RequestSizeLimitExceeded", f"the body is over {limit} bytes")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BadFraming("connection closed inside the body")
        return data

    def read_chunked(self, limit):
        out = bytearray()
        while True:
            line = self.rfile.readline(4096)
            if not line.endswith(b"\r\n"):
                raise BadFraming("bad chunk-size line")
            size = int(line[:-2].split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline(4096) not in (b"\r\n", b""):
                    pass  # trailers
                return bytes(out)
            if len(out) + size > limit:
                raise Reject("RequestSizeLimitExceeded", f"the body is over {limit} bytes")
            out += self.rfile.read(size)
            if self.rfile.read(2) != b"\r\n":
                raise BadFraming("chunk not followed by CRLF")

    def read_body_or_close(self):
        try:
            self.read_body()
        except (BadFraming, Reject):
            self.close_connection = True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--secret-id", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default=os.environ.get("TC3_PEER_SECRET_KEY", "SECRETKEYEXAMPLE"),
                   help="default: $TC3_PEER_SECRET_KEY, else SECRETKEYEXAMPLE (never printed)")
    p.add_argument("--token", help="expect this X-TC-Token (temporary credentials); default: none allowed")
    p.add_argument("--service", default="faceid")
    p.add_argument("--api-version", default="2018-03-01")
    p.add_argument("--skew", type=int, default=300, help="seconds X-TC-Timestamp may differ from now")
    p.add_argument("--max-body", type=int, default=10 * 1024 * 1024)
    p.add_argument("--max-video", type=int, default=8 * 1024 * 1024, help="VideoBase64 characters")
    p.add_argument("--max-image", type=int, default=3 * 1024 * 1024, help="ImageBase64 characters")
    p.add_argument("--live-code", help="GetLiveCode always answers this (default: random 4 digits)")
    p.add_argument("--reject-early", metavar="CODE",
                   help="answer every API request with error CODE right after its header, body unread")
    p.add_argument("--record", help="append one JSON line per API request to this file")
    p.add_argument("--idle-timeout", type=float, default=30)
    p.add_argument("--lifetime", type=float, default=0, help="exit after this many seconds (0: never)")
    p.add_argument("--verbose", action="store_true")
    cfg = p.parse_args(argv)
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        p.error("--tls-cert and --tls-key go together")
    server = PeerServer(cfg)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    if cfg.lifetime:
        threading.Timer(cfg.lifetime, lambda: os._exit(0)).start()
    print(f"listening on {cfg.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
