// The fault matrix of docs/reliability.md: one test per row that no other test file covers, each
// asserting the specific, bounded outcome the table promises.
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

std::tuple<livefour::error_code, livefour::detect_result> detect_once(const livefour::client_options& o,
                                                                      const std::filesystem::path& video,
                                                                      livefour::diagnostics& diag) {
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), o);
    livefour::detect_request req;
    req.validate_data = "1234";
    req.video = livefour::body_source::file(video);
    return test::run_bounded(ioc, cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable)));
}

/// A port that was free a moment ago (s_server cannot be told to pick one and print it).
unsigned short free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// A TCP listener on 127.0.0.1 that resets every connection as soon as it is accepted.
struct resetting_listener {
    resetting_listener() {
        fd = test::listen_loopback(port);
        worker = std::thread([this] {
            for (;;) {
                int c = ::accept(fd, nullptr, nullptr);
                if (c < 0) return;
                linger l{1, 0};  // close with RST
                ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                ::close(c);
            }
        });
    }
    ~resetting_listener() {
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
        worker.join();
    }
    int fd = -1;
    unsigned short port = 0;
    std::thread worker;
};

}  // namespace

TEST_CASE("fault matrix: reply-side faults map to specific errors") {
    test::emulator emu;
    auto video = test::write_file(emu.dir / "v.mp4", 100'000, test::mp4_magic());
    auto o = emu.options();
    o.retry.initial_backoff = std::chrono::milliseconds(5);
    livefour::diagnostics diag;

    SUBCASE("huge response body → response_too_large") {
        emu.fault(R"({"fault":"huge_body","bytes":10485760})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == client_error::response_too_large);
        CHECK(diag.attempts() == 1);  // the server answered: not retried
    }
    SUBCASE("huge response header → header_too_large") {
        emu.fault(R"({"fault":"huge_header","bytes":65536})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == client_error::header_too_large);
    }
    SUBCASE("truncated reply → connection_closed, not retried (detect was processed)") {
        emu.fault(R"({"fault":"truncated_reply"})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == client_error::connection_closed);
        CHECK(diag.attempts() == 1);
    }
    SUBCASE("non-JSON 502 page → non_json_response with the status kept") {
        emu.fault(
            R"({"fault":"http_status","status":502,"body":"<html>bad gateway</html>","content_type":"text/html"})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == client_error::non_json_response);
        CHECK(diag.http_status() == 502);
        CHECK(diag.server_message().find("bad gateway") != std::string::npos);
    }
    SUBCASE("HTTP 500 with a JSON envelope (213) → api_error::internal_error, reply kept") {
        emu.fault(R"({"fault":"http_status","status":500,"code":213})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == livefour::api_error::internal_error);
        CHECK(r.code == 213);
        CHECK(diag.http_status() == 500);
    }
    SUBCASE("reset after the full body → not retried for detect") {
        emu.fault(R"({"fault":"reset","when":"after_body"})");
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec);
        CHECK(diag.attempts() == 1);
        CHECK(livefour::is_fatal_for_connection(ec));
    }
    SUBCASE("rate limit → code 15, retried with the throttle backoff") {
        emu.fault(R"({"fault":"rate_limit","per_second":1,"count":1})");
        o.retry.throttle_backoff = std::chrono::milliseconds(50);
        asio::io_context ioc;
        livefour::client cl(ioc.get_executor(), o);
        for (int i = 0; i < 3; ++i) {
            livefour::digits_request dreq;
            livefour::diagnostics d;
            auto [ec, r] =
                test::run_bounded(ioc, cl.async_get_digits(std::move(dreq), d, asio::as_tuple(asio::use_awaitable)));
            CHECK((!ec || ec == client_error::retries_exhausted));
        }
        CHECK(emu.fired("rate_limit") >= 1);
    }
}

TEST_CASE("fault matrix: an expired signature (clock skew) → code 9, not retried") {
    test::emulator emu;
    auto video = test::write_file(emu.dir / "v.mp4", 1000, test::mp4_magic());
    auto o = emu.options();
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    o.signing.clock = [now] { return now - 3600; };  // an hour slow: e = t + 300 is long past
    livefour::diagnostics diag;
    auto [ec, r] = detect_once(o, video, diag);
    CHECK(ec == livefour::api_error::signature_expired);
    CHECK(ec == livefour::condition::auth);
    CHECK(diag.attempts() == 1);
}

TEST_CASE("fault matrix: connection reset during connect, TLS 1.1-only server") {
    test::temp_dir dir;
    auto video = test::write_file(dir / "v.mp4", 1000, test::mp4_magic());
    livefour::client_options o;
    o.thread_safe = test::thread_safe();
    o.creds.appid = test::appid;
    o.creds.secret_id = test::secret_id;
    o.creds.secret_key = livefour::secret_string(test::secret_key);
    o.retry.initial_backoff = std::chrono::milliseconds(5);
    livefour::diagnostics diag;

    SUBCASE("reset during the TLS handshake: retried, then given up naming the reset") {
        resetting_listener l;
        o.endpoint = "https://127.0.0.1:" + std::to_string(l.port);
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec == client_error::retries_exhausted);
        REQUIRE_FALSE(diag.retries().empty());
        CHECK(livefour::condition_of(diag.retries()[0].error) == livefour::condition::transport);
    }
    SUBCASE("a server that only speaks TLS 1.1 is refused") {
        auto certs = dir / "certs";
        REQUIRE(test::run(std::string("sh '") + LIVEFOUR_TEST_PEERS_DIR + "/make_certs.sh' '" + certs.string() + "'")
                    .first == 0);
        const auto port = free_port();
        test::child server({"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                            (certs / "server.pem").string(), "-key", (certs / "server.key").string(), "-tls1_1",
                            "-cipher", "DEFAULT:@SECLEVEL=0"},
                           false);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        o.endpoint = "https://127.0.0.1:" + std::to_string(port);
        o.tls.ca_file = (certs / "ca.pem").string();
        o.retry = livefour::retry_policy::no_retry();
        auto [ec, r] = detect_once(o, video, diag);
        CHECK(ec);
        CHECK(std::string(ec.category().name()) == "asio.ssl");
        CHECK(diag.client_message().find("TLS handshake") != std::string::npos);
    }
}

TEST_CASE("fault matrix: DNS failure (in a private network namespace, no packet leaves)") {
    auto [st, out] = test::run("unshare -n true 2>&1");
    if (st != 0) {
        MESSAGE("unshare -n not permitted here; skipped");
        return;
    }
    setenv("LIVEFOUR_APPID", test::appid, 1);
    setenv("LIVEFOUR_SECRET_ID", test::secret_id, 1);
    setenv("LIVEFOUR_SECRET_KEY", test::secret_key, 1);
    auto [s, o] = test::run("unshare -n " + test::cli_path() +
                            " digits --max-attempts 1 --endpoint https://nonexistent.invalid 2>&1");
    CHECK(s == 4);
    CHECK(o.find("resolving nonexistent.invalid") != std::string::npos);
}

TEST_CASE("secrets never appear in diagnostics, retry-hook events or exception texts") {
    test::emulator emu;
    auto video = test::write_file(emu.dir / "v.mp4", 1000, test::mp4_magic());
    const std::string key = "Very-Secret-Key-0123456789abcdef";
    std::string seen;  // everything livefour told us, concatenated
    auto o = emu.options();
    o.creds.secret_key = livefour::secret_string(key);  // wrong for the emulator: code 14
    o.retry.initial_backoff = std::chrono::milliseconds(1);
    o.retry.on_retry = [&](const livefour::retry_event& e) { seen += e.error.message() + "\n"; };
    emu.fault(R"({"fault":"code","code":15,"count":1})");
    livefour::diagnostics diag;
    auto [ec, r] = detect_once(o, video, diag);
    CHECK(ec == livefour::api_error::signature_check_failed);
    seen += ec.message() + diag.client_message() + diag.server_message() + livefour::to_json(r);

    std::ostringstream os;
    os << o.creds << o.creds.secret_key;
    seen += os.str();
    o.endpoint = "https://127.0.0.1:1";
    livefour::diagnostics d2;
    auto [ec2, r2] = detect_once(o, video, d2);
    seen += ec2.message() + d2.client_message();
    try {
        auto bad = o;
        bad.endpoint = "https://user:" + key + "@127.0.0.1/";
        asio::io_context ioc;
        livefour::client c(ioc.get_executor(), bad);
    } catch (const std::exception& e) {
        seen += e.what();
    }
    CHECK_FALSE(seen.empty());
    CHECK(seen.find(key) == std::string::npos);
    CHECK(seen.find("Very-Secret") == std::string::npos);
}

TEST_CASE("fault matrix: a hostile server's endless chunk extension is bounded (header_too_large)") {
    // A plain-HTTP server that answers every request with a chunk-size line that never ends.
    unsigned short port = 0;
    int fd = test::listen_loopback(port);
    std::atomic<std::uint64_t> sent{0};
    std::thread server([&] {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) return;
        char req[4096];
        (void)::recv(c, req, sizeof req, 0);
        std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;";
        (void)::send(c, head.data(), head.size(), MSG_NOSIGNAL);
        std::string junk(64 * 1024, 'x');
        while (sent < (64u << 20)) {  // stops by itself at 64 MiB, or when the client hangs up
            auto n = ::send(c, junk.data(), junk.size(), MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<std::uint64_t>(n);
        }
        ::close(c);
    });
    const auto o = test::raw_server_options(port);
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), o);
    livefour::diagnostics diag;
    livefour::digits_request dreq;
    auto [ec, r] =
        test::run_bounded(ioc, cl.async_get_digits(std::move(dreq), diag, asio::as_tuple(asio::use_awaitable)));
    CHECK(ec == client_error::header_too_large);
    cl.close();
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    server.join();
    CHECK(sent < (64u << 20));  // we hung up long before the server's own bound
}
