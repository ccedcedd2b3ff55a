#!/usr/bin/env python3
"""Self-test of tc3_peer.py, with clients livefour did not write: requests are signed by the
official Tencent Cloud Node.js SDK's signer (node/sign_tc3.js) and sent with http.client over
verified TLS, or with curl. Checks that the peer accepts what the SDK signs, signed and unsigned,
and refuses each kind of bad request with its API 3.0 code; that it records decoded media
digests; and that --reject-early answers before the body is sent.

usage: tc3_peer_selftest.py NODE   (exit 0 when every check passes)
"""
import base64
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = sys.argv[1] if len(sys.argv) > 1 else "node"
SECRET_ID, SECRET_KEY = "AKIDselftest", "selftest-key-0123456789"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sdk_sign(body, timestamp, key=SECRET_KEY, secret_id=SECRET_ID, host="127.0.0.1"):
    line = json.dumps({"method": "POST", "host": host, "query": "", "service": "faceid",
                       "content_type": "application/json", "payload_b64": base64.b64encode(body).decode(),
                       "timestamp": timestamp, "secret_id": secret_id, "secret_key": key})
    out = subprocess.run([NODE, os.path.join(HERE, "node", "sign_tc3.js")], input=line.encode(),
                         capture_output=True, check=True)
    return out.stdout.decode().strip()


class Peer:
    def __init__(self, certs, *extra):
        self.record = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "tc3_peer.py"), "--tls-cert", f"{certs}/server.pem",
             "--tls-key", f"{certs}/server.key", "--secret-id", SECRET_ID, "--record", self.record,
             "--lifetime", "120", *extra],
            stdout=subprocess.PIPE, env=dict(os.environ, TC3_PEER_SECRET_KEY=SECRET_KEY))
        self.port = int(self.proc.stdout.readline().decode().rsplit(":", 1)[1])
        self.ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")

    def post(self, body, headers):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        conn.request("POST", "/", body=body, headers=headers)
        r = conn.getresponse()
        reply = json.loads(r.read())
        conn.close()
        return r.status, reply["Response"]

    def records(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        conn.request("GET", "/_peer/requests")
        return json.loads(conn.getresponse().read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        os.unlink(self.record)


def headers_for(body, action="LivenessCompare", ts=None, unsigned=False, **sign):
    ts = int(time.time()) if ts is None else ts
    h = {"Host": "127.0.0.1", "Content-Type": "application/json", "X-TC-Action": action,
         "X-TC-Version": "2018-03-01", "X-TC-Timestamp": str(ts)}
    if unsigned:
        h["X-TC-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        h["Authorization"] = sdk_sign(b"UNSIGNED-PAYLOAD", ts, **sign)
    else:
        h["Authorization"] = sdk_sign(body, ts, **sign)
    return h


def main():
    certs = tempfile.mkdtemp(prefix="tc3-peer-certs-")
    subprocess.run([os.path.join(HERE, "make_certs.sh"), certs], check=True)
    video, image = os.urandom(30000), b"\xff\xd8\xff" + os.urandom(5000)
    body = json.dumps({"LivenessType": "LIP", "ValidateData": "1234", "Name": "\u5f20\u4e09",
                       "VideoBase64": base64.b64encode(video).decode(),
                       "ImageBase64": base64.b64encode(image).decode()}).encode()
    peer = Peer(certs)
    try:
        status, r = peer.post(b"{}", headers_for(b"{}", "GetLiveCode"))
        check(status == 200 and len(r.get("LiveCode", "")) == 4 and "RequestId" in r, "GetLiveCode signed by the SDK")
        status, r = peer.post(body, headers_for(body))
        check(r.get("Result") == "Success", "LivenessCompare signed by the SDK: " + json.dumps(r)[:120])
        rec = peer.records()[-1]
        check(rec["video"]["sha256"] == hashlib.sha256(video).hexdigest() and rec["video"]["size"] == len(video),
              "recorded video digest and size")
        check(rec["image"]["sha256"] == hashlib.sha256(image).hexdigest(), "recorded image digest")
        check(rec["signature_ok"] and not rec["unsigned_payload"] and rec["fields"]["Name"] == "\u5f20\u4e09",
              "record: signature_ok, signed payload, UTF-8 field")
        _, r = peer.post(body, headers_for(body, unsigned=True))
        check(r.get("Result") == "Success" and peer.records()[-1]["unsigned_payload"], "UNSIGNED-PAYLOAD accepted")
        tampered = body.replace(b"1234", b"9999")
        _, r = peer.post(tampered, headers_for(body))
        check(r.get("Error", {}).get("Code") == "AuthFailure.SignatureFailure", "a changed body fails the signature")
        _, r = peer.post(body, headers_for(body, key=SECRET_KEY + "x"))
        check(r.get("Error", {}).get("Code") == "AuthFailure.SignatureFailure", "wrong key: SignatureFailure")
        _, r = peer.post(body, headers_for(body, secret_id="AKIDother"))
        check(r.get("Error", {}).get("Code") == "AuthFailure.SecretIdNotFound", "unknown SecretId")
        _, r = peer.post(body, headers_for(body, ts=int(time.time()) - 301))
        check(r.get("Error", {}).get("Code") == "AuthFailure.SignatureExpire", "301 s of skew: SignatureExpire")
        _, r = peer.post(body, headers_for(body, host="127.0.0.2"))
        check(r.get("Error", {}).get("Code") == "AuthFailure.SignatureFailure", "a different signed host fails")
        bad = b'{"LivenessType":"SILENT","VideoBase64":"QUJD","ImageBase64":"QR=="}'  # unused bits set
        _, r = peer.post(bad, headers_for(bad))
        check(r.get("Error", {}).get("Code") == "InvalidParameterValue", "non-canonical base64 refused")
        h = headers_for(b"{}", "GetLiveCode")
        h["X-TC-Token"] = "t"
        _, r = peer.post(b"{}", h)
        check(r.get("Error", {}).get("Code") == "AuthFailure.TokenFailure", "a token with a long-term key")
        h = headers_for(b"{}", "GetLiveCode")
        h["X-TC-Version"] = "2017-03-12"
        _, r = peer.post(b"{}", h)
        check(r.get("Error", {}).get("Code") == "NoSuchVersion", "wrong version")

        # The SDK's whole client: its requests verify here, and X-TC-Region is left out without a
        # region (3.0.x sent "null").
        out = subprocess.run([NODE, os.path.join(HERE, "node", "sdk_client_probe.js"), str(peer.port), SECRET_ID,
                              SECRET_KEY], capture_output=True, timeout=30)
        check(out.returncode == 0 and all("LiveCode" in r for r in json.loads(out.stdout or b"[]")),
              "the SDK's client calls GetLiveCode twice " + out.stderr.decode()[-300:])
        recs = peer.records()[-2:]
        check([r["region"] for r in recs] == [None, "ap-guangzhou"], f"X-TC-Region: {[r['region'] for r in recs]}")
        check(all(r["signature_ok"] and r["host"] == "faceid.tencentcloudapi.com" and
                  r["signed_headers"] == "content-type;host" for r in recs),
              "the SDK's client signs content-type;host, Host without a port, and verifies here")
    finally:
        peer.stop()

    peer = Peer(certs, "--token", "sts-token")
    try:
        h = headers_for(b"{}", "GetLiveCode")
        h["X-TC-Token"] = "sts-token"
        _, r = peer.post(b"{}", h)
        check("LiveCode" in r, "temporary credentials: the configured token is accepted")
        _, r = peer.post(b"{}", headers_for(b"{}", "GetLiveCode"))
        check(r.get("Error", {}).get("Code") == "AuthFailure.TokenFailure", "temporary credentials: no token")
    finally:
        peer.stop()

    # --reject-early: curl announces a 2 MB body with Expect: 100-continue and must get the
    # answer without sending it (curl waits 1 s for 100 Continue by default; the answer comes first).
    peer = Peer(certs, "--reject-early", "AuthFailure.SignatureFailure")
    try:
        big = os.path.join(certs, "big.json")
        with open(big, "wb") as f:
            f.write(b'{"VideoBase64":"' + b"A" * 2000000 + b'"}')
        out = subprocess.run(["curl", "-sS", "--cacert", f"{certs}/ca.pem", "-H", "Expect: 100-continue",
                              "-H", "Content-Type: application/json", "-H", "X-TC-Action: LivenessCompare",
                              "--data-binary", f"@{big}", "-w", "\n%{size_upload}", f"https://127.0.0.1:{peer.port}/"],
                             capture_output=True, timeout=20)
        reply, uploaded = out.stdout.decode().rsplit("\n", 1)
        check(json.loads(reply)["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure",
              "--reject-early answers the auth error")
        check(int(float(uploaded)) < 2000000, f"--reject-early: the body was not sent ({uploaded} bytes uploaded)")
        check(peer.records()[-1]["rejected_before_body"], "--reject-early: recorded as rejected before the body")
    finally:
        peer.stop()

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
