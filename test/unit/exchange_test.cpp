// The exchange without a network: exchange_algo driven step by step, every write, writability
// wait and read failed in turn over several request and response shapes (the technique of
// Boost.MySQL's sans-io tests), and run_exchange() over Beast's test::stream with a fail_count
// (the technique of Beast's own tests). Every failure must surface as the documented error, say
// how far the request got, and leave the connection unusable.
#include <doctest/doctest.h>

#include "../../src/exchange.hpp"

#include <livefour/multipart.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using livefour::client_error;
using livefour::error_code;
using livefour::detail::exchange_algo;
using livefour::detail::request_type;

namespace {

using action = exchange_algo::action;

/// One request shape: how its body is made and framed. Each call makes a fresh, prepared request.
struct request_shape {
    const char* name;
    std::size_t body_bytes;  // 0: no body
    bool multipart = false;  // else a JSON string in memory
    bool chunked = false;
    bool from_file = false;
};

constexpr request_shape request_shapes[] = {
    {"no body", 0},
    {"small JSON", 40},
    {"multipart, 300 KB video in memory, Content-Length", 300'000, true},
    {"multipart, 300 KB video in memory, chunked", 300'000, true, true},
    {"multipart, 100 KB video from a file", 100'000, true, false, true},
};

std::string video_bytes(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
    return s;
}

const std::string& video_file() {
    static const std::string path = [] {
        std::string p = "/tmp/livefour-exchange-test-" + std::to_string(::getpid()) + ".mp4";
        std::ofstream(p, std::ios::binary) << video_bytes(100'000);
        return p;
    }();
    return path;
}

request_type make_request(const request_shape& s) {
    request_type req{http::verb::post, "/face/livedetectfour", 11};
    req.set(http::field::host, "127.0.0.1:443");
    req.set(http::field::user_agent, "livefour-test");
    if (s.body_bytes == 0) {
        req.content_length(std::uint64_t{0});
        return req;
    }
    std::shared_ptr<livefour::detail::body_encoding> body;
    if (s.multipart) {
        auto form = std::make_shared<livefour::multipart_form>("boundary-of-the-exchange-test");
        form->add_field("validate_data", "1234");
        form->add_file("video", s.from_file ? livefour::body_source::file(video_file())
                                            : livefour::body_source::memory(video_bytes(s.body_bytes), "v.mp4"));
        form->write_buffer_size = 16 * 1024;  // many writes
        body = livefour::detail::make_multipart_encoding(std::move(form));
    } else {
        body = livefour::detail::make_memory_encoding(std::string(s.body_bytes, 'j'), "application/json");
    }
    REQUIRE_FALSE(body->prepare());
    req.set(http::field::content_type, body->content_type());
    if (s.chunked)
        req.chunked(true);
    else
        req.content_length(*body->content_length());
    req.body() = std::move(body);
    return req;
}

/// The reply shapes: sized, and an interim 100 Continue followed by a chunked reply.
constexpr const char* responses[] = {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n"
    "{\"code\":0,\"message\":\"OK\"}\n",
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1a\r\n{\"code\":0,\"message\":\"OK\"}\n\r\n0\r\n\r\n",
};
constexpr const char* expected_body = "{\"code\":0,\"message\":\"OK\"}\n";

/// What one drive of the algorithm did.
struct drive_result {
    livefour::detail::exchange_result r;
    std::string written;
    std::vector<action> steps;
    std::uint64_t progress = 0;
    std::uint64_t header_size = 0;
    bool failed_before_full_send = false;  // the injected failure hit a write or a wait
    std::size_t response_bytes_before_failure = 0;
};

/// Runs the algorithm against an in-memory peer: writes take at most `write_cap` bytes, reads
/// deliver `slice` bytes of `response` then EOF. Step `fail_at` (0-based over every I/O step)
/// fails with `fail_ec` instead.
drive_result drive(const request_shape& shape, bool tls, std::string_view response, int fail_at, error_code fail_ec,
                   std::size_t write_cap = 10'000, std::size_t slice = 7) {
    drive_result d;
    auto req = make_request(shape);
    beast::flat_buffer buffer;
    const std::function<void(std::uint64_t)> progress = [&d](std::uint64_t n) { d.progress += n; };
    exchange_algo algo(req, buffer, {16 * 1024, 4 * 1024 * 1024}, tls, progress);
    d.header_size = algo.header_size();
    error_code ec;
    std::size_t n = 0, pos = 0;
    for (int step = 0;; ++step) {
        const auto what = algo.resume(ec, n);
        REQUIRE(d.steps.size() < 100'000);
        ec = {};
        n = 0;
        if (what == action::done) break;
        d.steps.push_back(what);
        const bool fail = step == fail_at;
        if (fail) {
            ec = fail_ec;
            d.failed_before_full_send = what != action::read;
            d.response_bytes_before_failure = pos;
            continue;
        }
        switch (what) {
        case action::write:
            for (const auto& b : algo.write_buffers()) {
                const auto take = std::min(b.size(), write_cap - n);
                d.written.append(static_cast<const char*>(b.data()), take);
                n += take;
                if (n == write_cap) break;
            }
            break;
        case action::wait_writable: break;
        case action::read: {
            if (pos == response.size()) {
                ec = asio::error::eof;
                break;
            }
            const auto room = algo.read_buffer();
            n = std::min({slice, room.size(), response.size() - pos});
            std::memcpy(room.data(), response.data() + pos, n);
            pos += n;
            break;
        }
        case action::done: break;
        }
    }
    d.r = std::move(algo.result());
    return d;
}

/// Beast's own serialization of the same request: the bytes the algorithm must have written.
std::string beast_serialization(const request_shape& shape) {
    auto req = make_request(shape);
    std::ostringstream os;
    os << req;
    return os.str();
}

/// What a failure injected at a step must become.
error_code expected_error(const error_code& injected, bool during_write) {
    if (injected == beast::error::timeout) return client_error::stall_timeout;
    if (!during_write && injected == asio::error::eof) return client_error::connection_closed;
    return injected;
}

}  // namespace

TEST_CASE("exchange: a clean run writes exactly Beast's serialization and reads the reply") {
    for (const auto& shape : request_shapes) {
        for (const bool tls : {false, true}) {
            for (const auto* response : responses) {
                CAPTURE(shape.name);
                CAPTURE(tls);
                const auto d = drive(shape, tls, response, -1, {});
                REQUIRE_FALSE(d.r.ec);
                CHECK(d.r.status == 200);
                CHECK(d.r.body == expected_body);
                CHECK(d.r.keep_alive);
                CHECK(d.r.request_fully_sent);
                CHECK(d.r.response_started);
                CHECK(d.written == beast_serialization(shape));
                CHECK(d.r.bytes_sent == d.written.size());
                // The header size is what Beast writes before the body; body progress is the rest.
                CHECK(d.header_size == d.written.find("\r\n\r\n") + 4);
                CHECK(d.progress == d.written.size() - d.header_size);
                // Over TLS every body buffer after the first waits for a writable socket.
                std::size_t waits = 0, writes = 0;
                for (auto s : d.steps) {
                    waits += s == action::wait_writable;
                    writes += s == action::write;
                }
                CHECK(waits == (tls ? writes - 1 : 0));
            }
        }
    }
}

TEST_CASE("exchange: every write, wait and read failed in turn surfaces as its documented error") {
    const error_code injected[] = {asio::error::connection_reset, beast::error::timeout, asio::error::operation_aborted,
                                   asio::error::eof};
    int failure_points = 0, shapes = 0;
    for (const auto& shape : request_shapes) {
        for (const bool tls : {false, true}) {
            for (const auto* response : responses) {
                ++shapes;
                const auto clean = drive(shape, tls, response, -1, {});
                REQUIRE_FALSE(clean.r.ec);
                const int steps = static_cast<int>(clean.steps.size());
                for (int k = 0; k < steps; ++k) {
                    for (const auto& ec : injected) {
                        CAPTURE(shape.name);
                        CAPTURE(tls);
                        CAPTURE(k);
                        CAPTURE(ec.message());
                        const auto d = drive(shape, tls, response, k, ec);
                        ++failure_points;
                        REQUIRE(d.r.ec);
                        CHECK(d.r.ec == expected_error(ec, d.failed_before_full_send));
                        CHECK(d.r.request_fully_sent == !d.failed_before_full_send);
                        CHECK(d.r.response_started == (d.response_bytes_before_failure > 0));
                        // Whatever failed, the connection is in an unknown state: never reused.
                        CHECK(livefour::is_fatal_for_connection(d.r.ec));
                        CHECK(d.r.body.empty());
                    }
                }
            }
        }
    }
    MESSAGE("exchange: " << failure_points << " failure points (4 errors at each of every shape's I/O steps) over "
                         << shapes << " request/reply shapes, all classified");
    CHECK(failure_points > 1000);
}

TEST_CASE("exchange: replies the reader refuses are errors of their own") {
    const request_shape& shape = request_shapes[1];
    struct bad_reply {
        std::string bytes;
        client_error expected;
    };
    const bad_reply bad[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", client_error::connection_closed},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n", client_error::response_too_large},
        {"HTTP/1.1 200 OK\r\nX-Pad: " + std::string(20'000, 'p') + "\r\n\r\n", client_error::header_too_large},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(90'000, 'e'),
         client_error::header_too_large},
        {"", client_error::connection_closed},
    };
    for (const auto& b : bad) {
        CAPTURE(b.bytes.substr(0, 60));
        const auto d = drive(shape, false, b.bytes, -1, {}, 10'000, 4096);
        CHECK(d.r.ec == b.expected);
        CHECK(d.r.request_fully_sent);
    }
    // A reply delimited by the close is complete at EOF.
    const auto d = drive(shape, false, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"code\":0}", -1, {});
    CHECK_FALSE(d.r.ec);
    CHECK(d.r.body == "{\"code\":0}");
    CHECK_FALSE(d.r.keep_alive);
}

namespace {

/// run_exchange's Io for test::stream: no timers, always writable.
struct test_io {
    void arm() {}
    std::chrono::milliseconds stall() const noexcept { return std::chrono::milliseconds(0); }
    asio::awaitable<error_code> wait_writable() { co_return error_code{}; }
    void after_write() {}
    void after_response() {}
};

}  // namespace

TEST_CASE("exchange: run_exchange over Beast's test::stream, each operation failed in turn (fail_count)") {
    int failures = 0;
    for (const auto& shape : request_shapes) {
        for (const auto* response : responses) {
            for (int n = 0;; ++n) {
                REQUIRE(n < 10'000);
                asio::io_context ioc;
                beast::test::fail_count fc(n);
                beast::test::stream client(ioc, fc);
                beast::test::stream server(ioc);
                client.connect(server);
                client.append(response);
                client.read_size(11);     // partial reads
                client.write_size(9000);  // partial writes
                auto req = make_request(shape);
                beast::flat_buffer buffer;
                const std::function<void(std::uint64_t)> no_progress;
                exchange_algo algo(req, buffer, {16 * 1024, 4 * 1024 * 1024}, false, no_progress);
                test_io io;
                std::optional<livefour::detail::exchange_result> out;
                asio::co_spawn(ioc, livefour::detail::run_exchange(client, io, algo),
                               [&](std::exception_ptr e, livefour::detail::exchange_result r) {
                                   REQUIRE_FALSE(e);
                                   out = std::move(r);
                               });
                ioc.run();
                REQUIRE(out);
                if (!out->ec) {
                    CHECK(out->status == 200);
                    CHECK(out->body == expected_body);
                    CHECK(server.str() == beast_serialization(shape));
                    break;  // n operations succeed: every one of them was failed once
                }
                ++failures;
                CAPTURE(shape.name);
                CAPTURE(n);
                CHECK(out->ec == beast::test::error::test_failure);
                CHECK(livefour::is_fatal_for_connection(out->ec));
            }
        }
    }
    MESSAGE("run_exchange: " << failures << " stream operations failed in turn");
}

namespace {

/// Drives a request with `Expect: 100-continue` against a peer that sends `answer` once the header
/// is in, or says nothing (`answer` empty: the wait times out). Returns what went out and the result.
drive_result drive_expect(std::string_view answer, std::string_view after_body = responses[0],
                          std::size_t pause_at = std::string_view::npos) {
    drive_result d;
    auto req = make_request(request_shapes[2]);  // 300 KB of multipart
    req.set(http::field::expect, "100-continue");
    beast::flat_buffer buffer;
    const std::function<void(std::uint64_t)> progress = [&d](std::uint64_t n) { d.progress += n; };
    livefour::detail::exchange_limits limits;
    limits.continue_wait = std::chrono::milliseconds(1000);
    exchange_algo algo(req, buffer, limits, false, progress);
    d.header_size = algo.header_size();
    std::string peer(answer);
    bool header_seen = false, body_answered = false;
    std::size_t pos = 0;
    error_code ec;
    std::size_t n = 0;
    for (;;) {
        const auto what = algo.resume(ec, n);
        ec = {};
        n = 0;
        if (what == action::done) break;
        d.steps.push_back(what);
        REQUIRE(d.steps.size() < 10'000);
        switch (what) {
        case action::write:
            for (const auto& b : algo.write_buffers()) d.written.append(static_cast<const char*>(b.data()), b.size());
            for (const auto& b : algo.write_buffers()) n += b.size();
            header_seen = true;
            break;
        case action::read_continue:
            REQUIRE(header_seen);
            CHECK(algo.continue_wait() == std::chrono::milliseconds(1000));
            if (pos == peer.size() || pos == pause_at) {
                pause_at = std::string_view::npos;  // the peer pauses there once
                ec = asio::error::timed_out;        // the runner's timer: nothing came in time
                break;
            }
            [[fallthrough]];
        case action::read: {
            if (pos == peer.size() && !body_answered) {
                // The body is all in: the peer answers it.
                peer += after_body;
                body_answered = true;
            }
            if (pos == peer.size()) {
                ec = asio::error::eof;
                break;
            }
            const auto room = algo.read_buffer();
            n = std::min({std::size_t{7}, room.size(), peer.size() - pos});
            std::memcpy(room.data(), peer.data() + pos, n);
            pos += n;
            break;
        }
        case action::wait_writable:
        case action::done: break;
        }
    }
    d.r = std::move(algo.result());
    return d;
}

}  // namespace

TEST_CASE("exchange: Expect: 100-continue sends the header alone, then the body on 100, never on a final reply") {
    const auto full = beast_serialization(request_shapes[2]).size() + std::string("Expect: 100-continue\r\n").size();
    SUBCASE("100 Continue: the body follows, the reply is read") {
        const auto d = drive_expect("HTTP/1.1 100 Continue\r\n\r\n");
        REQUIRE_FALSE(d.r.ec);
        CHECK(d.r.status == 200);
        CHECK(d.r.request_fully_sent);
        CHECK(d.written.size() == full);
        CHECK(d.steps[0] == action::write);
        CHECK(d.steps[1] == action::read_continue);
        CHECK(d.written.find("Expect: 100-continue") != std::string::npos);
    }
    SUBCASE("a final reply instead: the body is never sent, the connection is not reused") {
        const auto d = drive_expect(
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 31\r\n\r\n{\"code\":14,\"message\":\"refused\"}");
        REQUIRE_FALSE(d.r.ec);
        CHECK(d.r.status == 401);
        CHECK(d.r.body == "{\"code\":14,\"message\":\"refused\"}");
        CHECK_FALSE(d.r.request_fully_sent);
        CHECK(d.written.size() == d.header_size);  // the header, not one body byte
        CHECK(d.progress == 0);
        CHECK_FALSE(d.r.keep_alive);
    }
    SUBCASE("a final reply that has begun when the wait ends is read to its end, the body not sent") {
        const std::string refusal =
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 31\r\n\r\n{\"code\":14,\"message\":\"refused\"}";
        const auto d = drive_expect(refusal, responses[0], 14);  // pauses after "HTTP/1.1 401 U"
        REQUIRE_FALSE(d.r.ec);
        CHECK(d.r.status == 401);
        CHECK_FALSE(d.r.request_fully_sent);
        CHECK(d.written.size() == d.header_size);
        CHECK_FALSE(d.r.keep_alive);
    }
    SUBCASE("silence: after continue_wait the body goes out anyway") {
        const auto d = drive_expect("");
        REQUIRE_FALSE(d.r.ec);
        CHECK(d.r.status == 200);
        CHECK(d.written.size() == full);
    }
}

namespace {

/// An async source over bytes in memory that completes each read inline with at most `chunk`
/// bytes, or fails after `fail_after` bytes.
struct memory_async_source : livefour::async_byte_source {
    std::string data;
    std::size_t chunk;
    std::optional<std::uint64_t> declared;
    std::size_t fail_after = SIZE_MAX;
    std::size_t pos = 0;
    int reads = 0;
    memory_async_source(std::string d, std::size_t c, bool sized)
        : data(std::move(d)), chunk(c), declared(sized ? std::optional<std::uint64_t>(data.size()) : std::nullopt) {}
    std::optional<std::uint64_t> size() const override { return declared; }
    void async_read_some(asio::mutable_buffer b, read_handler h) override {
        ++reads;
        if (pos >= fail_after) return std::move(h)(asio::error::connection_reset, 0);
        const auto n = std::min({b.size(), chunk, data.size() - pos});
        std::memcpy(b.data(), data.data() + pos, n);
        pos += n;
        std::move(h)(error_code{}, n);
    }
};

/// Drives `req` whose body has an async source; reads complete inline (the sans-io loop).
drive_result drive_async(request_type& req, std::string_view response = responses[0]) {
    drive_result d;
    beast::flat_buffer buffer;
    const std::function<void(std::uint64_t)> progress = [&d](std::uint64_t n) { d.progress += n; };
    livefour::detail::exchange_limits limits;
    limits.fill_size = 16 * 1024;
    exchange_algo algo(req, buffer, limits, true, progress);
    std::size_t pos = 0;
    error_code ec;
    std::size_t n = 0;
    for (;;) {
        const auto what = algo.resume(ec, n);
        ec = {};
        n = 0;
        if (what == action::done) break;
        d.steps.push_back(what);
        REQUIRE(d.steps.size() < 100'000);
        switch (what) {
        case action::write:
            for (const auto& b : algo.write_buffers()) {
                d.written.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            break;
        case action::fill:
            algo.fill_source().async_read_some(
                algo.fill_buffer(), livefour::async_byte_source::read_handler([&](error_code e, std::size_t k) {
                    ec = e;
                    n = k;
                }));
            break;
        case action::read: {
            if (pos == response.size()) {
                ec = asio::error::eof;
                break;
            }
            const auto room = algo.read_buffer();
            n = std::min({room.size(), response.size() - pos});
            std::memcpy(room.data(), response.data() + pos, n);
            pos += n;
            break;
        }
        default: break;
        }
    }
    d.r = std::move(algo.result());
    return d;
}

/// `wire` (one whole request) parsed, its chunked body decoded.
http::request<http::string_body> parse_request(const std::string& wire) {
    http::request_parser<http::string_body> p;
    p.body_limit(boost::none);
    p.eager(true);
    error_code ec;
    const auto used = p.put(asio::buffer(wire), ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    CHECK(used == wire.size());
    CHECK(p.is_done());
    return p.release();
}

request_type async_multipart_request(std::shared_ptr<memory_async_source> src, bool chunked) {
    request_type req{http::verb::post, "/face/livedetectfour", 11};
    req.set(http::field::host, "127.0.0.1:443");
    auto form = std::make_shared<livefour::multipart_form>("boundary-of-the-exchange-test");
    form->add_field("validate_data", "1234");
    form->add_file("video", livefour::body_source::async(std::move(src), "v.mp4"));
    form->write_buffer_size = 16 * 1024;
    auto body = livefour::detail::make_multipart_encoding(std::move(form));
    REQUIRE_FALSE(body->prepare());
    req.set(http::field::content_type, body->content_type());
    if (chunked)
        req.chunked(true);
    else
        req.content_length(*body->content_length());
    req.body() = std::move(body);
    return req;
}

}  // namespace

TEST_CASE("exchange: an async source is read one buffer at a time while the request is sent, byte-exact") {
    for (const bool sized : {true, false}) {
        for (const std::size_t chunk : {1000, 16 * 1024, 100'000}) {
            CAPTURE(sized);
            CAPTURE(chunk);
            auto src = std::make_shared<memory_async_source>(video_bytes(300'000), chunk, sized);
            auto req = async_multipart_request(src, !sized);
            const auto d = drive_async(req);
            REQUIRE_MESSAGE(!d.r.ec, d.r.ec.message());
            CHECK(d.r.status == 200);
            CHECK(d.r.request_fully_sent);
            // The same bytes as the same form with the video in memory.
            auto mem = std::make_shared<livefour::multipart_form>("boundary-of-the-exchange-test");
            mem->add_field("validate_data", "1234");
            mem->add_file("video", livefour::body_source::memory(video_bytes(300'000), "v.mp4"));
            REQUIRE_FALSE(mem->prepare());
            request_type ref{http::verb::post, "/face/livedetectfour", 11};
            ref.set(http::field::host, "127.0.0.1:443");
            auto enc = livefour::detail::make_multipart_encoding(mem);
            REQUIRE_FALSE(enc->prepare());
            ref.set(http::field::content_type, enc->content_type());
            if (sized)
                ref.content_length(*enc->content_length());
            else
                ref.chunked(true);
            ref.body() = enc;
            std::ostringstream os;
            os << ref;
            if (sized) {
                CHECK(d.written.size() == os.str().size());
                CHECK(d.written == os.str());
            } else {
                // Chunk boundaries follow the buffers each side produced: compare what they carry.
                const auto a = parse_request(d.written), b = parse_request(os.str());
                CHECK(a.chunked());
                CHECK(a[http::field::content_type] == b[http::field::content_type]);
                CHECK(a.body().size() == b.body().size());
                CHECK(a.body() == b.body());
            }
            // Backpressure: never more read ahead than one fill (16 KiB) before it is written.
            std::size_t fills = 0;
            for (auto s : d.steps) fills += s == action::fill;
            CHECK(fills >= 300'000 / (16 * 1024));
            CHECK_FALSE(req.body()->rewindable());  // a one-shot source, read: not sent again
        }
    }
}

TEST_CASE("exchange: an async source that breaks off, or ends early, cuts the upload with its own error") {
    SUBCASE("the sender disconnects") {
        auto src = std::make_shared<memory_async_source>(video_bytes(300'000), 10'000, true);
        src->fail_after = 100'000;
        auto req = async_multipart_request(src, false);
        const auto d = drive_async(req);
        CHECK(d.r.ec == client_error::source_failed);
        CHECK(d.r.source_error == asio::error::connection_reset);
        CHECK_FALSE(d.r.request_fully_sent);
        CHECK(livefour::is_fatal_for_connection(d.r.ec));
    }
    SUBCASE("a sized source that ends early") {
        auto src = std::make_shared<memory_async_source>(video_bytes(300'000), 10'000, true);
        src->declared = 400'000;
        auto req = async_multipart_request(src, false);
        const auto d = drive_async(req);
        CHECK(d.r.ec == client_error::file_changed_size);
        CHECK_FALSE(d.r.request_fully_sent);
    }
}
