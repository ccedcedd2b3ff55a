// livefour-bench-sink: the HTTP/1.1 side — connection state, request parsing, replies and the
// counters behind GET /stats. No I/O here: sink.cpp reads bytes (plain or TLS) and feeds them in,
// and writes out whatever a connection has queued in `out`.
#pragma once

#include <openssl/ssl.h>

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sink {

/// What the sink has seen since it started (GET /stats).
struct counters {
    std::atomic<std::uint64_t> requests{0}, body_bytes{0}, connections{0}, tls_handshakes{0}, tls_resumed{0},
        continues{0}, chunked{0}, protocol_errors{0}, api3_requests{0};
};
extern counters stats;

/// One client connection and the state of the request being read on it.
struct conn {
    enum class phase { head, body, chunk_size, chunk_data, chunk_crlf, trailer };

    int fd = -1;
    SSL* ssl = nullptr;
    bool sniffed = false;
    bool handshaken = false;
    bool dead = false;
    bool close_after_write = false;
    bool tls_wants_write = false;  // the handshake or a read is blocked on writing
    std::uint32_t events = 0;      // epoll interest currently registered

    phase ph = phase::head;
    std::string head;             // header bytes, or the current chunk-size / trailer line
    std::uint64_t remaining = 0;  // body bytes (Content-Length) or chunk bytes left
    std::uint64_t received = 0;   // decoded body bytes of the current request
    std::string method, target;
    std::string action;  // X-TC-Action of an API 3.0 request (POST /), else empty
    bool keep_alive = true;

    std::string out;  // response bytes not yet written
    std::size_t out_off = 0;

    ~conn() {
        if (ssl) SSL_free(ssl);
        if (fd >= 0) ::close(fd);
    }
};

/// The counters as the JSON object GET /stats answers.
std::string stats_json();

/// Consumes received bytes: headers, then the body (Content-Length or chunked), which is
/// discarded; queues `100 Continue` and the reply in c.out. Returns false when the connection
/// must end after the pending write (a protocol error, answered with 400).
bool feed(conn& c, const char* p, std::size_t n);

}  // namespace sink
