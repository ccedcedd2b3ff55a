// livefour-bench-sink: HTTP/1.1 request parsing and replies (see sink_http.hpp).
#include "sink_http.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace sink {

counters stats;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return true;
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string stats_json() {
    char b[512];
    std::snprintf(b, sizeof b,
                  "{\"requests\":%llu,\"body_bytes\":%llu,\"connections\":%llu,\"tls_handshakes\":%llu,"
                  "\"tls_resumed\":%llu,\"continues\":%llu,\"chunked\":%llu,\"protocol_errors\":%llu,"
                  "\"api3_requests\":%llu}",
                  (unsigned long long)stats.requests.load(), (unsigned long long)stats.body_bytes.load(),
                  (unsigned long long)stats.connections.load(), (unsigned long long)stats.tls_handshakes.load(),
                  (unsigned long long)stats.tls_resumed.load(), (unsigned long long)stats.continues.load(),
                  (unsigned long long)stats.chunked.load(), (unsigned long long)stats.protocol_errors.load(),
                  (unsigned long long)stats.api3_requests.load());
    return b;
}

namespace {

void respond(conn& c, int status, std::string_view reason, const std::string& body) {
    c.out += "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!c.keep_alive) c.out += "Connection: close\r\n";
    c.out += "\r\n";
    c.out += body;
    if (!c.keep_alive) c.close_after_write = true;
}

/// The last body byte arrived: count, answer, and get ready for the next request.
void complete_request(conn& c) {
    stats.requests.fetch_add(1, std::memory_order_relaxed);
    stats.body_bytes.fetch_add(c.received, std::memory_order_relaxed);
    const std::string n = std::to_string(c.received);
    if (c.method == "GET" && c.target == "/stats") {
        respond(c, 200, "OK", stats_json());
    } else if (c.method == "POST" && c.target == "/") {
        // API 3.0 (faceid): nothing is verified, neither the TC3 signature nor the JSON or its
        // base64; the harness checks the body sizes, and a verifying peer checks the bodies once.
        const auto seq = stats.api3_requests.fetch_add(1, std::memory_order_relaxed) + 1;
        const std::string id = "\"RequestId\":\"sink-" + std::to_string(seq) + "\"";
        if (c.action == "GetLiveCode")
            respond(c, 200, "OK", "{\"Response\":{\"LiveCode\":\"1234\"," + id + "},\"received\":" + n + "}");
        else
            respond(c, 200, "OK",
                    "{\"Response\":{\"Result\":\"Success\",\"Description\":\"received=" + n +
                        "\",\"Sim\":90.5,\"BestFrameBase64\":\"\",\"BestFrameList\":[]," + id + "},\"received\":" + n +
                        "}");
    } else if (c.target.ends_with("/livegetfour")) {
        respond(c, 200, "OK",
                "{\"code\":0,\"message\":\"received=" + n +
                    "\",\"data\":{\"validate_data\":\"1234\"},\"received\":" + n + "}");
    } else {
        respond(c, 200, "OK",
                "{\"code\":0,\"message\":\"received=" + n +
                    "\",\"data\":{\"live_status\":0,\"live_msg\":\"received=" + n + "\"},\"received\":" + n + "}");
    }
    c.ph = conn::phase::head;
    c.head.clear();
    c.received = 0;
}

bool protocol_error(conn& c, std::string_view why) {
    stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    c.keep_alive = false;
    respond(c, 400, "Bad Request", "{\"code\":3,\"message\":\"" + std::string(why) + "\"}");
    return false;
}

/// Parses the request line and headers in c.head (which ends with the blank line).
bool parse_head(conn& c) {
    std::string_view h(c.head);
    auto eol = h.find("\r\n");
    std::string_view line = h.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return protocol_error(c, "bad request line");
    c.method = std::string(line.substr(0, sp1));
    c.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::string_view version = line.substr(sp2 + 1);
    c.keep_alive = version == "HTTP/1.1";
    c.action.clear();
    bool chunked = false, expect_continue = false, have_length = false;
    std::uint64_t length = 0;
    std::size_t pos = eol + 2;
    while (pos < h.size()) {
        auto e = h.find("\r\n", pos);
        if (e == std::string_view::npos || e == pos) break;
        std::string_view field = h.substr(pos, e - pos);
        pos = e + 2;
        auto colon = field.find(':');
        if (colon == std::string_view::npos) return protocol_error(c, "bad header line");
        std::string_view name = field.substr(0, colon), value = trim(field.substr(colon + 1));
        if (iequals(name, "content-length")) {
            length = 0;
            if (value.empty()) return protocol_error(c, "bad content-length");
            for (char ch : value) {
                if (ch < '0' || ch > '9') return protocol_error(c, "bad content-length");
                length = length * 10 + static_cast<unsigned>(ch - '0');
            }
            have_length = true;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = icontains(value, "chunked");
        } else if (iequals(name, "x-tc-action")) {
            c.action = std::string(value);
        } else if (iequals(name, "expect")) {
            expect_continue = iequals(value, "100-continue");
        } else if (iequals(name, "connection")) {
            if (icontains(value, "close"))
                c.keep_alive = false;
            else if (icontains(value, "keep-alive"))
                c.keep_alive = true;
        }
    }
    // A target under /close/ asks for a new connection per request (what a server that does not
    // keep connections does): the way to measure a client's reconnects and session resumption.
    if (c.target.rfind("/close/", 0) == 0) c.keep_alive = false;
    if (expect_continue) {
        stats.continues.fetch_add(1, std::memory_order_relaxed);
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
    }
    c.received = 0;
    c.head.clear();
    if (chunked) {
        stats.chunked.fetch_add(1, std::memory_order_relaxed);
        c.ph = conn::phase::chunk_size;
    } else if (have_length && length > 0) {
        c.remaining = length;
        c.ph = conn::phase::body;
    } else {
        complete_request(c);
    }
    return true;
}

}  // namespace

bool feed(conn& c, const char* p, std::size_t n) {
    while (n > 0) {
        switch (c.ph) {
        case conn::phase::head: {
            const std::size_t old = c.head.size();
            c.head.append(p, n);
            auto end = c.head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
            if (end == std::string::npos) {
                if (c.head.size() > 64 * 1024) return protocol_error(c, "header too large");
                return true;
            }
            const std::size_t used = end + 4 - old;
            c.head.resize(end + 4);
            p += used;
            n -= used;
            if (!parse_head(c)) return false;
            break;
        }
        case conn::phase::body: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, c.remaining));
            c.received += take;
            c.remaining -= take;
            p += take;
            n -= take;
            if (c.remaining == 0) complete_request(c);
            break;
        }
        case conn::phase::chunk_size:
        case conn::phase::trailer: {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
            const std::size_t take = nl ? static_cast<std::size_t>(nl - p) + 1 : n;
            c.head.append(p, take);
            p += take;
            n -= take;
            if (!nl) {
                if (c.head.size() > 4096) return protocol_error(c, "chunk line too long");
                break;
            }
            std::string_view line = trim(std::string_view(c.head).substr(0, c.head.size() - 1));
            if (c.ph == conn::phase::trailer) {
                c.head.clear();
                if (line.empty()) complete_request(c);
                break;
            }
            line = line.substr(0, line.find(';'));
            if (line.empty() || line.size() > 15) return protocol_error(c, "bad chunk size");
            std::uint64_t size = 0;
            for (char ch : line) {
                int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                        : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                        : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                                   : -1;
                if (d < 0) return protocol_error(c, "bad chunk size");
                size = size * 16 + static_cast<unsigned>(d);
            }
            c.head.clear();
            if (size == 0) {
                c.ph = conn::phase::trailer;
            } else {
                c.remaining = size;
                c.ph = conn::phase::chunk_data;
            }
            break;
        }
        case conn::phase::chunk_data: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, c.remaining));
            c.received += take;
            c.remaining -= take;
            p += take;
            n -= take;
            if (c.remaining == 0) {
                c.ph = conn::phase::chunk_crlf;
                c.remaining = 2;
            }
            break;
        }
        case conn::phase::chunk_crlf: {
            const char expect = c.remaining == 2 ? '\r' : '\n';
            if (*p != expect) return protocol_error(c, "missing CRLF after chunk");
            ++p;
            --n;
            if (--c.remaining == 0) c.ph = conn::phase::chunk_size;
            break;
        }
        }
    }
    return true;
}

}  // namespace sink
