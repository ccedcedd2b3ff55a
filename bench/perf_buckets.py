#!/usr/bin/env python3
"""perf_buckets.py — groups the samples of `perf script` (recorded with -g) into a few buckets that
say where an upload's CPU goes: AES-GCM, the TLS record layer, the kernel's socket send path,
file reads, event loop and timers, memory copies, allocation, and the client's own code.

    perf script -i X.data -F comm,dso,sym,ip | python3 perf_buckets.py --gb 0.52 --hz 2000 --name livefour
    perf script -i Y.data -F comm,dso,sym,ip | python3 perf_buckets.py --requests 20000 --hz 2000 --name livefour
    perf script -i Z.data -F comm,dso,sym,ip | python3 perf_buckets.py --requests 40 --hz 1000 --faceid --name x

Prints a markdown table: share of samples and CPU seconds per GB uploaded for each bucket.
A sample is classified by its leaf frame (user-space library) or, for kernel leaves, by the
system call found in its call chain.
"""
import argparse
import sys

# Kernel work is attributed to the system call (or path) in the chain that caused it.
KERNEL_PATHS = [
    ("kernel: socket send (TCP + loopback delivery)", ("sys_sendmsg", "sys_sendto", "tcp_sendmsg", "sock_write_iter",
                                                        "sock_sendmsg")),
    ("kernel: socket receive", ("tcp_recvmsg", "sys_recvfrom", "sock_read_iter")),
    ("kernel: file read (page cache copy)", ("filemap_read", "sys_pread64", "generic_file_read_iter")),
    ("kernel: file open, stat, close", ("sys_openat", "do_sys_openat2", "sys_newfstat", "vfs_fstat", "sys_close",
                                        "__fput", "file_close_fd")),
    ("kernel: event loop, poll, timers", ("ep_poll", "do_epoll_wait", "do_sys_poll", "timerfd", "hrtimer",
                                          "sys_epoll_ctl", "eventfd")),
    ("kernel: scheduling and context switches", ("schedule", "finish_task_switch")),
    ("kernel: memory (page faults, mmap)", ("page_fault", "do_anonymous_page", "sys_mmap", "sys_munmap", "sys_brk")),
]


# With --requests (small requests): the wake-ups a ping-pong costs on a VM whose idle vCPUs halt,
# ahead of the paths above. Waking the peer happens inside our send (the loopback delivery runs
# the receiver's TCP code and wakes its thread, an inter-processor interrupt when its vCPU
# sleeps); our own wake-up is the scheduler's return to us after epoll_wait slept.
WAKEUP_PATHS = [
    ("kernel: waking the peer (inside send: loopback delivery → wake-up)", ("sock_def_readable", "try_to_wake_up")),
    ("kernel: own sleep and wake-up (epoll_wait slept)", ("schedule", "finish_task_switch")),
]


def classify(frames, wakeups=False):
    """frames: [(sym, dso)] leaf first."""
    if not frames:
        return "unknown"
    sym, dso = frames[0]
    if "kernel" in dso or dso.startswith("["):
        chain = " ".join(s for s, _ in frames)
        for name, keys in (WAKEUP_PATHS if wakeups else []) + KERNEL_PATHS:
            if any(k in chain for k in keys):
                return name
        return "kernel: other"
    if "libcrypto" in dso:
        return "libcrypto (AES-GCM, GHASH)"
    if "libssl" in dso:
        return "libssl (TLS record layer)"
    if "libc" in dso:
        if "memmove" in sym or "memcpy" in sym or "memset" in sym:
            return "libc: memcpy/memmove/memset"
        if any(k in sym for k in ("malloc", "free", "_int_", "realloc", "calloc", "tcache")):
            return "libc: malloc/free"
        return "libc: other (syscall wrappers, strings)"
    if "livefour-bench-sink" in dso:
        return "sink code (HTTP parsing, event loop)"
    if "libcurl" in dso:
        return "client code (libcurl)"
    if "livefour" in dso:
        return "client code (livefour, Asio, Beast)"
    if dso.endswith("wrk") or "/wrk" in dso:
        return "client code (wrk, LuaJIT)"
    if "libstdc++" in dso or "libboost" in dso:
        return "client code (libstdc++/Boost runtime)"
    return f"other ({dso})"


# With --faceid (a livefour-bench faceid-compare recorded with --call-graph dwarf, so that the chain
# reaches through OpenSSL's assembly into livefour's frames): each sample goes to the pass of the
# request it belongs to — the SHA-256 pre-pass over the body (engine.cpp hash_body) or the pass
# that sends it — and to what that pass was doing. libcrypto's internal symbols are stripped, so
# base64, SHA-256 and AES-GCM are told apart by their caller in livefour.
FACEID_PASSES = [("digest pass", ("hash_body",)),
                 ("send pass", ("exchange", "tls_stream", "encoded_body", "tls_bio", "response_reader")),
                 ("connection set-up, TLS handshake", ("open_connection", "handshake", "connect")),
                 ("process start-up, TLS context, CA file", ("ssl::context::context", "_dl_", "make_tls_context",
                                                            "load_verify", "faceid::client::client"))]
FACEID_WORK = [
    ("base64 (EVP_EncodeBlock)", lambda leaf, dso, chain: "libcrypto" in dso and (
        "encode_some" in chain or "json_base64_encoding" in chain)),
    ("base64 (livefour's AVX2 blocks)", lambda leaf, dso, chain: "base64_blocks_avx2" in chain),
    ("SHA-256 of the body", lambda leaf, dso, chain: "libcrypto" in dso and "sha256_context" in chain),
    ("TLS encryption (AES-256-GCM)", lambda leaf, dso, chain: "libcrypto" in dso and "encrypt" in chain),
    ("file read (pread: page-cache copy)", lambda leaf, dso, chain: ("kernel" in dso or "pread" in leaf) and
     "source_reader::read" in chain),
    ("file open, fstat, close", lambda leaf, dso, chain: "kernel" in dso and "source_reader" in chain),
    ("kernel: socket send (TCP, loopback delivery)", lambda leaf, dso, chain: "kernel" in dso and any(
        k in chain for k in ("sys_sendto", "sys_sendmsg", "tcp_sendmsg", "write_now"))),
    ("kernel: socket receive", lambda leaf, dso, chain: "kernel" in dso and any(
        k in chain for k in ("sys_recvfrom", "tcp_recvmsg", "sock_read_iter"))),
    ("kernel: event loop, timers, wake-ups", lambda leaf, dso, chain: "kernel" in dso and any(
        k in chain for k in ("epoll", "timerfd", "schedule", "eventfd"))),
    ("kernel: other (page faults, mmap, …)", lambda leaf, dso, chain: "kernel" in dso),
    ("JSON body framing and reply parsing", lambda leaf, dso, chain: any(
        k in chain for k in ("boost::json", "parse_liveness_response", "json_base64_encoding"))),
    ("memcpy (TLS record copies, encoder's scratch)", lambda leaf, dso, chain: "memcpy" in leaf or
     "memmove" in leaf),
    ("malloc/free", lambda leaf, dso, chain: "libc" in dso and any(
        k in leaf for k in ("malloc", "free", "_int_", "tcache"))),
    ("libc: syscall wrappers, other", lambda leaf, dso, chain: "libc" in dso or leaf.startswith(("__libc_", "__timerfd"))),
    ("TLS record layer (libssl), other libcrypto", lambda leaf, dso, chain: "libssl" in dso or "libcrypto" in dso),
    ("client code (livefour, Asio, Beast, TC3 signing)", lambda leaf, dso, chain: True),
]


def classify_faceid(frames):
    """(pass, work) of one sample (frames leaf first, with inlined frames)."""
    if not frames:
        return "other", "unknown"
    leaf = frames[0][0]
    # An inlined leaf (memcpy, send) belongs to the object of the first real frame.
    dso = next((d for _, d in frames if d != "inlined"), "?")
    chain = " ".join(s for s, _ in frames)
    step = next((name for name, keys in FACEID_PASSES if any(k in chain for k in keys)), "other")
    work = next(name for name, test in FACEID_WORK if test(leaf, dso, chain))
    return step, work


def faceid_table(frames_iter, requests, hz, name, per_call_ms=None):
    """Prints the table. With per_call_ms (the CPU per call of the same run without perf), a last
    column spreads that figure over the buckets in proportion to their samples; start-up and
    connection set-up are excluded from the proportion (the timed loop excludes them too)."""
    counts, total = {}, 0
    for fr in frames_iter:
        k = classify_faceid(fr)
        counts[k] = counts.get(k, 0) + 1
        total += 1
    if not total:
        sys.exit("perf_buckets: no samples")
    per_pass = {}
    for (step, _), n in counts.items():
        per_pass[step] = per_pass.get(step, 0) + n
    setup = sum(n for p, n in per_pass.items() if p.startswith(("process start-up", "connection set-up")))
    scale = per_call_ms / (total - setup) if per_call_ms and total > setup else None

    def row(label, n, bold=False):
        b = "**" if bold else ""
        cells = [label, f"{100 * n / total:.1f}%", f"{n / hz / requests * 1e3:.2f}"]
        if scale:
            cells.append(f"{n * scale:.2f}")
        print("| " + " | ".join(f"{b}{c}{b}" for c in cells) + " |")

    extra = f" | CPU ms per call, scaled to {per_call_ms:.2f} without perf" if scale else ""
    print(f"| {name}: where the CPU goes | share | CPU ms per call under perf{extra} |")
    print("|---|---|---|" + ("---|" if scale else ""))
    for step in sorted(per_pass, key=lambda p: -per_pass[p]):
        row(step, per_pass[step], bold=True)
        for (st, work), n in sorted(counts.items(), key=lambda kv: -kv[1]):
            if st == step and n / total >= 0.003:
                row(f"{step}: {work}", n)
    row(f"total ({total} samples at {hz:g} Hz, {requests:g} calls)", total, bold=True)


def samples(lines):
    frames = []
    in_sample = False
    for line in lines:
        if not line.strip():
            if in_sample:
                yield frames
            frames, in_sample = [], False
            continue
        if not line.startswith((" ", "\t")):
            in_sample = True  # header: comm ...
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        rest = parts[1]
        dso = rest[rest.rfind("(") + 1:rest.rfind(")")] if "(" in rest else "?"
        sym = rest[:rest.rfind("(")].strip() if "(" in rest else rest
        frames.append((sym.split("+0x")[0], dso))
    if in_sample:
        yield frames


def main():
    ap = argparse.ArgumentParser()
    unit = ap.add_mutually_exclusive_group(required=True)
    unit.add_argument("--gb", type=float, help="GB uploaded during the recording (CPU s/GB)")
    unit.add_argument("--requests", type=float, help="requests made during the recording (CPU µs/request; "
                      "splits out the wake-ups of a ping-pong)")
    ap.add_argument("--hz", type=float, required=True, help="sampling frequency of perf record -F")
    ap.add_argument("--name", default="client")
    ap.add_argument("--faceid", action="store_true", help="with --requests: livefour's faceid calls, by pass "
                    "(digest, send) and by work (base64, SHA-256, AES-GCM, file read, socket); needs a recording "
                    "with --call-graph dwarf")
    ap.add_argument("--per-call-ms", type=float, help="with --faceid: the CPU per call measured without perf, "
                    "spread over the buckets in proportion")
    a = ap.parse_args()
    if a.faceid:
        if not a.requests:
            sys.exit("perf_buckets: --faceid needs --requests")
        faceid_table(samples(sys.stdin), a.requests, a.hz, a.name, a.per_call_ms)
        return
    counts = {}
    total = 0
    for fr in samples(sys.stdin):
        b = classify(fr, wakeups=a.requests is not None)
        counts[b] = counts.get(b, 0) + 1
        total += 1
    if not total:
        sys.exit("perf_buckets: no samples")
    per, label = (a.gb, "CPU s/GB") if a.gb else (a.requests / 1e6, "CPU µs/request")
    digits = 3 if a.gb else 1
    print(f"| {a.name}: where the CPU goes | share | {label} |")
    print("|---|---|---|")
    for b, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"| {b} | {100 * n / total:.1f}% | {n / a.hz / per:.{digits}f} |")
    print(f"| **total** ({total} samples at {a.hz:g} Hz) | 100% | {total / a.hz / per:.{digits}f} |")


if __name__ == "__main__":
    main()
