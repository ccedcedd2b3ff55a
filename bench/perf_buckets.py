#!/usr/bin/env python3
"""perf_buckets.py — groups the samples of `perf script` (recorded with -g) into a few buckets that
say where an upload's CPU goes: AES-GCM, the TLS record layer, the kernel's socket send path,
file reads, event loop and timers, memory copies, allocation, and the client's own code.

    perf script -i X.data -F comm,dso,sym,ip | python3 perf_buckets.py --gb 0.52 --hz 2000 --name livefour
    perf script -i Y.data -F comm,dso,sym,ip | python3 perf_buckets.py --requests 20000 --hz 2000 --name livefour

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
    a = ap.parse_args()
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
