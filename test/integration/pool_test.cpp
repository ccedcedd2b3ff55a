// The pool under load and the time bounds: many concurrent operations through few connections,
// on one thread and on several, with every bound firing with its own error code.
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <dirent.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

/// Starts `n` concurrent detects of a small in-memory video; counts successes and completions.
void start_detects(livefour::client& cl, int n, std::atomic<int>& ok, std::atomic<int>& done) {
    auto bytes = std::make_shared<const std::string>(test::mp4_magic() + std::string(20'000, 'v'));
    for (int i = 0; i < n; ++i) {
        livefour::detect_request req;
        req.validate_data = "1234";
        req.video = livefour::body_source::memory(bytes, "v.mp4");
        cl.async_detect(std::move(req), [&](livefour::error_code ec, livefour::detect_result r) {
            if (!ec && r.code == 0 && r.live_status) ok.fetch_add(1);
            done.fetch_add(1);
        });
    }
}

/// Runs `n` concurrent detects on `threads` threads of `ioc`; returns how many succeeded.
int concurrent_detects(livefour::client& cl, asio::io_context& ioc, int n, int threads) {
    std::atomic<int> ok{0}, done{0};
    start_detects(cl, n, ok, done);
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&] { ioc.run_for(std::chrono::seconds(120)); });
    ioc.run_for(std::chrono::seconds(120));
    for (auto& t : pool) t.join();
    CHECK(done.load() == n);
    return ok.load();
}

}  // namespace

TEST_CASE("1,000 concurrent detects through a pool of 8 connections") {
    test::emulator emu;
    int threads = 1;
    SUBCASE("one thread") { threads = 1; }
    SUBCASE("io_context run by four threads") { threads = 4; }
    CAPTURE(threads);
    const int fds_before = test::open_fds();
    {
        asio::io_context ioc(threads);
        auto opts = emu.options();
        opts.pool.max_connections = 8;
        opts.timeout.pool_wait = std::chrono::seconds(60);
        livefour::client cl(ioc.get_executor(), opts);
        CHECK(concurrent_detects(cl, ioc, 1000, threads) == 1000);
        auto st = cl.stats();
        CHECK(st.created <= 8);
        CHECK(st.in_use == 0);
        CHECK(st.waiters == 0);
        CHECK(st.requests == 1000);
        CHECK(st.reused >= 1000 - 8);
        CHECK(emu.count("connections_accepted") <= 8 + 1);  // + the stats query's own curl connection
        CHECK(emu.count("livedetectfour") == 1000);
    }
    CHECK(test::open_fds() == fds_before);  // the client's sockets are gone with it
}

TEST_CASE("1,000 concurrent detects on an asio::thread_pool executor") {
    // Not an io_context: the client's strands are built on the type-erased executor here, not on
    // io_context's concrete one (src/pool.hpp, make_strand_executor). TSan runs this test.
    test::emulator emu;
    asio::thread_pool threads(4);
    std::atomic<int> ok{0}, done{0};
    {
        auto opts = emu.options();
        opts.pool.max_connections = 8;
        opts.timeout.pool_wait = std::chrono::seconds(60);
        livefour::client cl(threads.get_executor(), opts);
        start_detects(cl, 1000, ok, done);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (done.load() < 1000 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CHECK(done.load() == 1000);
        CHECK(ok.load() == 1000);
        auto st = cl.stats();
        CHECK(st.created <= 8);
        CHECK(st.in_use == 0);
        CHECK(st.requests == 1000);
    }
    threads.join();
    CHECK(emu.count("livedetectfour") == 1000);
}

TEST_CASE("time bounds fire with their own error codes") {
    test::emulator emu;
    asio::io_context ioc;
    auto video = test::write_file(emu.dir / "v.mp4", 5000, test::mp4_magic());
    auto slow = [&](int delay_ms) {
        livefour::detect_request req;
        req.validate_data = "1234";
        req.video = livefour::body_source::file(video);
        req.seq = "force:delay_ms=" + std::to_string(delay_ms);
        return req;
    };

    SUBCASE("stall: the server thinks longer than timeouts::stall") {
        auto o = emu.options();
        o.timeout.stall = std::chrono::milliseconds(300);
        livefour::client cl(ioc.get_executor(), o);
        auto t0 = std::chrono::steady_clock::now();
        auto [ec, r] = test::run_bounded(ioc, cl.async_detect(slow(3000), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == client_error::stall_timeout);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
        CHECK(cl.stats().idle == 0);  // the timed-out connection was closed
    }
    SUBCASE("deadline: the whole operation is bounded") {
        auto o = emu.options();
        o.timeout.deadline = std::chrono::milliseconds(400);
        livefour::client cl(ioc.get_executor(), o);
        auto t0 = std::chrono::steady_clock::now();
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(ioc, cl.async_detect(slow(3000), diag, asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == client_error::deadline_exceeded);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
        CHECK(cl.stats().in_use == 0);
    }
    SUBCASE("pool wait: all connections busy") {
        auto o = emu.options();
        o.pool.max_connections = 1;
        o.timeout.pool_wait = std::chrono::milliseconds(200);
        livefour::client cl(ioc.get_executor(), o);
        std::optional<livefour::error_code> first, second;
        cl.async_detect(slow(1500), [&](livefour::error_code ec, livefour::detect_result) { first = ec; });
        asio::steady_timer later(ioc, std::chrono::milliseconds(100));
        later.async_wait([&](livefour::error_code) {
            cl.async_get_digits({}, [&](livefour::error_code ec, livefour::digits_result) { second = ec; });
        });
        ioc.run_for(std::chrono::seconds(10));
        REQUIRE(second.has_value());
        CHECK(*second == client_error::pool_wait_timeout);
        REQUIRE(first.has_value());
        CHECK_FALSE(*first);  // the busy one was not disturbed
        auto st = cl.stats();
        CHECK(st.waiters == 0);
        CHECK(st.in_use == 0);
    }
    SUBCASE("connect: nothing listens") {
        auto o = emu.options();
        o.endpoint = "https://127.0.0.1:1";
        livefour::client cl(ioc.get_executor(), o);
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(ioc, cl.async_get_digits({}, diag, asio::as_tuple(asio::use_awaitable)));
        // Refused before anything was sent: retried per policy, then given up.
        CHECK(ec == client_error::retries_exhausted);
        CHECK(diag.attempts() == 3);
        REQUIRE(diag.retries().size() == 2);
        CHECK(diag.retries()[0].error == asio::error::connection_refused);
        CHECK(diag.client_message().find("refused") != std::string::npos);
    }
}

TEST_CASE("cancellation while waiting for a connection, and close() with operations in flight") {
    test::emulator emu;
    asio::io_context ioc;
    auto o = emu.options();
    o.pool.max_connections = 1;
    livefour::client cl(ioc.get_executor(), o);
    auto video = test::write_file(emu.dir / "v.mp4", 5000, test::mp4_magic());
    livefour::detect_request busy;
    busy.validate_data = "1234";
    busy.video = livefour::body_source::file(video);
    busy.seq = "force:delay_ms=1000";
    std::optional<livefour::error_code> first, waiting, after_close;
    cl.async_detect(std::move(busy), [&](livefour::error_code ec, livefour::detect_result) { first = ec; });
    asio::cancellation_signal sig;
    cl.async_get_digits({}, asio::bind_cancellation_slot(
                                sig.slot(), [&](livefour::error_code ec, livefour::digits_result) { waiting = ec; }));
    asio::steady_timer t1(ioc, std::chrono::milliseconds(100));
    t1.async_wait([&](livefour::error_code) { sig.emit(asio::cancellation_type::terminal); });
    asio::steady_timer t2(ioc, std::chrono::milliseconds(300));
    t2.async_wait([&](livefour::error_code) {
        CHECK(waiting.has_value());  // cancelled promptly, long before the busy request ends
        cl.close();
        cl.async_get_digits({}, [&](livefour::error_code ec, livefour::digits_result) { after_close = ec; });
    });
    ioc.run_for(std::chrono::seconds(10));
    REQUIRE(waiting.has_value());
    CHECK(*waiting == asio::error::operation_aborted);
    REQUIRE(first.has_value());
    CHECK(*first == asio::error::operation_aborted);  // close() cancelled the in-flight upload
    REQUIRE(after_close.has_value());
    CHECK(*after_close == client_error::pool_closed);
    auto st = cl.stats();
    CHECK(st.in_use == 0);
    CHECK(st.waiters == 0);
    CHECK(st.idle == 0);
}

TEST_CASE("cancellation by close() from a thread that is not running the io_context") {
    // docs/reference.md: close() may be called from any thread, also with client_options::thread_safe
    // off (ctest runs this file both ways; TSan runs this test both ways too).
    test::emulator emu;
    asio::io_context ioc(1);
    auto o = emu.options();
    o.pool.max_connections = 2;  // two uploads in flight, two waiting for a connection
    livefour::client cl(ioc.get_executor(), o);
    auto video = test::write_file(emu.dir / "v.mp4", 5000, test::mp4_magic());
    std::atomic<int> done{0}, stopped{0};
    for (int i = 0; i < 4; ++i) {
        livefour::detect_request req;
        req.validate_data = "1234";
        req.video = livefour::body_source::file(video);
        req.seq = "force:delay_ms=3000";
        cl.async_detect(std::move(req), [&](livefour::error_code ec, livefour::detect_result) {
            if (ec == asio::error::operation_aborted || ec == client_error::pool_closed) stopped.fetch_add(1);
            done.fetch_add(1);
        });
    }
    auto work = asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run_for(std::chrono::seconds(30)); });
    // Wait until both connections carry an upload (the emulator holds each reply for 3 s).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (cl.stats().in_use < 2 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto closed_at = std::chrono::steady_clock::now();
    cl.close();  // from this thread, while the io_context runs on `runner`
    while (done.load() < 4 && std::chrono::steady_clock::now() < until + std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto took = std::chrono::steady_clock::now() - closed_at;
    work.reset();
    ioc.stop();
    runner.join();
    CHECK(done.load() == 4);
    CHECK(stopped.load() == 4);  // none waited for its 3 s reply
    CHECK(took < std::chrono::seconds(2));
    auto st = cl.stats();
    CHECK(st.in_use == 0);
    CHECK(st.waiters == 0);
}

TEST_CASE("peak RSS of 64 concurrent TLS uploads: no per-upload body or ciphertext buffer") {
    // An upload in flight over TLS used to hold its body writer's buffer and the records encrypted
    // from it (2 x 256 KiB) until the socket took them. Now the body buffer is the thread's and
    // the records go to the socket before the write's initiation returns: peak RSS per upload is a
    // few KiB over the connection's own state. The bound (96 KiB) fails with either buffer back.
    test::emulator emu({"--max-body-bytes", "0"});
    constexpr int n = 64;
    auto video = test::write_file(emu.dir / "rss.mp4", 2 * 1024 * 1024, test::mp4_magic(), 9);
    auto opts = emu.options();
    opts.pool.max_connections = n;
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), opts);
    std::atomic<int> ok{0};
    // Warm-up: n concurrent livegetfour calls open the n connections (handshakes are not measured).
    for (int i = 0; i < n; ++i)
        cl.async_get_digits({}, [&](livefour::error_code ec, livefour::digits_result) { ok += !ec; });
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE(ok.load() == n);
    REQUIRE(cl.stats().created == n);

    std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
    const long before = test::proc_status_kib(0, "VmRSS");
    ok = 0;
    for (int i = 0; i < n; ++i) {
        livefour::detect_request req;
        req.validate_data = "1234";
        req.video = livefour::body_source::file(video);
        cl.async_detect(std::move(req), [&](livefour::error_code ec, livefour::detect_result) { ok += !ec; });
    }
    ioc.restart();
    ioc.run_for(std::chrono::seconds(120));
    CHECK(ok.load() == n);
    CHECK(cl.stats().created == n);  // every upload had its own connection, all at once
    const long peak = test::proc_status_kib(0, "VmHWM");
    const double per_upload = static_cast<double>(peak - before) / n;
    MESSAGE("RSS " << before << " KiB before, peak " << peak << " KiB: " << per_upload << " KiB per upload");
    CHECK(per_upload < 96);
}
