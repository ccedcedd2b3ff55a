#!/usr/bin/env python3
"""Independent implementation of the legacy signature (spec §2), for livefour's tests.

Written from the specification only, with Python's standard library (hmac, hashlib, base64),
so that it shares no code with livefour's C++ signer.

Input  (file given as argv[1], or stdin): one JSON object per line with
       key_hex, appid, bucket, secret_id, e, t, r  (and optionally f).
Output (stdout): per input line, "<hmac-sha1 hex> <header value>".
"""
import base64
import hashlib
import hmac
import json
import sys


def sign(req):
    plain = "a={appid}&b={bucket}&k={secret_id}&e={e}&t={t}&r={r}&f={f}".format(
        appid=req["appid"], bucket=req["bucket"], secret_id=req["secret_id"],
        e=int(req["e"]), t=int(req["t"]), r=int(req["r"]), f=req.get("f", ""))
    digest = hmac.new(bytes.fromhex(req["key_hex"]), plain.encode("utf-8"), hashlib.sha1).digest()
    return digest.hex(), base64.b64encode(digest + plain.encode("utf-8")).decode("ascii")


def main():
    src = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    with src:
        for line in src:
            line = line.strip()
            if line:
                mac, header = sign(json.loads(line))
                print(mac, header)


if __name__ == "__main__":
    main()
