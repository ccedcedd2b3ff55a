// The emulator's own limits against hostile clients over real sockets (docs/emulator.md,
// "Connections and limits"): chunk framing that never ends is refused after a bounded read and in
// bounded memory; the known-wrong Beast assertion (src/boost_assert_handler.cpp) aborts neither
// the emulator nor the client in builds with assertions on (the asan stage runs these tests).
// The slowloris test is test/peers/emulator_slowloris.py.
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace asio = boost::asio;
using livefour::client_error;
using namespace std::chrono_literals;

namespace {

/// A blocking TCP connection to 127.0.0.1:port, Nagle off (each send() leaves at once).
int connect_loopback(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Everything the peer sends until it closes, or until `limit` passes (then `closed` stays false).
struct received {
    std::string bytes;
    bool closed = false;
};
received read_until_close(int fd, std::chrono::milliseconds limit) {
    received r;
    const auto until = std::chrono::steady_clock::now() + limit;
    char buf[16384];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return r;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            r.closed = true;  // FIN or reset
            return r;
        }
        r.bytes.append(buf, static_cast<std::size_t>(n));
    }
}

/// Sends `head`, then `filler` bytes of 'a' in 64 KiB writes (a chunk extension or trailer that
/// never ends), from a thread, until `total` is sent or the emulator stops reading. Returns
/// what the emulator answered within `limit`. With `sent_out`, keeps sending after the answer
/// (the emulator reads and discards for a while) and reports how much went out.
received hostile_framing(unsigned short port, const std::string& head, std::uint64_t total,
                         std::chrono::milliseconds limit, std::uint64_t* sent_out = nullptr) {
    const int fd = connect_loopback(port);
    std::atomic<std::uint64_t> sent{0};
    std::thread sender([&] {
        if (!send_all(fd, head)) return;
        const std::string junk(64 * 1024, 'a');
        while (sent < total && send_all(fd, junk)) sent += junk.size();
    });
    auto r = read_until_close(fd, limit);
    if (sent_out && r.closed) sender.join();  // until `total`, or until the emulator stops reading
    ::shutdown(fd, SHUT_RDWR);                // unblocks the sender if the emulator stopped reading
    if (sender.joinable()) sender.join();
    ::close(fd);
    if (sent_out) *sent_out = sent;
    return r;
}

const std::string chunked_head =
    "POST /face/livegetfour HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

}  // namespace

TEST_CASE("emulator: an endless chunk extension or trailer is refused (400, code 3) and the connection closed") {
    test::emulator emu({}, false);
    struct variant {
        const char* name;
        std::string head;
    };
    const variant variants[] = {
        {"chunk extension", chunked_head + "1;ext="},
        {"chunk-size line", chunked_head + "1"},  // then a, a, a...: a hex size whose line never ends
        {"trailer", chunked_head + "2\r\n{}\r\n0\r\nX-Trailer: "},
    };
    for (const auto& v : variants) {
        CAPTURE(v.name);
        const auto start = std::chrono::steady_clock::now();
        // 16 MiB of framing: before the fix the emulator buffered all of it and waited for more.
        const auto r = hostile_framing(emu.port, v.head, 16u << 20, 10s);
        INFO(r.bytes.substr(0, 300));
        CHECK(r.bytes.rfind("HTTP/1.1 400 ", 0) == 0);
        CHECK(r.bytes.find("\"code\":3") != std::string::npos);
        CHECK(r.bytes.find("chunk extensions or trailer too large") != std::string::npos);
        CHECK(r.bytes.find("Connection: close") != std::string::npos);
        CHECK(r.closed);
        CHECK(std::chrono::steady_clock::now() - start < 8s);
    }
    CHECK(emu.count("chunk_framing_refused") == 3);  // and the emulator still serves
}

TEST_CASE("peak RSS: an endless chunk extension costs the emulator bounded memory") {
    test::emulator emu({}, false);
    (void)emu.stats();  // the first request allocates what every connection needs
    const pid_t pid = emu.proc->pid();
    const long before = test::proc_status_kib(pid, "VmRSS");
    REQUIRE(before > 0);
    std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";  // VmHWM := VmRSS
    std::uint64_t sent = 0;
    const auto r = hostile_framing(emu.port, chunked_head + "1;ext=", 64u << 20, 20s, &sent);
    const long peak = test::proc_status_kib(pid, "VmHWM");
    MESSAGE("emulator RSS before " << before << " KiB, peak " << peak << " KiB; sent " << (sent >> 10)
                                   << " KiB of framing");
    CHECK(r.bytes.rfind("HTTP/1.1 400 ", 0) == 0);
    // Unbounded, the buffer would hold the whole 64 MiB; bounded, it holds 8 KiB + 64 KiB.
    CHECK(peak - before < 8 * 1024);
}

TEST_CASE("emulator: a chunked body whose last chunk arrives as \"0\\r\\n\" and then one byte") {
    // Beast 1.81's parse_chunk_header asserts n >= 5 there (wrongly): builds with assertions on
    // aborted on this valid request before src/boost_assert_handler.cpp.
    test::emulator emu({}, false);
    const int fd = connect_loopback(emu.port);
    REQUIRE(send_all(fd, chunked_head + "0\r\n"));
    std::this_thread::sleep_for(300ms);
    REQUIRE(send_all(fd, "\r"));
    std::this_thread::sleep_for(300ms);
    REQUIRE(send_all(fd, "\n"));
    ::shutdown(fd, SHUT_WR);
    const auto r = read_until_close(fd, 10s);
    ::close(fd);
    INFO(r.bytes);
    CHECK(r.bytes.rfind("HTTP/1.1 200 ", 0) == 0);
    CHECK(r.bytes.find("\"code\":4") != std::string::npos);  // no Authorization header: code 4
    CHECK(emu.count("connections_accepted") >= 1);           // still alive
}

TEST_CASE("client: a chunked reply whose last chunk arrives as \"0\\r\\n\" and then one byte") {
    // The same Beast assertion on the client's side, reading a response.
    unsigned short port = 0;
    const int lfd = test::listen_loopback(port);
    std::thread server([lfd] {
        const int c = ::accept(lfd, nullptr, nullptr);
        if (c < 0) return;
        int one = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
            const auto n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            req.append(buf, static_cast<std::size_t>(n));
        }
        (void)send_all(c,
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
        std::this_thread::sleep_for(300ms);
        (void)send_all(c, "\r");
        std::this_thread::sleep_for(300ms);
        (void)send_all(c, "\n");
        (void)read_until_close(c, 5s);
        ::close(c);
    });
    {
        asio::io_context ioc;
        livefour::client cl(ioc.get_executor(), test::raw_server_options(port));
        livefour::diagnostics diag;
        auto [ec, r] = test::run_bounded(
            ioc, cl.async_get_digits(livefour::digits_request{}, diag, asio::as_tuple(asio::use_awaitable)), 30s);
        CHECK(ec == client_error::non_json_response);  // an empty body: parsed, not aborted on
        CHECK(diag.http_status() == 200);
        cl.close();
    }
    ::shutdown(lfd, SHUT_RDWR);
    ::close(lfd);
    server.join();
}
