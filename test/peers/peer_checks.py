"""Checks used by python_peer.py: the legacy signature (spec §2) and multipart/form-data bodies.

Pure functions, no sockets, so that they can also be imported and tried by hand:
    python3 -c 'import peer_checks as c; print(c.raw_split(b"--B--", 5, b"B"))'
"""
import base64
import binascii
import email.feedparser
import email.parser
import email.policy
import hashlib
import hmac
import re

MAX_VALIDITY = 90 * 24 * 3600  # spec §2: e - t "at most 3 months"; 90 days, the strict reading
SLICE = 1 << 20  # feed the email parser 1 MiB at a time
SIG_FIELDS = ("a", "b", "k", "e", "t", "r", "f")


def verify_signature(values, cfg, now):
    """Return (code, message, fields) for the Authorization header values (spec §2, §5)."""
    if not values or values == [""]:
        return 4, "signature empty", None
    if len(values) > 1:
        return 5, "signature malformed: several Authorization headers", None
    value = values[0]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return 5, "signature malformed: not standard padded base64", None
    if base64.b64encode(raw).decode("ascii") != value:
        return 5, "signature malformed: non-canonical base64", None
    if len(raw) <= 20:
        return 5, "signature malformed: shorter than the 20-byte HMAC", None
    mac, plain = raw[:20], raw[20:]
    try:
        text = plain.decode("ascii")
    except UnicodeDecodeError:
        return 5, "signature malformed: plaintext is not ASCII", None
    items = [item.partition("=") for item in text.split("&")]
    if [key for key, eq, _ in items] != list(SIG_FIELDS) or not all(eq for _, eq, _ in items):
        return 5, "signature malformed: fields are not a,b,k,e,t,r,f in that order", None
    fields = {key: val for key, _, val in items}
    digits = re.compile(r"[0-9]+\Z")
    for key in ("a", "e", "t"):
        if not digits.match(fields[key]):
            return 5, f"signature malformed: {key} is not a decimal number", fields
    if not re.match(r"[0-9]{1,10}\Z", fields["r"]):
        return 5, "signature malformed: r is not 1-10 decimal digits", fields
    if fields["a"] != cfg.appid:
        return 10, "appid unknown", fields
    if fields["k"] != cfg.secret_id:
        return 11, "secret id unknown", fields
    expected = hmac.new(cfg.secret_key.encode(), plain, hashlib.sha1).digest()
    if not hmac.compare_digest(mac, expected):
        return 14, "signature check failed", fields
    if fields["b"] != cfg.bucket:
        return 6, "bucket in signature mismatch", fields
    e, t = int(fields["e"]), int(fields["t"])
    if e <= t:
        return 5, "signature malformed: e is not after t", fields
    if e - t > MAX_VALIDITY:
        return 5, "signature malformed: validity longer than 90 days", fields
    if fields["f"] != "":
        return 5, "signature malformed: f must be empty (multi-use signature)", fields
    if cfg.clock_check:
        if now >= e:
            return 9, "signature expired", fields
        if t > now + cfg.clock_skew:
            return 9, "signature not yet valid (t in the future)", fields
    return 0, "OK", fields


def raw_split(mm, size, boundary):
    """Strict RFC 2046 split: every CRLF--boundary must be a delimiter. Returns (spans, errors,
    preamble_size, epilogue_size); spans are (part_start, part_end) offsets."""
    dash = b"--" + boundary
    delim = b"\r\n" + dash
    errors, spans = [], []
    if mm[: len(dash)] == dash:
        pos = 0
    else:
        found = mm.find(delim)
        if found < 0:
            return spans, ["no opening boundary delimiter"], size, 0
        pos = found + 2
    preamble = pos
    while True:
        after = pos + len(dash)
        if mm[after : after + 2] == b"--":
            epilogue_start = after + 2
            break
        j = after
        while j < size and mm[j] in (0x20, 0x09):
            j += 1
        if mm[j : j + 2] != b"\r\n":
            errors.append(f"boundary at offset {pos} is followed by neither CRLF nor '--'")
            return spans, errors, preamble, 0
        start = j + 2
        nxt = mm.find(delim, start)
        if nxt < 0:
            errors.append("close delimiter missing")
            return spans, errors, preamble, 0
        spans.append((start, nxt))
        pos = nxt + 2
    return spans, errors, preamble, size - epilogue_start


def unescape(text):
    """email decodes raw header bytes as ASCII with surrogate escapes; show UTF-8 as text."""
    if text is None:
        return None
    try:
        return str(text).encode("ascii", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return str(text)


def describe_part(headers, payload):
    """Report entry for one part; `headers` is an email Message holding the part's headers."""
    cd = headers.get("Content-Disposition")
    params = dict(cd.params) if cd is not None else {}
    filename = unescape(params.get("filename"))
    entry = {
        "name": unescape(params.get("name")),
        "filename": filename,
        "disposition": cd.content_disposition if cd is not None else None,
        "content_type": unescape(headers["Content-Type"]) if "Content-Type" in headers else None,
        "headers": [[k, unescape(v)] for k, v in headers.raw_items()],
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    if filename is None:
        entry["value"] = bytes(payload).decode("utf-8", errors="replace")
        entry["value_utf8_ok"] = _utf8_ok(bytes(payload))
    return entry


def _utf8_ok(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def parse_multipart(mm, size, content_type, email_limit):
    """Parse with `email` (when not above email_limit) and cross-check with raw_split."""
    out = {"boundary": None, "framing_errors": [], "parsed_by": None, "parts": []}
    ctype = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n")["Content-Type"]
    boundary = ctype.params.get("boundary") if ctype is not None else None
    if ctype is None or ctype.content_type != "multipart/form-data" or not boundary:
        out["framing_errors"].append("Content-Type is not multipart/form-data with a boundary")
        return out
    out["boundary"] = boundary
    if not re.match(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]\Z", boundary):
        out["framing_errors"].append("boundary is not 1-70 RFC 2046 bchars")
        return out
    spans, errors, preamble, epilogue = raw_split(mm, size, boundary.encode("latin-1"))
    out["framing_errors"] += errors
    out.update(preamble_size=preamble, epilogue_size=epilogue)
    raw_parts = []
    for start, end in spans:
        if mm[start : start + 2] == b"\r\n":
            head_end, body_start = start, start + 2
        else:
            sep = mm.find(b"\r\n\r\n", start, end)
            if sep < 0:
                out["framing_errors"].append(f"part at offset {start} has no blank line after headers")
                continue
            head_end, body_start = sep + 2, sep + 4
        head = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
            mm[start:head_end] + b"\r\n")
        if head.defects:
            out["framing_errors"].append(f"part at offset {start}: header defects {head.defects}")
        with memoryview(mm) as whole, whole[body_start:end] as body:  # no copy of big files
            raw_parts.append(describe_part(head, body))
    if size > email_limit:
        out["parsed_by"] = "raw split (body above --email-limit), headers by email"
        out["parts"] = raw_parts
        return out
    # BytesParser.parse(fp) would go through a universal-newline TextIOWrapper and corrupt
    # binary parts; the feed parser takes bytes as they are.
    feeder = email.feedparser.BytesFeedParser(policy=email.policy.HTTP)
    feeder.feed(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n")
    for off in range(0, size, SLICE):
        feeder.feed(mm[off : off + SLICE])
    msg = feeder.close()
    out["parsed_by"] = "email"
    out["framing_errors"] += [f"email: {type(d).__name__}" for d in msg.defects]
    if not msg.is_multipart():
        out["framing_errors"].append("email did not parse a multipart body")
        return out
    for part in msg.iter_parts():
        payload = part.get_payload(decode=True)
        if payload is None:
            out["framing_errors"].append("email: a part is itself multipart")
            continue
        out["framing_errors"] += [f"email part: {type(d).__name__}" for d in part.defects]
        out["parts"].append(describe_part(part, payload))
    strip = lambda parts: [(p["name"], p["filename"], p["size"], p["sha256"]) for p in parts]
    if strip(out["parts"]) != strip(raw_parts):
        out["framing_errors"].append("email parser and strict raw split disagree on the parts")
    return out
