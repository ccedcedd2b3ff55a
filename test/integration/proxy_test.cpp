// The client through a real HTTP proxy: Debian's tinyproxy (scripts/setup.sh installs
// tinyproxy-bin), started by each test on 127.0.0.1 with a generated configuration. CONNECT, TLS
// end to end through the tunnel, proxy authentication, refusals, an unreachable proxy, one CONNECT
// for a pooled tunnel's whole life, and the pool's liveness probe through it.
#include "fixtures.hpp"

#include <livefour/faceid/client.hpp>

#include <boost/asio/as_tuple.hpp>

#include <arpa/inet.h>

#include <fstream>
#include <thread>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

/// A port that was free a moment ago (tinyproxy cannot be told to pick one and say which).
unsigned short free_port() {
    unsigned short port = 0;
    const int fd = test::listen_loopback(port);
    ::close(fd);
    return port;
}

bool accepts_connections(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

/// tinyproxy in the foreground on 127.0.0.1, logging every request line to a file; stopped at
/// scope exit. `lines` are added to its configuration (BasicAuth, ConnectPort, ...).
struct tinyproxy {
    explicit tinyproxy(const std::vector<std::string>& lines = {}) {
        for (int attempt = 0; attempt < 5 && !proc; ++attempt) {
            port = free_port();
            const auto conf = dir / "tinyproxy.conf";
            std::ofstream f(conf);
            f << "Port " << port << "\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nLogLevel Connect\n"
              << "LogFile \"" << log_path().string() << "\"\n";
            for (const auto& l : lines) f << l << "\n";
            f.close();
            // Not found: scripts/setup.sh installs it (Debian package tinyproxy-bin).
            proc.emplace(std::vector<std::string>{"tinyproxy", "-d", "-c", conf.string()}, false);
            for (int i = 0; i < 250 && !accepts_connections(port); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (!accepts_connections(port)) proc.reset();  // the port was taken meanwhile: again
        }
        REQUIRE_MESSAGE(proc, "tinyproxy did not start (scripts/setup.sh installs tinyproxy-bin)");
    }
    std::filesystem::path log_path() const { return dir / "tinyproxy.log"; }
    std::string url(const std::string& userinfo = {}) const {
        return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port);
    }
    /// Tunnels asked for so far: the log's "Request (file descriptor N): CONNECT host:port" lines.
    int connects() const {
        std::ifstream f(log_path());
        std::string line;
        int n = 0;
        while (std::getline(f, line))
            if (line.find("Request (file descriptor") != std::string::npos &&
                line.find(": CONNECT ") != std::string::npos)
                ++n;
        return n;
    }
    std::string log() const {
        std::ifstream f(log_path());
        return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    }

    test::temp_dir dir;
    unsigned short port = 0;
    std::optional<test::child> proc;
};

constexpr const char* password = "Pr0xy-Passw0rd";

template <class T>
using result = std::tuple<livefour::error_code, T>;

result<livefour::digits_result> digits(asio::io_context& ioc, livefour::client& c, livefour::diagnostics& diag) {
    return test::run_bounded(ioc, c.async_get_digits({}, diag, asio::as_tuple(asio::use_awaitable)),
                             std::chrono::seconds(60));
}

}  // namespace

TEST_CASE("proxy: TLS through tinyproxy with Basic auth; a pooled tunnel carries the next request, one CONNECT") {
    test::emulator emu;
    tinyproxy proxy({std::string("BasicAuth alice ") + password});
    auto o = emu.options();
    // The user name percent-encoded, as a URL may have it: decoded before it is sent.
    o.proxy.url = proxy.url(std::string("%61lice:") + password);
    asio::io_context ioc;
    livefour::client c(ioc.get_executor(), o);
    for (int i = 0; i < 3; ++i) {
        livefour::diagnostics diag;
        auto [ec, r] = digits(ioc, c, diag);
        INFO(diag.client_message());
        REQUIRE_FALSE(ec);
        CHECK(r.validate_data.size() == 4);
    }
    const auto st = c.stats();
    CHECK(st.created == 1);
    CHECK(st.reused == 2);
    CHECK(proxy.connects() == 1);
    CHECK(emu.count("livegetfour") == 3);
    // The proxy saw the tunnel's target, not the request: nothing of the API in its log.
    CHECK(proxy.log().find("CONNECT 127.0.0.1:" + std::to_string(emu.port)) != std::string::npos);
    CHECK(proxy.log().find("livegetfour") == std::string::npos);
}

TEST_CASE("proxy: the API 3.0 client goes through the same tunnel (connection_options is shared)") {
    test::emulator emu;
    tinyproxy proxy({std::string("BasicAuth alice ") + password});
    livefour::faceid::client_options o;
    o.endpoint = emu.url();
    o.tls.ca_file = emu.ca_path().string();
    o.creds.secret_id = test::secret_id;
    o.creds.secret_key = livefour::secret_string(test::secret_key);
    o.thread_safe = test::thread_safe();
    o.proxy.url = "http://alice:" + std::string(password) + "@127.0.0.1";  // no port: refused up front
    CHECK(livefour::faceid::validate(o) == client_error::bad_proxy);
    o.proxy.url = proxy.url(std::string("alice:") + password);
    asio::io_context ioc;
    livefour::faceid::client c(ioc.get_executor(), o);
    for (int i = 0; i < 2; ++i) {
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(ioc, c.async_get_live_code(diag, asio::as_tuple(asio::use_awaitable)),
                                         std::chrono::seconds(60));
        INFO(diag.client_message());
        CHECK_FALSE(ec);
    }
    CHECK(c.stats().reused == 1);
    CHECK(proxy.connects() == 1);
}

TEST_CASE("proxy: a tunnel the server closed while idle is evicted by the liveness probe, not used") {
    test::emulator emu;
    tinyproxy proxy;
    emu.fault(R"({"fault":"keepalive_close","ms":100})");
    auto o = emu.options();
    o.proxy.url = proxy.url();
    o.retry = livefour::retry_policy::no_retry();  // the probe, not a retry, must handle it
    asio::io_context ioc;
    livefour::client c(ioc.get_executor(), o);
    livefour::diagnostics diag;
    REQUIRE_FALSE(std::get<0>(digits(ioc, c, diag)));
    // The emulator closes its side; tinyproxy passes the close on to ours, where the probe sees it.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto [ec, r] = digits(ioc, c, diag);
    INFO(diag.client_message());
    CHECK_FALSE(ec);
    const auto st = c.stats();
    CHECK(st.evicted == 1);
    CHECK(st.created == 2);
    CHECK(st.reused == 0);
    CHECK(proxy.connects() == 2);
}

TEST_CASE("proxy: a plain http:// endpoint is tunnelled with CONNECT too") {
    test::emulator emu({}, false);
    tinyproxy proxy;
    auto o = emu.options();
    o.proxy.url = proxy.url();
    asio::io_context ioc;
    livefour::client c(ioc.get_executor(), o);
    livefour::diagnostics diag;
    auto [ec, r] = digits(ioc, c, diag);
    INFO(diag.client_message());
    CHECK_FALSE(ec);
    CHECK(proxy.connects() == 1);
}

TEST_CASE("proxy: without or with wrong credentials: proxy_auth_required, once, no password in any text") {
    test::emulator emu;
    tinyproxy proxy({std::string("BasicAuth alice ") + password});
    asio::io_context ioc;
    for (const std::string userinfo : {std::string(), std::string("alice:Wrong-") + password}) {
        CAPTURE(userinfo);
        auto o = emu.options();
        o.proxy.url = proxy.url(userinfo);
        const int before = proxy.connects();
        livefour::client c(ioc.get_executor(), o);
        livefour::diagnostics diag;
        auto [ec, r] = digits(ioc, c, diag);
        CHECK(ec == client_error::proxy_auth_required);
        CHECK(ec == livefour::condition::auth);
        CHECK(diag.attempts() == 1);  // the same credentials fail the same way: never retried
        CHECK(proxy.connects() == before + 1);
        const auto& m = diag.client_message();
        CHECK(m.find("proxy 127.0.0.1:" + std::to_string(proxy.port)) != std::string::npos);
        // tinyproxy 1.11 answers 407 to missing credentials, but 401 to wrong ones.
        CHECK(m.find(userinfo.empty() ? "requires credentials (407 Proxy Authentication Required)"
                                      : "refused the credentials (401 Unauthorized)") != std::string::npos);
        CHECK(m.find(password) == std::string::npos);
        CHECK(ec.message().find(password) == std::string::npos);
        CHECK(emu.count("livegetfour") == 0);
    }
}

TEST_CASE("proxy: refusals and failures each have their code, and only the transient ones are retried") {
    test::emulator emu;
    asio::io_context ioc;
    auto run = [&](livefour::client_options o, livefour::diagnostics& diag) {
        o.retry.initial_backoff = std::chrono::milliseconds(1);
        livefour::client c(ioc.get_executor(), o);
        return std::get<0>(digits(ioc, c, diag));
    };
    SUBCASE("403 for a port that ConnectPort does not allow: proxy_refused, one attempt") {
        tinyproxy proxy({"ConnectPort 443"});
        auto o = emu.options();
        o.proxy.url = proxy.url();
        livefour::diagnostics diag;
        CHECK(run(o, diag) == client_error::proxy_refused);
        CHECK(diag.attempts() == 1);
        CHECK(diag.client_message().find("403") != std::string::npos);
        CHECK(proxy.connects() == 1);
    }
    SUBCASE("the proxy cannot reach the endpoint (tinyproxy's 500): proxy_gateway_error, retried") {
        tinyproxy proxy;
        auto o = emu.options();
        o.endpoint = "https://127.0.0.1:" + std::to_string(free_port());  // nobody listens there
        o.proxy.url = proxy.url();
        livefour::diagnostics diag;
        CHECK(run(o, diag) == client_error::retries_exhausted);
        REQUIRE(diag.retries().size() == 2);
        CHECK(diag.retries()[0].error == client_error::proxy_gateway_error);
        CHECK(diag.client_message().find("[livefour.client:38]") != std::string::npos);
        CHECK(proxy.connects() == 3);
        o.retry = livefour::retry_policy::no_retry();
        CHECK(run(o, diag) == client_error::proxy_gateway_error);
        CHECK(diag.client_message().find("answered CONNECT 127.0.0.1:") != std::string::npos);
        CHECK(diag.client_message().find("with 500 Unable to connect") != std::string::npos);
    }
    SUBCASE("nothing listens on the proxy's port: proxy_unreachable, retried") {
        auto o = emu.options();
        o.proxy.url = "http://alice:" + std::string(password) + "@127.0.0.1:" + std::to_string(free_port());
        livefour::diagnostics diag;
        CHECK(run(o, diag) == client_error::retries_exhausted);
        REQUIRE(diag.retries().size() == 2);
        CHECK(diag.retries()[1].error == client_error::proxy_unreachable);
        CHECK(diag.client_message().find(password) == std::string::npos);
        o.retry = livefour::retry_policy::no_retry();
        const auto ec = run(o, diag);
        CHECK(ec == client_error::proxy_unreachable);
        CHECK(ec.message() == "cannot connect to the proxy");
        CHECK(diag.client_message().find("connecting to proxy 127.0.0.1:") != std::string::npos);
        CHECK(diag.client_message().find("Connection refused") != std::string::npos);
        CHECK(diag.client_message().find(password) == std::string::npos);
        CHECK(emu.count("livegetfour") == 0);
    }
    SUBCASE("a proxy that accepts and never answers CONNECT: connect_timeout within timeouts::connect") {
        unsigned short port = 0;
        const int fd = test::listen_loopback(port);  // the kernel accepts; nobody reads or answers
        auto o = emu.options();
        o.proxy.url = "http://127.0.0.1:" + std::to_string(port);
        o.timeout.connect = std::chrono::milliseconds(300);
        o.retry = livefour::retry_policy::no_retry();
        livefour::diagnostics diag;
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(run(o, diag) == client_error::connect_timeout);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
        CHECK(diag.client_message().find("did not answer CONNECT") != std::string::npos);
        ::close(fd);
    }
}

TEST_CASE("proxy: TLS verification is against the endpoint, never the proxy, and refuses a wrong name") {
    // A certificate for DNS:localhost only, from the test CA. Each direction is checked with the
    // proxy named so that verifying against the proxy instead of the endpoint would flip the result.
    const auto& pki = test::test_pki();
    test::temp_dir dir;
    const auto key = dir / "localhost.key", cert = dir / "localhost.pem";
    auto [st, out] = test::run(
        "cd '" + dir.path().string() +
        "' && printf 'subjectAltName=DNS:localhost\\n' > ext && "
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout localhost.key -subj /CN=localhost "
        "-out req.csr 2>&1 && openssl x509 -req -in req.csr -CA '" +
        (pki / "ca.pem").string() + "' -CAkey '" + (pki / "ca.key").string() +
        "' -CAcreateserial -days 2 -extfile ext -out localhost.pem 2>&1");
    INFO(out);
    REQUIRE(st == 0);
    setenv("LIVEFOUR_SECRET_KEY", test::secret_key, 1);
    test::child emu({test::emulator_path(), "--port", "0", "--quiet", "--appid", test::appid, "--secret-id",
                     test::secret_id, "--cert", cert.string(), "--key", key.string()});
    const auto emu_port = std::to_string(emu.listening_port());
    tinyproxy proxy;
    auto options = [&](const std::string& endpoint_host, const std::string& proxy_host) {
        auto o = test::raw_server_options(0);  // the test credentials, one attempt
        o.endpoint = "https://" + endpoint_host + ":" + emu_port;
        o.allow_insecure_http = false;
        o.tls.ca_file = (pki / "ca.pem").string();
        o.proxy.url = "http://" + proxy_host + ":" + std::to_string(proxy.port);
        return o;
    };
    asio::io_context ioc;
    {
        livefour::client c(ioc.get_executor(), options("localhost", "127.0.0.1"));
        livefour::diagnostics diag;
        auto [ec, r] = digits(ioc, c, diag);
        INFO(diag.client_message());
        CHECK_FALSE(ec);
    }
    {
        livefour::client c(ioc.get_executor(), options("127.0.0.1", "localhost"));
        livefour::diagnostics diag;
        auto [ec, r] = digits(ioc, c, diag);
        CHECK(ec == client_error::tls_hostname_mismatch);
        CHECK(diag.attempts() == 1);
        CHECK(diag.client_message().find("TLS certificate of 127.0.0.1 rejected") != std::string::npos);
    }
    CHECK(proxy.connects() == 2);
}
