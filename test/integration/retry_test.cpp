// The retry policy against real faults injected by the emulator (docs/emulator.md): which
// failures are retried, how often, and which never are (spec §6).
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>

#include <thread>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

struct fixture {
    fixture()
        : emu({"--max-body-bytes", "0"}),
          video(test::write_file(emu.dir / "v.mp4", 2 * 1024 * 1024, test::mp4_magic())) {
        opts = emu.options();
        opts.max_upload_bytes = 0;
        opts.retry.initial_backoff = std::chrono::milliseconds(10);
        opts.retry.throttle_backoff = std::chrono::milliseconds(20);
    }
    livefour::detect_request request() const {
        livefour::detect_request r;
        r.validate_data = "1234";
        r.video = livefour::body_source::file(video);
        return r;
    }
    std::tuple<livefour::error_code, livefour::detect_result> detect(livefour::diagnostics& diag) {
        livefour::client cl(ioc.get_executor(), opts);
        return test::run_bounded(ioc, cl.async_detect(request(), diag, asio::as_tuple(asio::use_awaitable)));
    }
    test::emulator emu;
    std::filesystem::path video;
    livefour::client_options opts;
    asio::io_context ioc;
};

}  // namespace

TEST_CASE("codes 15, 107 and 108 twice, then success: three attempts") {
    for (int code : {15, 107, 108}) {
        CAPTURE(code);
        fixture f;
        f.emu.fault(R"({"fault":"code","code":)" + std::to_string(code) + R"(,"count":2})");
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK_FALSE(ec);
        CHECK(r.code == 0);
        CHECK(diag.attempts() == 3);
        REQUIRE(diag.retries().size() == 2);
        CHECK(diag.retries()[0].error == livefour::make_api_error(code));
        CHECK(f.emu.fired("code") == 2);
        CHECK(f.emu.count("livedetectfour") == 3);
    }
}

TEST_CASE("code 15 beyond max attempts: retries_exhausted, the reply keeps the last code") {
    fixture f;
    f.emu.fault(R"({"fault":"code","code":15,"count":10})");
    f.opts.retry.max_attempts = 4;
    livefour::diagnostics diag;
    auto [ec, r] = f.detect(diag);
    CHECK(ec == client_error::retries_exhausted);
    CHECK(r.code == 15);
    CHECK(diag.attempts() == 4);
    CHECK(f.emu.fired("code") == 4);
    CHECK(diag.client_message().find("15") != std::string::npos);
}

TEST_CASE("non-retryable answers are not retried") {
    fixture f;
    SUBCASE("signature check failed (14)") {
        f.emu.fault(R"({"fault":"code","code":14,"count":1})");
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK(ec == livefour::api_error::signature_check_failed);
        CHECK(diag.attempts() == 1);
    }
    SUBCASE("a verdict (-5016) is an answer, not a failure") {
        livefour::client cl(f.ioc.get_executor(), f.opts);
        auto req = f.request();
        req.seq = "force:live_status=-5016";
        livefour::diagnostics diag;
        auto [ec, r] =
            test::run_bounded(f.ioc, cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        CHECK(r.live_status == -5016);
        CHECK(diag.attempts() == 1);
        CHECK_FALSE(livefour::decide(r).accepted());
    }
}

TEST_CASE("connection dropped mid-upload is retried; dropped after the full body is not (detect is billed)") {
    fixture f;
    SUBCASE("after half the video") {
        // The server drops the connection (RST) mid-body: our write fails before the request was
        // fully sent, so the server cannot have processed it. The video is far larger than the
        // loopback socket buffers, or the kernel would swallow all of it before the reset.
        f.video = test::write_file(f.emu.dir / "big.mp4", 64 * 1024 * 1024, test::mp4_magic());
        f.emu.fault(R"({"fault":"reset","when":"after_body_bytes","bytes":33554432,"count":1})");
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK_FALSE(ec);
        CHECK(diag.attempts() == 2);
        CHECK(f.emu.fired("reset") == 1);
        CHECK(f.emu.stats().at("requests_started").as_object().at("/face/livedetectfour").to_number<int>() == 2);
    }
    SUBCASE("closed after half the video, the rest drained, no reply: as good as fully sent, not retried") {
        f.emu.fault(R"({"fault":"close_after_body_bytes","bytes":1048576,"count":1})");
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK(ec == client_error::connection_closed);
        CHECK(diag.attempts() == 1);
        CHECK(f.emu.fired("close_after_body_bytes") == 1);
    }
    SUBCASE("after the full body, no reply: not retried by default") {
        f.emu.fault(R"({"fault":"close_after_body","count":1})");
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK(ec == client_error::connection_closed);
        CHECK(diag.attempts() == 1);
    }
    SUBCASE("after the full body, with retry_after_full_send: retried") {
        f.emu.fault(R"({"fault":"close_after_body","count":1})");
        f.opts.retry.retry_after_full_send = true;
        livefour::diagnostics diag;
        auto [ec, r] = f.detect(diag);
        CHECK_FALSE(ec);
        CHECK(diag.attempts() == 2);
    }
    SUBCASE("digits (free, idempotent) are retried after a full send") {
        f.emu.fault(R"({"fault":"close_after_body","count":1,"path":"/face/livegetfour"})");
        livefour::client cl(f.ioc.get_executor(), f.opts);
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(f.ioc, cl.async_get_digits({}, diag, asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        CHECK(diag.attempts() == 2);
    }
}

TEST_CASE("a server that closes idle keep-alive connections never surfaces an error") {
    fixture f;
    f.emu.fault(R"({"fault":"keepalive_close","ms":50})");
    f.opts.retry = livefour::retry_policy::no_retry();  // prove the pool, not the retry loop, handles it
    livefour::client cl(f.ioc.get_executor(), f.opts);
    for (int i = 0; i < 12; ++i) {
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(f.ioc, cl.async_get_digits({}, diag, asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        // Alternate between "just closed" and "about to be closed" to hit both sides of the race.
        std::this_thread::sleep_for(std::chrono::milliseconds(i % 2 ? 60 : 45));
    }
    CHECK(f.emu.count("connections_closed_idle") >= 5);
}

TEST_CASE("stall and deadline against faults") {
    fixture f;
    SUBCASE("the server stops reading mid-upload: stall_timeout") {
        f.emu.fault(R"({"fault":"stall_after_body_bytes","bytes":65536,"ms":5000,"count":1})");
        f.opts.timeout.stall = std::chrono::milliseconds(300);
        f.opts.retry = livefour::retry_policy::no_retry();
        f.opts.max_upload_bytes = 0;
        f.video = test::write_file(f.emu.dir / "big.mp4", 32 * 1024 * 1024, test::mp4_magic());
        livefour::diagnostics diag;
        auto t0 = std::chrono::steady_clock::now();
        auto [ec, r] = f.detect(diag);
        CHECK(ec == client_error::stall_timeout);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    }
    SUBCASE("a slow but moving reply: the stall bound never fires, the deadline does") {
        f.emu.fault(R"({"fault":"trickle_reply","interval_ms":100,"count":1})");
        f.opts.timeout.stall = std::chrono::milliseconds(400);
        f.opts.timeout.deadline = std::chrono::milliseconds(1500);
        livefour::diagnostics diag;
        auto t0 = std::chrono::steady_clock::now();
        auto [ec, r] = f.detect(diag);
        CHECK(ec == client_error::deadline_exceeded);
        auto took = std::chrono::steady_clock::now() - t0;
        CHECK(took >= std::chrono::milliseconds(1400));
        CHECK(took < std::chrono::seconds(4));
    }
}
