#!/usr/bin/env python3
"""ctest `peer-node-sdk-emulator`: the official Tencent Cloud Node.js SDK drives livefour-emulator
over verified TLS (node/drive_emulator.js): GetLiveCode, LivenessCompare (LIP, with that code),
LivenessRecognition, and a call with a wrong key. Checks the SDK's results and the emulator's
counters and digests (GET /_emulator/stats).

usage: node_sdk_emulator.py EMULATOR NODE       (exit 0 when every check passes)
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
import urllib.request

from tc3_peer import tc3_signature, utc_date  # the peer's own TC3, written without our code

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def signed_headers(body, secret_id, secret_key, action="LivenessCompare"):
    """The headers of a request signed with tc3_peer.py's TC3 (Python, independent of livefour)."""
    ts = int(time.time())
    headers = {"Host": "faceid.tencentcloudapi.com", "Content-Type": "application/json",
               "X-TC-Version": "2018-03-01", "X-TC-Timestamp": str(ts)}
    canonical = "\n".join(["POST", "/", "", "content-type:application/json\nhost:faceid.tencentcloudapi.com\n",
                           "content-type;host", hashlib.sha256(body).hexdigest()])
    date = utc_date(ts)
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), f"{date}/faceid/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    headers["Authorization"] = (f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/faceid/tc3_request, "
                                f"SignedHeaders=content-type;host, Signature={tc3_signature(secret_key, date, 'faceid', to_sign)}")
    headers["X-TC-Action"] = action
    return headers


def chunked_request(port, ctx, secret_id, secret_key):
    """A signed LivenessCompare sent with Transfer-Encoding: chunked (http.client's encoder)."""
    video = b"FLV\x01" + os.urandom(100000)
    body = (b'{"LivenessType":"SILENT","ImageBase64":"' + base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(999)) +
            b'","VideoBase64":"' + base64.b64encode(video) + b'"}')
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    pieces = (body[i:i + 7777] for i in range(0, len(body), 7777))
    conn.request("POST", "/", body=pieces, headers=signed_headers(body, secret_id, secret_key), encode_chunked=True)
    reply = json.loads(conn.getresponse().read())["Response"]
    conn.close()
    return video, reply


def big_request(port, ctx, secret_id, secret_key):
    """A LivenessCompare body with a 6 MiB video (exactly 8 MiB of base64, the limit), signed here,
    streamed in 256 KiB writes."""
    video = b"\x00\x00\x00\x20ftypisom" + os.urandom(6 * 1024 * 1024 - 12)
    body = (b'{"LivenessType":"SILENT","ImageBase64":"' + base64.b64encode(b"\xff\xd8\xff" + os.urandom(4000)) +
            b'","VideoBase64":"' + base64.b64encode(video) + b'"}')
    headers = signed_headers(body, secret_id, secret_key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    conn.putrequest("POST", "/", skip_host=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    for i in range(0, len(body), 256 * 1024):
        conn.send(body[i:i + 256 * 1024])
    reply = json.loads(conn.getresponse().read())["Response"]
    conn.close()
    return len(body), video, reply


def main():
    emulator, node = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="livefour-node-sdk-")
    ca = os.path.join(work, "ca.pem")
    video = b"\x00\x00\x00\x20ftypisom" + os.urandom(600 * 1024)  # an mp4 by its magic bytes
    image = b"\xff\xd8\xff\xe0" + os.urandom(40 * 1024)            # a JPEG by its magic bytes
    paths = {}
    for name, data in (("video.mp4", video), ("image.jpg", image)):
        paths[name] = os.path.join(work, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    env = dict(os.environ, LIVEFOUR_SECRET_ID="AKIDnodesdk", LIVEFOUR_SECRET_KEY="node-sdk-secret-key",
               TENCENTCLOUD_SECRET_ID="AKIDnodesdk", TENCENTCLOUD_SECRET_KEY="node-sdk-secret-key")
    emu = subprocess.Popen([emulator, "--write-ca", ca, "--tls-name", "faceid.tencentcloudapi.com", "--quiet"],
                           stdout=subprocess.PIPE, env=env)
    try:
        line = emu.stdout.readline().decode()
        port = int(line.split(":")[1].split()[0])
        run = subprocess.run([node, os.path.join(HERE, "node", "drive_emulator.js"), str(port), ca,
                              paths["video.mp4"], paths["image.jpg"]],
                             capture_output=True, env=env, timeout=60)
        if run.returncode != 0:
            check(False, "the SDK run: " + run.stderr.decode()[-2000:])
            return 1
        out = json.loads(run.stdout)
        code = out["live_code"].get("LiveCode", "")
        check(len(code) == 4 and code.isdigit(), f"GetLiveCode gave a four-digit code ({code})")
        check(len(out["live_code"].get("RequestId", "")) == 36, "GetLiveCode has a RequestId")
        compare = out["compare"]
        check(compare.get("Result") == "Success", f"LivenessCompare: {compare.get('Result')}")
        check(70 <= compare.get("Sim", 0) < 100, f"LivenessCompare Sim {compare.get('Sim')}")
        check(len(compare.get("BestFrameList", [])) == 2, "BestFrameNum 2 gave two frames")
        recognition = out["recognition"]
        check(recognition.get("Result") == "Success", f"LivenessRecognition: {recognition.get('Result')}")
        check(out["wrong_key"] == {"thrown": True, "code": "AuthFailure.SignatureFailure",
                                   "requestId": out["wrong_key"].get("requestId")} and out["wrong_key"]["requestId"],
              f"a wrong key: the SDK throws AuthFailure.SignatureFailure ({out['wrong_key']})")

        ctx = ssl.create_default_context(cafile=ca)
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/_emulator/stats", context=ctx, timeout=10) as r:
            stats = json.loads(r.read())["faceid"]
        check(stats["requests"] == {"GetLiveCode": 2, "GetActionSequence": 0, "LivenessCompare": 1,
                                    "LivenessRecognition": 1, "other": 0}, f"requests per action {stats['requests']}")
        check(stats["codes"] == {"Success": 3, "AuthFailure.SignatureFailure": 1}, f"codes {stats['codes']}")
        check(stats["bytes"]["LivenessCompare"] > len(video) * 4 // 3, "LivenessCompare body bytes counted")
        last = stats["last"]
        check(last["action"] == "LivenessRecognition", "the last action")
        check(last["video"]["sha256"] == hashlib.sha256(video).hexdigest() and last["video"]["size"] == len(video),
              "the emulator decoded exactly the SDK's video")
        check(last["fields"].get("Name") == "张三", "Name arrived as UTF-8")

        # Memory per connection does not grow with the video: the body streams through fixed
        # buffers, the base64 is decoded and hashed on the fly.
        before = peak_rss_kib(emu.pid)
        size, big_video, reply = big_request(port, ctx, env["LIVEFOUR_SECRET_ID"], env["LIVEFOUR_SECRET_KEY"])
        grown = peak_rss_kib(emu.pid) - before
        check(reply.get("Result") == "Success",
              f"a {size}-byte body signed by tc3_peer.py's TC3: {reply.get('Result') or reply.get('Error')}")
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/_emulator/stats", context=ctx, timeout=10) as r:
            last = json.loads(r.read())["faceid"]["last"]
        check(last["video"]["sha256"] == hashlib.sha256(big_video).hexdigest(), "its 6 MiB video decoded exactly")
        check(grown < 2048, f"the emulator's peak RSS grew by {grown} KiB for it (limit 2048)")

        chunked_video, reply = chunked_request(port, ctx, env["LIVEFOUR_SECRET_ID"], env["LIVEFOUR_SECRET_KEY"])
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/_emulator/stats", context=ctx, timeout=10) as r:
            last = json.loads(r.read())["faceid"]["last"]
        check(reply.get("Result") == "Success" and last["video"]["sha256"] == hashlib.sha256(chunked_video).hexdigest(),
              f"a chunked body: {reply.get('Result') or reply.get('Error')}")

        # Refused on its header with Expect: 100-continue: curl gets the answer, sends no body.
        big = os.path.join(work, "big.json")
        with open(big, "wb") as f:
            f.write(b'{"VideoBase64":"' + b"A" * 3000000 + b'"}')
        out = subprocess.run(["curl", "-sS", "--cacert", ca, "-H", "Expect: 100-continue",
                              "-H", "Content-Type: application/json", "-H", "X-TC-Action: LivenessCompare",
                              "-H", f"X-TC-Timestamp: {int(time.time())}", "-H", "Authorization: TC3-HMAC-SHA256 Credential=AKIDnodesdk/2020-01-01/faceid/tc3_request, "
                              "SignedHeaders=content-type;host, Signature=" + "0" * 64,
                              "--data-binary", f"@{big}", "-w", "\n%{size_upload}", f"https://127.0.0.1:{port}/"],
                             capture_output=True, timeout=30)
        reply, uploaded = out.stdout.decode().rsplit("\n", 1)
        code = json.loads(reply)["Response"]["Error"]["Code"]
        check(code == "AuthFailure.SignatureFailure" and int(float(uploaded)) < 3000000,
              f"Expect: 100-continue refused before the body: {code}, {uploaded} bytes uploaded")
    finally:
        emu.terminate()
        emu.wait(timeout=20)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
