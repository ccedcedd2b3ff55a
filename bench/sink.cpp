// livefour-bench-sink — the server side of the upload benchmarks.
//
// A deliberately small HTTP/1.1 server (epoll + OpenSSL, no Asio, no Beast) whose only job is to
// be cheaper than any client it measures: it reads and discards request bodies, answers a small
// JSON reply only after the last body byte, keeps connections alive, understands Content-Length
// and chunked bodies and `Expect: 100-continue`, and counts what it received so that the harness
// can check every run. HTTP and HTTPS are served on the same port: the first byte of a connection
// tells them apart (0x16 starts a TLS handshake), so one sink serves both schemes of a scenario.
//
// Why not the emulator: it parses multipart, checks signatures and builds verdicts, all of which
// would be measured alongside the client. Why not Asio's ssl::stream: it reads the socket one TLS
// record (~16 KiB) at a time; with read-ahead and a large record-layer buffer OpenSSL reads up to
// --read-buffer bytes per recv, so the sink spends few syscalls per GB.
//
// Replies (every one carries "received", the decoded body bytes of that request):
//   POST /face/livegetfour  {"code":0,"message":"received=N","data":{"validate_data":"1234"},"received":N}
//   POST /   (API 3.0, by X-TC-Action; no TC3 verification, the body is only counted)
//            GetLiveCode: {"Response":{"LiveCode":"1234","RequestId":"sink-K"},"received":N}
//            any other:   {"Response":{"Result":"Success","Description":"received=N","Sim":90.5,
//                          "BestFrameBase64":"","BestFrameList":[],"RequestId":"sink-K"},"received":N}
//   POST anything else {"code":0,"message":"received=N","data":{"live_status":0,"live_msg":"received=N"},"received":N}
//   A target under /close/ is answered with `Connection: close` and the connection is closed.
//   GET  /stats             {"requests":..,"body_bytes":..,"connections":..,"tls_handshakes":..,"tls_resumed":..,...}
//
// Usage: livefour-bench-sink --cert server.pem --key server.key [--host 127.0.0.1] [--port 0]
//                            [--threads 1] [--read-buffer 262144]
//        livefour-bench-sink --loopback-test WRITE_BYTES TOTAL_MIB   (machine fact: loopback TCP)
// Prints "listening on HOST:PORT" once ready; SIGTERM/SIGINT end it.
#include "sink_http.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using sink::conn;
using sink::feed;
using sink::stats;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "livefour-bench-sink: %s\n", what.c_str());
    ERR_print_errors_fp(stderr);
    std::exit(1);
}

/// Unsent reply bytes above which a connection is not read from.
constexpr std::size_t kMaxBacklog = 1u << 20;

struct worker {
    int ep = -1;
    int listener = -1;
    SSL_CTX* tls = nullptr;
    std::vector<char> buf;

    void set_interest(conn& c) {
        // A client that pipelines requests without reading the replies is not read from until it
        // has taken some of them (no busy loop on a readable socket that read_all refuses).
        const bool backlog = c.out.size() - c.out_off > kMaxBacklog;
        std::uint32_t want = backlog ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP;
        if (c.out_off < c.out.size() || c.tls_wants_write) want |= EPOLLOUT;
        if (want == c.events) return;
        epoll_event ev{};
        ev.events = want;
        ev.data.ptr = &c;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.events = want;
    }

    /// Writes pending response bytes; false on a fatal error.
    bool flush(conn& c) {
        while (c.out_off < c.out.size()) {
            const char* p = c.out.data() + c.out_off;
            const std::size_t n = c.out.size() - c.out_off;
            if (c.ssl) {
                std::size_t w = 0;
                if (SSL_write_ex(c.ssl, p, n, &w) == 1) {
                    c.out_off += w;
                    continue;
                }
                int e = SSL_get_error(c.ssl, 0);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return true;
                return false;
            }
            ssize_t w = ::send(c.fd, p, n, MSG_NOSIGNAL);
            if (w > 0) {
                c.out_off += static_cast<std::size_t>(w);
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR)) return true;
            return false;
        }
        c.out.clear();
        c.out_off = 0;
        if (c.close_after_write) return false;
        return true;
    }

    /// Reads whatever is available; false when the connection is over.
    bool read_all(conn& c) {
        if (!c.sniffed) {
            unsigned char first = 0;
            ssize_t r = ::recv(c.fd, &first, 1, MSG_PEEK);
            if (r == 0) return false;
            if (r < 0) return errno == EAGAIN || errno == EINTR;
            c.sniffed = true;
            if (first == 0x16) {
                if (!tls) return false;
                c.ssl = SSL_new(tls);
                SSL_set_fd(c.ssl, c.fd);
                SSL_set_accept_state(c.ssl);
            }
        }
        for (;;) {
            if (c.out.size() - c.out_off > kMaxBacklog) return true;  // let the client read first
            if (c.ssl) {
                c.tls_wants_write = false;
                if (!c.handshaken) {
                    int r = SSL_do_handshake(c.ssl);
                    if (r != 1) {
                        int e = SSL_get_error(c.ssl, r);
                        if (e == SSL_ERROR_WANT_READ) return true;
                        if (e == SSL_ERROR_WANT_WRITE) {
                            c.tls_wants_write = true;
                            return true;
                        }
                        return false;
                    }
                    c.handshaken = true;
                    stats.tls_handshakes.fetch_add(1, std::memory_order_relaxed);
                    if (SSL_session_reused(c.ssl)) stats.tls_resumed.fetch_add(1, std::memory_order_relaxed);
                }
                std::size_t n = 0;
                if (SSL_read_ex(c.ssl, buf.data(), buf.size(), &n) == 1) {
                    if (!feed(c, buf.data(), n)) return flush(c) && false;
                    continue;
                }
                int e = SSL_get_error(c.ssl, 0);
                if (e == SSL_ERROR_WANT_READ) return true;
                if (e == SSL_ERROR_WANT_WRITE) {
                    c.tls_wants_write = true;
                    return true;
                }
                return false;  // close_notify, EOF, reset or a TLS error
            }
            ssize_t r = ::recv(c.fd, buf.data(), buf.size(), 0);
            if (r > 0) {
                if (!feed(c, buf.data(), static_cast<std::size_t>(r))) return flush(c) && false;
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) return true;
            return false;
        }
    }

    void accept_all() {
        for (;;) {
            int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;  // EAGAIN, or another worker won the race
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            auto* c = new conn;
            c->fd = fd;
            c->events = EPOLLIN | EPOLLRDHUP;
            epoll_event ev{};
            ev.events = c->events;
            ev.data.ptr = c;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
                delete c;
                continue;
            }
            stats.connections.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void run() {
        std::vector<epoll_event> events(256);
        for (;;) {
            int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait failed");
            }
            for (int i = 0; i < n; ++i) {
                if (events[i].data.ptr == nullptr) {
                    accept_all();
                    continue;
                }
                auto* c = static_cast<conn*>(events[i].data.ptr);
                bool ok = flush(*c) && read_all(*c) && flush(*c);
                if (!ok) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
                    delete c;
                    continue;
                }
                set_interest(*c);
            }
        }
    }
};

SSL_CTX* make_tls(const std::string& cert, const std::string& key, std::size_t read_buffer) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) die("cannot load " + cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) die("cannot load " + key);
    // Clients close pooled connections without close_notify: that is an EOF, not an error.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // Few, large recv calls: OpenSSL reads ahead into a record-layer buffer of this size.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, read_buffer);
    static const unsigned char sid[] = "livefour-bench-sink";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    return ctx;
}

/// Machine fact: how fast one loopback TCP stream moves with writes of a given size.
int loopback_test(std::size_t write_size, std::uint64_t total) {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        die("loopback listen failed");
    std::thread reader([l] {
        int s = ::accept(l, nullptr, nullptr);
        std::vector<char> b(1 << 20);
        while (::recv(s, b.data(), b.size(), 0) > 0) {
        }
        ::close(s);
    });
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("loopback connect failed");
    std::vector<char> b(write_size, 'x');
    rusage r0{}, r1{};
    getrusage(RUSAGE_THREAD, &r0);
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t sent = 0, calls = 0;
    while (sent < total) {
        ssize_t w = ::send(s, b.data(), std::min<std::uint64_t>(b.size(), total - sent), 0);
        if (w <= 0) die("loopback send failed");
        sent += static_cast<std::uint64_t>(w);
        ++calls;
    }
    auto t1 = std::chrono::steady_clock::now();
    getrusage(RUSAGE_THREAD, &r1);
    ::shutdown(s, SHUT_WR);
    reader.join();
    ::close(s);
    ::close(l);
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    const double cpu = tv(r1.ru_utime) - tv(r0.ru_utime) + tv(r1.ru_stime) - tv(r0.ru_stime);
    std::printf(
        "{\"write_bytes\":%zu,\"bytes\":%llu,\"seconds\":%.6f,\"gb_per_s\":%.4f,\"writer_cpu_s_per_gb\":%.4f,"
        "\"calls\":%llu}\n",
        write_size, (unsigned long long)sent, secs, sent / secs / 1e9, cpu / (sent / 1e9), (unsigned long long)calls);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", cert, key;
    int port = 0, threads = 1;
    std::size_t read_buffer = 256 * 1024;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--host")
            host = next();
        else if (a == "--port")
            port = std::stoi(next());
        else if (a == "--cert")
            cert = next();
        else if (a == "--key")
            key = next();
        else if (a == "--threads")
            threads = std::max(1, std::stoi(next()));
        else if (a == "--read-buffer")
            read_buffer = std::stoul(next());
        else if (a == "--loopback-test") {
            std::size_t w = std::stoul(next());
            std::uint64_t mib = std::stoull(next());
            return loopback_test(w, mib << 20);
        } else
            die("unknown argument " + a);
    }
    if (cert.empty() != key.empty()) die("--cert and --key go together");
    ::signal(SIGPIPE, SIG_IGN);
    // 1,000 concurrent uploads need more descriptors than the common soft limit of 1,024.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    SSL_CTX* tls = cert.empty() ? nullptr : make_tls(cert, key, read_buffer);

    int l = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) die("bad --host " + host);
    socklen_t len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 4096) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        die("cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));

    std::vector<std::unique_ptr<worker>> workers;
    for (int t = 0; t < threads; ++t) {
        auto w = std::make_unique<worker>();
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->listener = l;
        w->tls = tls;
        w->buf.resize(std::max<std::size_t>(read_buffer, 64 * 1024));
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.ptr = nullptr;
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, l, &ev) != 0) die("epoll_ctl(listener) failed");
        workers.push_back(std::move(w));
    }
    std::printf("listening on %s:%u\n", host.c_str(), ntohs(a.sin_port));
    std::fflush(stdout);

    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < workers.size(); ++t) pool.emplace_back([w = workers[t].get()] { w->run(); });
    workers[0]->run();
}
