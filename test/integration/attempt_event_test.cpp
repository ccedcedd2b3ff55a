// Attempt events (connection_options::on_attempt) over real sockets: one event per exchange, with
// the phases of a new connection, bytes, status, codes and the retry decision; the keep-alive
// resend visible as an attempt of its own; credentials redacted from the captured headers.
#include "fixtures.hpp"

#include <mutex>
#include <vector>

namespace asio = boost::asio;
using livefour::attempt_event;

namespace {

/// The events an operation produced, copied out of the hook (its views die with the call).
struct recorded {
    attempt_event e;
    std::string operation, peer, tls_version, reason, request_header, response_header;
};

struct recorder {
    std::mutex mu;
    std::vector<recorded> events;
    livefour::attempt_hook hook() {
        return [this](const attempt_event& e) {
            std::lock_guard lock(mu);
            events.push_back({e, std::string(e.operation), std::string(e.peer), std::string(e.tls_version),
                              std::string(e.reason), std::string(e.request_header), std::string(e.response_header)});
        };
    }
};

}  // namespace

TEST_CASE("attempt events: phases, bytes, codes and the retry decision of every attempt") {
    test::emulator emu;
    // Two refusals with code 15, then the reply.
    emu.fault(R"({"fault":"code","code":15,"count":2,"path":"/face/livedetectfour"})");
    asio::io_context ioc;
    auto opts = emu.options();
    opts.retry.throttle_backoff = std::chrono::milliseconds(5);
    recorder rec;
    opts.on_attempt = rec.hook();
    opts.attempt_headers = true;
    livefour::client cl(ioc.get_executor(), opts);
    auto video = test::write_file(emu.dir / "v.mp4", 200'000, test::mp4_magic());
    std::optional<livefour::error_code> got;
    livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::file(video)};
    cl.async_detect(std::move(req), [&](livefour::error_code ec, livefour::detect_result) { got = ec; });
    ioc.run_for(std::chrono::seconds(30));
    REQUIRE(got);
    REQUIRE(rec.events.size() == 3);
    const auto& first = rec.events[0];
    CHECK(first.operation == "livedetectfour");
    CHECK(first.e.attempt == 1);
    CHECK_FALSE(first.e.connection_reused);
    CHECK(first.peer.rfind("127.0.0.1:", 0) == 0);
    CHECK(first.tls_version.rfind("TLSv1.", 0) == 0);
    CHECK(first.e.connect.count() > 0);
    CHECK(first.e.handshake.count() > 0);
    CHECK(first.e.bytes_sent > 200'000);
    CHECK(first.e.first_byte.count() > 0);
    CHECK(first.e.http_status == 200);
    CHECK(first.e.error == livefour::make_api_error(15));
    CHECK(first.e.next == attempt_event::decision::retry);
    CHECK(first.e.delay <= std::chrono::milliseconds(5));
    // Credentials never reach the captured headers.
    CHECK(first.request_header.find("Authorization: [redacted]") != std::string::npos);
    CHECK(first.request_header.find(test::secret_key) == std::string::npos);
    CHECK(first.response_header.rfind("HTTP/1.1 200", 0) == 0);
    const auto& second = rec.events[1];
    CHECK(second.e.attempt == 2);
    CHECK(second.e.connection_reused);  // a code arrives in a complete reply: the connection stays
    CHECK(second.peer.empty());
    const auto& last = rec.events[2];
    CHECK(last.e.attempt == 3);
    CHECK(last.e.next == attempt_event::decision::done);
    CHECK_FALSE(last.e.error);
}

TEST_CASE("attempt events: the keep-alive resend is an attempt of its own") {
    test::emulator emu({"--keepalive-close-ms", "100"});
    asio::io_context ioc;
    auto opts = emu.options();
    recorder rec;
    opts.on_attempt = rec.hook();
    livefour::client cl(ioc.get_executor(), opts);
    livefour::diagnostics diag;
    auto digits = [&] {
        std::optional<livefour::error_code> got;
        cl.async_get_digits({}, diag, [&](livefour::error_code ec, livefour::digits_result) { got = ec; });
        ioc.restart();
        ioc.run_for(std::chrono::seconds(30));
        REQUIRE(got);
        return *got;
    };
    CHECK_FALSE(digits());
    // The server closes the idle connection after 100 ms; the pool's probe may or may not see the
    // FIN first. Either the connection is evicted (one attempt on a new one) or the request meets
    // the closed connection and is resent at once: both end well, and a resend is logged.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    rec.events.clear();
    CHECK_FALSE(digits());
    REQUIRE_FALSE(rec.events.empty());
    CHECK(rec.events.back().e.next == attempt_event::decision::done);
    if (rec.events.size() == 2) {
        CHECK(rec.events[0].e.next == attempt_event::decision::keepalive_resend);
        CHECK(rec.events[1].e.why == livefour::diagnostics::attempt_record::kind::keepalive_resend);
        CHECK(diag.attempt_log().size() == 2);
        CHECK(diag.attempts() == 1);
    }
}
