// examples/forward_server.cpp over real sockets: "phones" (this process) upload videos to the
// forwarding server (a child process), which streams each body through livefour to
// livefour-emulator (TLS) while it arrives. 100 concurrent uploads with the server's peak RSS
// growth per upload bounded; a phone that disconnects mid-upload aborts the upstream request and
// its connection is not reused; a phone that stalls gets stall_timeout.
#include "fixtures.hpp"

#ifdef LIVEFOUR_FORWARD_SERVER_PATH

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

/// The forwarding server in front of `emu`.
struct forwarder {
    forwarder(const test::emulator& emu, std::vector<std::string> extra = {}) {
        setenv("LIVEFOUR_APPID", test::appid, 1);
        setenv("LIVEFOUR_SECRET_ID", test::secret_id, 1);
        setenv("LIVEFOUR_SECRET_KEY", test::secret_key, 1);
        std::vector<std::string> argv = {LIVEFOUR_FORWARD_SERVER_PATH,
                                         "--port",
                                         "0",
                                         "--endpoint",
                                         emu.url(),
                                         "--ca-file",
                                         emu.ca_path().string(),
                                         "--threads",
                                         "2",
                                         "--write-buffer-bytes",
                                         std::to_string(write_buffer)};
        for (auto& e : extra) argv.push_back(e);
        proc.emplace(argv);
        port = proc->listening_port();
    }
    static constexpr std::size_t write_buffer = 64 * 1024;
    std::optional<test::child> proc;
    unsigned short port = 0;
};

/// A video of `size` bytes the emulator recognises.
std::string video(std::size_t size, unsigned seed = 1) {
    std::string v = test::mp4_magic();
    std::mt19937_64 rng(seed);
    while (v.size() < size) v.push_back(static_cast<char>(rng()));
    v.resize(size);
    return v;
}

struct phone_result {
    livefour::error_code ec;  ///< of the connection (a reply never came)
    unsigned status = 0;
    std::string body;
};

/// One phone: the header, then the first `pause_after` bytes of `body`, then `at_pause()` (which
/// may wait, or say stop: the phone then closes its socket mid-upload), then the rest; then the reply.
template <class AtPause>
asio::awaitable<phone_result> upload(unsigned short port, std::string digits, const std::string& body,
                                     std::size_t pause_after, AtPause at_pause) {
    phone_result r;
    tcp::socket s(co_await asio::this_coro::executor);
    auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, as_result);
    if (cec) co_return phone_result{cec};
    const std::string head =
        "POST /verify?validate_data=" + digits +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: video/mp4\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n";
    auto [hec, hn] = co_await asio::async_write(s, asio::buffer(head), as_result);
    if (hec) co_return phone_result{hec};
    pause_after = std::min(pause_after, body.size());
    auto [bec, bn] = co_await asio::async_write(s, asio::buffer(body.data(), pause_after), as_result);
    if (bec) co_return phone_result{bec};
    if (!co_await at_pause()) {
        s.close();  // the phone goes away mid-upload
        co_return phone_result{asio::error::connection_aborted};
    }
    auto [rec, rn] =
        co_await asio::async_write(s, asio::buffer(body.data() + pause_after, body.size() - pause_after), as_result);
    // A server that answered early may have stopped reading: its reply is still worth reading.
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    auto [ec, n] = co_await http::async_read(s, buf, res, as_result);
    if (ec) co_return phone_result{rec ? rec : ec};
    r.status = res.result_int();
    r.body = res.body();
    co_return r;
}

asio::awaitable<bool> go_on() { co_return true; }

/// GET /digits through the forwarding server (livegetfour upstream).
std::string fetch_digits(unsigned short port) {
    auto [st, out] = test::run("curl -sS --max-time 10 http://127.0.0.1:" + std::to_string(port) + "/digits");
    REQUIRE(st == 0);
    return std::string(test::parse_json(out).at("validate_data").as_string());
}

template <class Awaitable>
auto run_one(Awaitable a) {
    asio::io_context ioc;
    std::optional<phone_result> out;
    asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, phone_result r) {
        if (e) std::rethrow_exception(e);
        out = std::move(r);
    });
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE(out);
    return *out;
}

/// The emulator's counters, read through curl: each read is a connection of its own, which
/// client_connections() leaves out.
struct emulator_stats {
    const test::emulator& emu;
    std::int64_t probes = 0;
    boost::json::object get() {
        ++probes;
        return emu.stats();
    }
    std::int64_t count(const char* key) { return get().at(key).to_number<std::int64_t>(); }
    std::int64_t started_total() { return get().at("requests_started").at("total").to_number<std::int64_t>(); }
    /// Connections the emulator accepted from the forwarding server.
    std::int64_t client_connections() { return count("connections_accepted") - probes; }
};

}  // namespace

TEST_CASE("forward server: 100 concurrent uploads streamed through livefour, results returned, RSS bounded") {
    test::emulator emu;
    forwarder fwd(emu, {"--max-connections", "128"});
    constexpr int phones = 100;
    constexpr std::size_t size = 1024 * 1024;
    const std::string body = video(size);

    // Warm-up: one upload, so that what follows measures what each upload adds.
    {
        const auto r = run_one(upload(fwd.port, fetch_digits(fwd.port), body, size, go_on));
        REQUIRE_MESSAGE(r.status == 200, r.body, " ", r.ec.message());
        CHECK(r.body.find("\"accepted\":true") != std::string::npos);
    }
    const long baseline = test::proc_status_kib(fwd.proc->pid(), "VmRSS");
    REQUIRE(baseline > 0);

    std::vector<std::string> digits;
    for (int i = 0; i < phones; ++i) digits.push_back(fetch_digits(fwd.port));

    // Each phone sends its first 256 KiB, then waits until every phone has: all 100 forwards are
    // then in flight at once, each with its upstream connection open and a body half sent.
    asio::io_context ioc;
    std::atomic<int> paused{0};
    std::atomic<bool> all_paused{false};
    std::vector<std::optional<phone_result>> results(phones);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < phones; ++i) {
        auto barrier = [&]() -> asio::awaitable<bool> {
            if (++paused == phones) all_paused = true;
            asio::steady_timer t(co_await asio::this_coro::executor);
            while (!all_paused) {
                t.expires_after(std::chrono::milliseconds(10));
                co_await t.async_wait(as_result);
            }
            co_return true;
        };
        asio::co_spawn(ioc, upload(fwd.port, digits[i], body, 256 * 1024, barrier),
                       [&results, i](std::exception_ptr e, phone_result r) {
                           if (e) std::rethrow_exception(e);
                           results[i] = std::move(r);
                       });
    }
    long peak_in_flight = 0;
    std::thread sampler([&] {
        // The server's RSS while all uploads are paused half-way (and VmHWM below for the peak).
        while (!all_paused) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        peak_in_flight = test::proc_status_kib(fwd.proc->pid(), "VmRSS");
    });
    ioc.run_for(std::chrono::seconds(120));
    sampler.join();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    int accepted = 0;
    for (int i = 0; i < phones; ++i) {
        REQUIRE(results[i]);
        INFO("phone " << i << ": " << results[i]->ec.message() << " " << results[i]->body);
        CHECK(results[i]->status == 200);
        accepted += results[i]->body.find("\"accepted\":true") != std::string::npos;
    }
    CHECK(accepted == phones);
    CHECK(emu.count("livedetectfour") == phones + 1);

    const long hwm = test::proc_status_kib(fwd.proc->pid(), "VmHWM");
    const double per_upload = static_cast<double>(hwm - baseline) / phones;
    MESSAGE("forward server: " << phones << " concurrent 1 MiB uploads in " << elapsed << " ms; RSS baseline "
                               << baseline << " KiB, in flight " << peak_in_flight << " KiB, peak " << hwm
                               << " KiB: " << per_upload << " KiB per upload (write buffer "
                               << forwarder::write_buffer / 1024 << " KiB)");
#ifndef LIVEFOUR_TEST_SANITIZER_BUILD
    // Two write buffers (the staging buffer the phone's bytes land in, and the one the body is
    // encoded into or encrypted from) plus a fixed overhead per upload: the upstream TLS connection
    // (OpenSSL's state, a 17 KiB read buffer), both sockets, the parsers and coroutine frames. Far
    // below the 1 MiB a buffered upload would cost.
    constexpr double fixed_kib = 64;
    CHECK(per_upload <= 2.0 * forwarder::write_buffer / 1024 + fixed_kib);
#endif
}

TEST_CASE(
    "forward server: a phone that disconnects mid-upload aborts the upstream request; that connection is "
    "not reused") {
    test::emulator emu;
    forwarder fwd(emu);
    const std::string body = video(2 * 1024 * 1024, 2);
    // Warm-up: the pool then holds one idle connection, which the broken upload reuses.
    {
        const auto r = run_one(upload(fwd.port, fetch_digits(fwd.port), body, body.size(), go_on));
        REQUIRE(r.status == 200);
    }
    const auto digits = fetch_digits(fwd.port);
    emulator_stats st{emu};
    const auto accepted_before = st.client_connections();
    const auto started_before = st.started_total();
    const auto detects_before = st.count("livedetectfour");

    const auto r = run_one(upload(fwd.port, digits, body, 512 * 1024, [&]() -> asio::awaitable<bool> {
        // Break off only once the request is on its way upstream.
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (int i = 0; i < 500 && st.started_total() == started_before; ++i) {
            t.expires_after(std::chrono::milliseconds(10));
            co_await t.async_wait(as_result);
        }
        co_return false;
    }));
    CHECK(r.ec == asio::error::connection_aborted);
    CHECK(st.started_total() == started_before + 1);
    CHECK(st.client_connections() == accepted_before);    // the idle connection was used
    CHECK(st.count("livedetectfour") == detects_before);  // never a whole request

    // The next upload works, on a new connection: the aborted one was closed, not put back.
    const auto ok = run_one(upload(fwd.port, fetch_digits(fwd.port), body, body.size(), go_on));
    CHECK(ok.status == 200);
    CHECK(ok.body.find("\"accepted\":true") != std::string::npos);
    CHECK(st.client_connections() == accepted_before + 1);
    // The broken upload never reached the API as a whole request.
    CHECK(st.count("livedetectfour") == detects_before + 1);
}

TEST_CASE("forward server: a phone that stops sending gets stall_timeout") {
    test::emulator emu;
    forwarder fwd(emu, {"--stall-ms", "500"});
    const std::string body = video(1024 * 1024, 3);
    const auto digits = fetch_digits(fwd.port);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_one(upload(fwd.port, digits, body, 100 * 1024, [&]() -> asio::awaitable<bool> {
        // Silent (the socket stays open) past the server's stall bound; the rest then goes into the
        // server's lingering close, and the reply waits in our socket.
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(1));
        co_await t.async_wait(as_result);
        co_return true;
    }));
    const auto waited = std::chrono::steady_clock::now() - t0;
    INFO(r.ec.message() << " " << r.body);
    CHECK(r.status == 408);
    const livefour::error_code stall = livefour::client_error::stall_timeout;
    CHECK(r.body.find("\"category\":\"" + std::string(stall.category().name()) + "\"") != std::string::npos);
    CHECK(r.body.find("\"code\":" + std::to_string(stall.value())) != std::string::npos);
    CHECK(waited < std::chrono::seconds(10));
    CHECK(emu.count("livedetectfour") == 0);
}

#endif  // LIVEFOUR_FORWARD_SERVER_PATH
