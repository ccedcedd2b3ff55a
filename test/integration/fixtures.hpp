// Shared fixtures of the integration tests: a running livefour-emulator and a client for it.
#pragma once

#include "support.hpp"

#include <livefour/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <optional>
#include <string_view>

namespace test {

inline constexpr const char* appid = "1250000000";
inline constexpr const char* secret_id = "AKIDEXAMPLE";
inline constexpr const char* secret_key = "SECRETKEYEXAMPLE";

/// The emulator binary: this build's, unless LIVEFOUR_TEST_EMULATOR names another (the TSan
/// stage of scripts/test.sh uses the release build's).
inline std::string emulator_path() {
    const char* e = std::getenv("LIVEFOUR_TEST_EMULATOR");
    return e && *e ? e : LIVEFOUR_EMULATOR_PATH;
}
/// The CLI binary, likewise overridable with LIVEFOUR_TEST_CLI.
inline std::string cli_path() {
    const char* e = std::getenv("LIVEFOUR_TEST_CLI");
    return e && *e ? e : LIVEFOUR_CLI_PATH;
}

/// client_options::thread_safe for every client the tests make: the default (true), unless
/// LIVEFOUR_TEST_THREAD_SAFE=0. ctest's `integration-single-threaded` runs the suite that way
/// (minus the tests that run one client on several threads), so both paths of the client — a
/// strand per operation and connection, or none — pass the same tests.
inline bool thread_safe() {
    const char* e = std::getenv("LIVEFOUR_TEST_THREAD_SAFE");
    return !(e && std::string_view(e) == "0");
}

/// livefour-emulator on 127.0.0.1, TLS with its self-made CA (or plain), stopped at scope exit.
struct emulator {
    explicit emulator(std::vector<std::string> extra = {}, bool tls = true) : tls(tls) {
        std::vector<std::string> argv = {emulator_path(), "--port", "0",           "--quiet",
                                         "--appid",       appid,    "--secret-id", secret_id};
        if (tls) {
            argv.push_back("--write-ca");
            argv.push_back(ca_path().string());
        } else {
            argv.push_back("--plain");
        }
        for (auto& e : extra) argv.push_back(e);
        setenv("LIVEFOUR_SECRET_KEY", secret_key, 1);
        proc.emplace(argv);
        port = proc->listening_port();
    }

    std::filesystem::path ca_path() const { return dir / "emulator-ca.pem"; }
    std::string url() const { return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port); }

    /// GET /_emulator/stats through curl (a peer, not our client).
    boost::json::object stats() const {
        auto [st, out] =
            run("curl -sS --max-time 10 " + (tls ? "--cacert '" + ca_path().string() + "' " : std::string()) + url() +
                "/_emulator/stats");
        REQUIRE(st == 0);
        return parse_json(out).as_object();
    }
    std::int64_t count(const char* key) const { return stats().at(key).to_number<std::int64_t>(); }

    /// Queues a fault (POST /_emulator/faults, docs/emulator.md) through curl.
    void fault(const std::string& json) const {
        auto [st, out] =
            run("curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' --data '" + json + "' " +
                (tls ? "--cacert '" + ca_path().string() + "' " : std::string()) + url() + "/_emulator/faults");
        INFO(out);
        REQUIRE(st == 0);
    }
    /// DELETE /_emulator/faults: clears queued faults and settings.
    void run_delete_faults() const {
        auto [st, out] =
            run("curl -sS --max-time 10 -X DELETE " + (tls ? "--cacert '" + ca_path().string() + "' " : std::string()) +
                url() + "/_emulator/faults");
        REQUIRE(st == 0);
    }
    /// How often the named fault fired.
    std::int64_t fired(const char* fault_name) const {
        auto st = stats();
        auto& f = st.at("faults_fired").as_object();
        auto it = f.find(fault_name);
        return it == f.end() ? 0 : it->value().to_number<std::int64_t>();
    }

    livefour::client_options options() const {
        livefour::client_options o;
        o.endpoint = url();
        o.allow_insecure_http = !tls;
        o.creds.appid = appid;
        o.creds.secret_id = secret_id;
        o.creds.secret_key = livefour::secret_string(secret_key);
        if (tls) o.tls.ca_file = ca_path().string();
        o.thread_safe = thread_safe();
        return o;
    }

    temp_dir dir;
    bool tls;
    std::optional<child> proc;
    unsigned short port = 0;
};

/// A listening TCP socket on 127.0.0.1 with a port of the kernel's choosing (for a hand-written
/// server in a test thread).
inline int listen_loopback(unsigned short& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

/// Client options for a hand-written plain-HTTP server on 127.0.0.1:port: the test credentials,
/// one attempt.
inline livefour::client_options raw_server_options(unsigned short port) {
    livefour::client_options o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.allow_insecure_http = true;
    o.creds.appid = appid;
    o.creds.secret_id = secret_id;
    o.creds.secret_key = livefour::secret_string(secret_key);
    o.retry = livefour::retry_policy::no_retry();
    o.thread_safe = thread_safe();
    return o;
}

/// The test PKI (test/peers/make_certs.sh: good, wrong-host, expired and untrusted certificates),
/// made once per test run.
inline const std::filesystem::path& test_pki() {
    static temp_dir dir;
    static bool made = [] {
        auto [st, out] =
            run(std::string("sh '") + LIVEFOUR_TEST_PEERS_DIR + "/make_certs.sh' '" + dir.path().string() + "' 2>&1");
        INFO(out);
        REQUIRE(st == 0);
        return true;
    }();
    (void)made;
    return dir.path();
}

/// Runs a coroutine to completion on `ioc`, bounded so a hang fails the test instead of CI.
template <class T>
T run_bounded(boost::asio::io_context& ioc, boost::asio::awaitable<T> op,
              std::chrono::seconds limit = std::chrono::seconds(120)) {
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) result = std::move(v);
    });
    ioc.restart();
    ioc.run_for(limit);
    if (error) std::rethrow_exception(error);
    REQUIRE_MESSAGE(result.has_value(), "operation did not complete within the time limit");
    return std::move(*result);
}

}  // namespace test
