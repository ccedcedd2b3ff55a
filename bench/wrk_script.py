#!/usr/bin/env python3
"""wrk_script.py — the Lua script (and body file) with which wrk sends the benchmarks' small
requests: the same method, body and header sizes as livefour's livegetfour call or ~1.5 KB
livedetectfour multipart. One definition for bench/harness.py (scenario 3) and bench/profile.sh.
`multipart` sends one body read at start-up; `multipart-file` opens, reads and closes the video
file for every request (in Lua: open, fstat, read, close), the work livefour does for a file source.

    python3 wrk_script.py digits|multipart|multipart-file VIDEO_FILE OUT.lua
"""
import sys

BOUNDARY = "wrk-reference-0123456789abcdefABCDEF"
DIGITS_BODY = '{"appid":"1250000000"}'


def multipart_framing():
    """What comes before and after the video bytes: the fields livefour sends, framed per RFC 7578."""
    crlf, delim = b"\r\n", b"--" + BOUNDARY.encode()
    parts = [delim + crlf + f'Content-Disposition: form-data; name="{k}"'.encode() + crlf + crlf + v.encode() + crlf
             for k, v in (("appid", "1250000000"), ("validate_data", "1234"), ("compare_flag", "false"))]
    parts.append(delim + crlf + b'Content-Disposition: form-data; name="video"; filename="v.mp4"' + crlf +
                 b"Content-Type: video/mp4" + crlf + crlf)
    return b"".join(parts), crlf + delim + b"--" + crlf


def multipart_body(video):
    prefix, suffix = multipart_framing()
    return prefix + video + suffix


def write(path, kind, video_file):
    """Writes the script to `path` (and the multipart body next to it); returns `path`."""
    lines = ['wrk.method = "POST"']
    if kind == "digits":
        lines += [f"wrk.body = '{DIGITS_BODY}'", 'wrk.headers["Content-Type"] = "application/json"']
    elif kind == "multipart":
        with open(video_file, "rb") as f:
            video = f.read()
        with open(path + ".body", "wb") as f:
            f.write(multipart_body(video))
        lines += [f'local f = io.open("{path}.body", "rb")', 'wrk.body = f:read("*a")', "f:close()",
                  f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"']
    elif kind == "multipart-file":
        prefix, suffix = multipart_framing()
        for ext, data in ((".prefix", prefix), (".suffix", suffix)):
            with open(path + ext, "wb") as f:
                f.write(data)
        video = video_file.replace("\\", "\\\\").replace('"', '\\"')
        lines += ['local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("*a"); '
                  'f:close(); return s end',
                  f'local prefix, suffix = slurp("{path}.prefix"), slurp("{path}.suffix")',
                  f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"',
                  f'request = function() return wrk.format(nil, nil, nil, prefix .. slurp("{video}") .. suffix) end']
    else:
        raise ValueError(f"unknown kind {kind!r}")
    # livefour's Authorization header is ~150 characters; the sink does not check it.
    lines.append(f'wrk.headers["Authorization"] = "{"A" * 148}="')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    write(sys.argv[3], sys.argv[1], sys.argv[2])
