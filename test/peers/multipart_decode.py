#!/usr/bin/env python3
"""Independent decoder for livefour's multipart requests (a peer we did not write).

Usage: multipart_decode.py REQUEST_FILE

REQUEST_FILE holds one complete serialized HTTP/1.1 request (request line, headers, body). The
framing is checked here, in Python, without Beast: Content-Length must equal the number of body
bytes exactly, or Transfer-Encoding: chunked is decoded strictly (hex sizes, CRLFs, last chunk,
nothing after it). The body is then parsed by the standard library's `email` package
(BytesParser, policy=email.policy.HTTP) with the request's Content-Type header prepended.

Prints one JSON object:
  {"method", "target", "framing": "content-length"|"chunked", "content_length", "body_size",
   "content_type", "defects": [...], "preamble", "epilogue",
   "parts": [{"name", "filename", "content_type", "size", "sha256", "defects"}]}
Exit status 2 (and {"error": ...}) when the request itself is malformed.
"""
import email.parser
import email.policy
import email.utils
import hashlib
import json
import sys


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.exit(2)


def dechunk(data):
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            fail("chunk size line not terminated")
        line = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError:
            fail("bad chunk size %r" % line)
        pos = eol + 2
        if size == 0:
            # no trailers expected from livefour: the final CRLF must end the message
            if data[pos:] != b"\r\n":
                fail("bytes after the last chunk: %r" % data[pos:pos + 40])
            return bytes(out)
        if data[pos + size:pos + size + 2] != b"\r\n":
            fail("chunk of %d bytes not followed by CRLF" % size)
        out += data[pos:pos + size]
        pos += size + 2


def main():
    raw = open(sys.argv[1], "rb").read()
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        fail("no end of header")
    request_line, _, header_block = raw[:head_end].partition(b"\r\n")
    parts = request_line.decode("ascii").split(" ")
    if len(parts) != 3 or parts[2] != "HTTP/1.1":
        fail("bad request line %r" % request_line)
    headers = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
        header_block + b"\r\n\r\n")
    body = raw[head_end + 4:]

    te = headers.get_all("Transfer-Encoding") or []
    cl = headers.get_all("Content-Length") or []
    result = {"method": parts[0], "target": parts[1], "content_length": None}
    if te:
        if cl:
            fail("both Content-Length and Transfer-Encoding")
        if [str(v).strip().lower() for v in te] != ["chunked"]:
            fail("unexpected Transfer-Encoding %r" % te)
        result["framing"] = "chunked"
        body = dechunk(body)
    else:
        if len(cl) != 1:
            fail("expected exactly one Content-Length, got %r" % cl)
        n = int(str(cl[0]))
        if n != len(body):
            fail("Content-Length %d but %d body bytes" % (n, len(body)))
        result["framing"] = "content-length"
        result["content_length"] = n
    result["body_size"] = len(body)

    ctype = headers.get("Content-Type")
    if ctype is None:
        fail("no Content-Type")
    result["content_type"] = str(ctype)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + str(ctype).encode("ascii") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        fail("body is not multipart")
    result["defects"] = [type(d).__name__ for d in msg.defects]
    result["preamble"] = msg.preamble
    result["epilogue"] = msg.epilogue
    out = []
    for part in msg.iter_parts():
        payload = part.get_payload(decode=True) or b""
        ct = part.get("Content-Type")
        # Not get_filename(): it strip()s the value, and a filename's spaces are data.
        filename = part.get_param("filename", header="content-disposition")
        if filename is not None:
            filename = email.utils.collapse_rfc2231_value(filename)
        out.append({
            "name": part.get_param("name", header="content-disposition"),
            "filename": filename,
            "content_type": None if ct is None else str(ct),
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "disposition": part.get_content_disposition(),
            "defects": [type(d).__name__ for d in part.defects],
        })
    result["parts"] = out
    print(json.dumps(result))


if __name__ == "__main__":
    main()
