#!/usr/bin/env python3
"""Writes the checked-in seed corpora of the fuzz targets (test/fuzz/corpus/<target>/).

Run it again after changing a target's control block; the output is deterministic. The
corpora also hold `found_*` files: inputs found by fuzzing runs, chosen for the coverage they add
(at most ~50 per target), which this script leaves alone. Each seed of
fuzz_response and fuzz_emulator_request is the bytes under test followed by a fixed-size control
block (fuzz_support.hpp split_controls()), which the targets read with libFuzzer's
FuzzedDataProvider: `Controls` below writes the values in the order the target consumes them.
"""
import base64
import hashlib
import hmac
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


class Controls:
    """Builds a control block for FuzzedDataProvider, which consumes integers from the END of its
    data, most significant byte first, using as many bytes as the range needs."""

    def __init__(self, size):
        self.size = size
        self.consumed = bytearray()  # in consumption order

    def integral(self, lo, hi, value):
        assert lo <= value <= hi, (lo, hi, value)
        rng, v, n = hi - lo, value - lo, 0
        while n < 8 and (rng >> (8 * n)) > 0:
            n += 1
        self.consumed += v.to_bytes(n, "big") if n else b""
        return self

    def u32(self, value):
        return self.integral(0, 2**32 - 1, value)

    def boolean(self, value):
        self.consumed.append(1 if value else 0)
        return self

    def block(self):
        assert len(self.consumed) <= self.size
        return bytes(self.size - len(self.consumed)) + bytes(reversed(self.consumed))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------------------------------------
# fuzz_response: an HTTP response + 16 control bytes (seed, max_slice, small header and body
# limits, status for the JSON-only pass).

def response_controls(seed, max_slice=4096, small_header=1024, small_body=512, status=200):
    return (Controls(16).u32(seed).integral(1, 4096, max_slice).integral(16, 1024, small_header)
            .integral(0, 512, small_body).integral(0, 599, status).block())


def http_response(status, reason, body, headers=(), chunked=False, ct="application/json"):
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {ct}", "Server: nginx", *headers]
    body_bytes = body.encode()
    if chunked:
        head.append("Transfer-Encoding: chunked")
        pieces = [body_bytes[i:i + 7] for i in range(0, len(body_bytes), 7)]
        payload = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body_bytes)}")
        payload = body_bytes
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def response_seeds():
    t = "fuzz_response"
    digits = '{"code":0,"message":"OK","data":{"validate_data":"9532"}}'
    detect = ('{"code":0,"message":"OK","data":{"live_status":0,"live_msg":"LIVE_DETECT_SUCCESS",'
              '"compare_status":0,"compare_msg":"OK","sim":87,"photo":"/9j/4AAQSkZJRgABAQ=="}}')
    seeds = {
        "digits_ok": http_response(200, "OK", digits),
        "detect_compare_ok": http_response(200, "OK", detect),
        "detect_liveness_only": http_response(200, "OK", '{"code":0,"message":"OK","data":{"live_status":0,"live_msg":"OK",}}'),
        "detect_not_live": http_response(200, "OK", '{"code":0,"message":"OK","data":{"live_status":-5008,"live_msg":"VIDEO_AUDIO_RECOG_FAILED"}}'),
        "idcard_video_photo": http_response(200, "OK", '{"code":0,"message":"OK","data":{"live_status":0,"live_msg":"OK","compare_status":0,"compare_msg":"OK","sim":75,"video_photo":"aGVsbG8="}}'),
        "trailing_comma": http_response(200, "OK", '{"code":0,"message":"OK","data":{"validate_data":"1234",},}'),
        "code3_400": http_response(400, "Bad Request", '{"code":3,"message":"invalid request"}'),
        "code15_rate": http_response(200, "OK", '{"code":15,"message":"operation too frequent","data":null}'),
        "code213_500": http_response(500, "Internal Server Error", '{"code":213,"message":"internal error","data":{}}'),
        "html_502": http_response(502, "Bad Gateway", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", ct="text/html"),
        "chunked_detect": http_response(200, "OK", detect, chunked=True),
        "chunked_trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{\"cod\r\n0\r\nX-Trailer: v\r\n\r\n",
        "continue_then_ok": b"HTTP/1.1 100 Continue\r\n\r\n" + http_response(200, "OK", digits),
        "close_delimited": ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n" + digits).encode(),
        "truncated_json": http_response(200, "OK", '{"code":0,"message":"OK","data":{"live_sta'),
        "wrong_types": http_response(200, "OK", '{"code":"0","message":1,"data":{"live_status":"0","sim":101}}'),
        "huge_numbers": http_response(200, "OK", '{"code":0,"message":"OK","data":{"live_status":99999999999,"sim":-1,"compare_status":1e400}}'),
        "unicode": http_response(200, "OK", '{"code":0,"message":"\\u4f60\\u597d \\ud83d\\ude00","data":{"validate_data":"\\u0000\\r\\n"}}'),
        "nested": http_response(200, "OK", '{"code":0,"data":{"validate_data":[[[[{"a":[1,2,3]}]]]]},"extra":{"x":[true,false,null]}}'),
        "no_content_204": b"HTTP/1.1 204 No Content\r\n\r\n",
        "content_length_over_small_limit": http_response(200, "OK", "x" * 600),
    }
    for i, (name, wire) in enumerate(sorted(seeds.items())):
        # Vary the slicing: whole reads for half the seeds, tiny reads for the others.
        write(t, name + ".http", wire + response_controls(seed=i * 7919 + 1, max_slice=4096 if i % 2 else 1 + i,
                                                           small_header=64 + 37 * i, small_body=20 * i))


# ---------------------------------------------------------------------------------------------
# fuzz_emulator_request: bytes from the client + 40 control bytes.

KEY = b"fuzz-secret-key-fuzz-secret-key"  # fuzz_emulator_request.cpp secret_key
GOOD_PLAIN = "a=1250000000&b=&k=AKIDfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz&e=4000000000&t=3999999700&r=12345&f="


def signature(plain):
    return base64.b64encode(hmac.new(KEY, plain.encode(), hashlib.sha1).digest() + plain.encode()).decode()


def emulator_controls(seed, max_slice=4096, chunk_room=65536, sig_mode=0, now=3999999800, limits=None,
                      sign_now=1700000000, sign_validity=300, check_offset=10, sign_rand=12345):
    c = (Controls(40).u32(seed).integral(1, 4096, max_slice).integral(1, 65536, chunk_room)
         .integral(0, 2, sig_mode).integral(0, 4_000_000_000, now).boolean(limits is not None))
    if limits is not None:
        header, parts, value, head, preamble = limits
        (c.integral(0, 512, header).integral(0, 8, parts).integral(0, 512, value).integral(0, 64, head)
         .integral(0, 512, preamble))
    max_validity = 90 * 24 * 3600
    (c.integral(0, 4_000_000_000, sign_now).integral(1, max_validity + 10, sign_validity)
     .integral(-1000, max_validity + 10, check_offset).u32(sign_rand))
    return c.block()


def http_request(path, body, ct, extra=(), chunked=False, authz=None, method="POST"):
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: {authz or signature(GOOD_PLAIN)}",
            f"Content-Type: {ct}", *extra]
    body = body.encode() if isinstance(body, str) else body
    if chunked:
        head.append("Transfer-Encoding: chunked")
        pieces = [body[i:i + 50] for i in range(0, len(body), 50)]
        payload = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def form(boundary, parts):
    out = b""
    for name, value, filename, ctype in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            out += f'; filename="{filename}"\r\nContent-Type: {ctype}'.encode()
        out += b"\r\n\r\n" + (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def emulator_seeds():
    t = "fuzz_emulator_request"
    b = "livefour-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    mp = f"multipart/form-data; boundary={b}"
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 2
    detect = form(b, [("appid", "1250000000", None, None), ("validate_data", "9532", None, None),
                      ("compare_flag", "false", None, None), ("video", video, "v.mp4", "video/mp4")])
    idcard = form(b, [("appid", "1250000000", None, None), ("validate_data", "9532", None, None),
                      ("idcard_number", "110101199003070000", None, None), ("idcard_name", "张三", None, None),
                      ("seq", "fuzz", None, None), ("video", video, "v.webm", "video/webm")])
    odd_boundary = "a'b(c)+_,-./:=?"
    seeds = [
        ("detect", http_request("/face/livedetectfour", detect, mp), {}),
        ("detect_chunked", http_request("/face/livedetectfour", detect, mp, chunked=True), {"chunk_room": 7}),
        ("detect_small_limits", http_request("/face/livedetectfour", detect, mp),
         {"limits": (60, 3, 4, 8, 0), "max_slice": 13}),
        ("detect_quoted_boundary", http_request(
            "/face/livedetectfour",
            form(odd_boundary, [("appid", "1", None, None), ("video", b"x" * 100, "a%22b.mp4", "video/mp4")]),
            f'multipart/form-data; boundary="{odd_boundary}"'), {}),
        ("idcard", http_request("/face/idcardlivedetectfour", idcard, mp), {"max_slice": 100}),
        ("preamble_padding", http_request(
            "/face/livedetectfour",
            b"preamble\r\n--" + b.encode() + b"  \t\r\nContent-Disposition: form-data; name=appid\r\n"
            b"X-Other: 1\r\n\r\n1\r\n--" + b.encode() + b"--\r\nepilogue",
            f'Multipart/Form-Data; charset=utf-8; boundary="{b}"'), {}),
        ("livegetfour", http_request("/face/livegetfour", '{"appid":"1250000000","seq":"abc"}', "application/json"), {}),
        ("pipelined", http_request("/face/livegetfour", '{"appid":"1250000000"}', "application/json")
         + http_request("/face/livedetectfour", detect, mp, extra=["Expect: 100-continue"])
         + b"GET /_emulator/stats HTTP/1.1\r\nHost: x\r\n\r\n", {"max_slice": 300}),
        ("faults_post", http_request(
            "/_emulator/faults",
            '[{"kind":"code","code":15,"path":"/face/livegetfour","count":2},{"kind":"delay","ms":10},'
            '{"kind":"rate_limit","per_second":1.5,"burst":2},{"kind":"huge_body","bytes":1000},'
            '{"kind":"reset","when":"after_body_bytes","bytes":10},'
            '{"kind":"http_status","status":502,"body":"<html>","content_type":"text/html"}]',
            "application/json"), {}),
        ("faults_then_detect", http_request("/_emulator/faults", '{"kind":"non_json","path":"/face/livedetectfour"}',
                                            "application/json") + http_request("/face/livedetectfour", detect, mp), {}),
        ("spec_golden_signature", http_request(
            "/face/livegetfour", '{"appid":"1250000000"}', "application/json",
            authz="jKRTbdGcAB6DUqNB3Vu9heBcPYhhPTEyNTAwMDAwMDAmYj0maz1BS0lERVhBTVBMRSZlPTE1MDAwMDAzMDAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5MCZmPQ=="),
         {}),
        # The Authorization value is a plaintext, which sig_mode 1 signs with the emulator's key.
        ("plaintext_signed", http_request("/face/livegetfour", '{"appid":"1250000000"}', "application/json",
                                          authz=GOOD_PLAIN + "&u=extra"), {"sig_mode": 1}),
        ("plaintext_bad_mac", http_request("/face/livegetfour", "{}", "application/json",
                                           authz="a=1250000001&k=AKIDfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz&e=1&t=0&r=1"),
         {"sig_mode": 2}),
        ("chunk_ext_trailer", b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"3;name=value;q=\"x\"\r\n{\"a\r\n2\r\n\":\r\n4\r\n\"1\"}\r\n0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n",
         {"chunk_ext": True}),
        ("get_unknown", b"GET /x?query=1 HTTP/1.0\r\n\r\n", {}),
        ("http10_keepalive", b"POST /face/livegetfour HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}"
         b"POST /face/livegetfour HTTP/1.1\r\nContent-Length: 0\r\n\r\n", {}),
    ]
    for i, (name, wire, opts) in enumerate(seeds):
        opts = dict(opts)
        opts.pop("chunk_ext", None)
        opts.setdefault("max_slice", 4096 if i % 2 else 1 + 3 * i)
        write(t, name + ".http", wire + emulator_controls(seed=i * 104729 + 3, **opts))


# ---------------------------------------------------------------------------------------------
# fuzz_multipart_roundtrip: the whole input drives FuzzedDataProvider; random bytes of a few
# sizes are as good a start as any, plus the empty input.

def multipart_seeds():
    t = "fuzz_multipart_roundtrip"
    rng = random.Random(20240601)
    write(t, "empty", b"")
    for i, n in enumerate([8, 32, 64, 128, 256, 512, 1024, 2048, 4000]):
        write(t, f"random_{i}_{n}", bytes(rng.randrange(256) for _ in range(n)))
    # Printable bytes: names, values and boundaries made of text.
    for i, n in enumerate([100, 400, 1500]):
        write(t, f"text_{i}_{n}", "".join(rng.choice("abcXYZ019 _-.'\"\\%\r\n:;=") for _ in range(n)))


if __name__ == "__main__":
    response_seeds()
    emulator_seeds()
    multipart_seeds()
