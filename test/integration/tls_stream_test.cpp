// detail::tls_stream (src/tls_stream.hpp) against a peer we did not write: asio::ssl::stream on
// the server side. What the client-level tests cannot see directly: one write_some takes a whole
// large buffer (asio's stream takes one 16 KiB record), how a peer's close maps to errors, that a
// failed verification still sends its alert, and that terminal cancellation and the tcp_stream
// timer reach a blocked operation.
#include "fixtures.hpp"

#include "../../src/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <numeric>

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using livefour::detail::tls_stream;
using error_code = boost::system::error_code;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

const std::filesystem::path& pki() { return test::test_pki(); }

/// A TLS server (asio::ssl::stream) and a client context trusting `ca`, on one io_context.
struct tls_peers {
    explicit tls_peers(const std::string& ca = "ca") {
        server_ctx.use_certificate_chain_file((pki() / "server.pem").string());
        server_ctx.use_private_key_file((pki() / "server.key").string(), ssl::context::pem);
        client_ctx.set_verify_mode(ssl::verify_peer);
        client_ctx.load_verify_file((pki() / (ca + ".pem")).string());
    }

    /// The server side of the next connection, handshake done (or failed: `ec`).
    asio::awaitable<std::unique_ptr<ssl::stream<tcp::socket>>> accept(error_code& ec) {
        auto [aec, sock] = co_await acceptor.async_accept(tuple);
        REQUIRE(!aec);
        auto s = std::make_unique<ssl::stream<tcp::socket>>(std::move(sock), server_ctx);
        std::tie(ec) = co_await s->async_handshake(ssl::stream_base::server, tuple);
        co_return s;
    }

    /// Connects `c` and names the expected host (SNI and certificate check), as open_connection does.
    asio::awaitable<error_code> connect(tls_stream& c) {
        SSL_set_tlsext_host_name(c.native_handle(), "localhost");
        SSL_set1_host(c.native_handle(), "localhost");
        auto [ec] = co_await c.next_layer().async_connect(acceptor.local_endpoint(), tuple);
        co_return ec;
    }

    /// Runs the coroutines to completion (bounded: a hang fails the test instead of the run).
    template <class... Coros>
    void run(Coros&&... coros) {
        int done = 0;
        (asio::co_spawn(io, std::forward<Coros>(coros),
                        [&](std::exception_ptr e) {
                            ++done;
                            if (e) std::rethrow_exception(e);
                        }),
         ...);
        io.run_for(std::chrono::seconds(60));
        REQUIRE(done == static_cast<int>(sizeof...(Coros)));
    }

    asio::io_context io;
    ssl::context server_ctx{ssl::context::tls_server};
    ssl::context client_ctx{ssl::context::tls_client};
    tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
};

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

}  // namespace

TEST_CASE("tls_stream: one write_some encrypts all it is offered; bytes arrive intact both ways") {
    tls_peers p;
    // Header-like first buffer + body buffer + trailer, then sizes around record boundaries, then
    // more than one operation may take (it takes max_write_plaintext and says so).
    const std::vector<std::size_t> sizes = {1,     16383,           16384,
                                            16385, 1024 * 1024 + 7, tls_stream::max_write_plaintext + 100};
    const std::string head = "POST /face/livedetectfour HTTP/1.1\r\n\r\n";
    const std::string body = pattern(256 * 1024, 1), tail = "\r\n--b--\r\n";
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < sizes.size(); ++i) chunks.push_back(pattern(sizes[i], 10 + unsigned(i)));
    const std::string sent = head + body + tail + std::accumulate(chunks.begin(), chunks.end(), std::string());
    const std::string reply = pattern(300 * 1024 + 3, 99);
    std::string received, answered;

    p.run(
        [&]() -> asio::awaitable<void> {
            error_code ec;
            auto s = co_await p.accept(ec);
            REQUIRE(!ec);
            received.resize(sent.size());
            auto [rec, n] = co_await asio::async_read(*s, asio::buffer(received), tuple);
            CHECK(!rec);
            co_await asio::async_write(*s, asio::buffer(reply), tuple);
            co_await s->async_shutdown(tuple);  // close_notify; completes when the client closes
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            auto [hec] = co_await c.async_handshake(tuple);
            REQUIRE(!hec);

            std::array<asio::const_buffer, 3> first{asio::buffer(head), asio::buffer(body), asio::buffer(tail)};
            auto [ec, n] = co_await c.async_write_some(first, tuple);
            REQUIRE(!ec);
            CHECK(n == head.size() + body.size() + tail.size());
            for (auto& chunk : chunks) {
                std::size_t off = 0;
                auto [wec, w] = co_await c.async_write_some(asio::buffer(chunk), tuple);
                REQUIRE(!wec);
                CHECK(w == std::min(chunk.size(), tls_stream::max_write_plaintext));
                off += w;
                while (off < chunk.size()) {
                    std::tie(wec, w) =
                        co_await c.async_write_some(asio::buffer(chunk.data() + off, chunk.size() - off), tuple);
                    REQUIRE(!wec);
                    off += w;
                }
            }
            char buf[7000];
            for (;;) {
                auto [rec, m] = co_await c.async_read_some(asio::buffer(buf), tuple);
                answered.append(buf, m);
                if (rec) {
                    CHECK(rec == asio::error::eof);  // the server's close_notify: a clean end
                    break;
                }
            }
            c.next_layer().close();
        }());
    CHECK(received == sent);
    CHECK(answered == reply);
}

TEST_CASE("tls_stream: a TCP close without close_notify is stream_truncated") {
    tls_peers p;
    std::string got;
    error_code last;
    p.run(
        [&]() -> asio::awaitable<void> {
            error_code ec;
            auto s = co_await p.accept(ec);
            REQUIRE(!ec);
            co_await asio::async_write(*s, asio::buffer(std::string("hello")), tuple);
            s->next_layer().close();
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            REQUIRE(!std::get<0>(co_await c.async_handshake(tuple)));
            char buf[64];
            for (;;) {
                auto [ec, n] = co_await c.async_read_some(asio::buffer(buf), tuple);
                got.append(buf, n);
                if (ec) {
                    last = ec;
                    break;
                }
            }
        }());
    CHECK(got == "hello");
    CHECK(last == ssl::error::stream_truncated);
}

TEST_CASE("tls_stream: a rejected certificate fails with the verify reason and the peer gets the alert") {
    tls_peers p("untrusted_ca");  // the server's chain does not lead to this CA
    error_code server_ec, client_ec;
    long verify = X509_V_OK;
    p.run([&]() -> asio::awaitable<void> { co_await p.accept(server_ec); }(),
          [&]() -> asio::awaitable<void> {
              tls_stream c(p.io.get_executor(), p.client_ctx);
              REQUIRE(!(co_await p.connect(c)));
              std::tie(client_ec) = co_await c.async_handshake(tuple);
              verify = SSL_get_verify_result(c.native_handle());
          }());
    REQUIRE(client_ec);
    CHECK(client_ec.category() == asio::error::get_ssl_category());
    CHECK(ERR_GET_REASON(static_cast<unsigned long>(client_ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED);
    CHECK(verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    // An alert from us, not a bare close: the server's error is a TLS alert, not truncation.
    CHECK(server_ec.category() == asio::error::get_ssl_category());
}

TEST_CASE("tls_stream: terminal cancellation aborts a write the peer does not read") {
    tls_peers p;
    asio::steady_timer hold(p.io, std::chrono::seconds(30));
    asio::cancellation_signal cancel;
    error_code last;
    std::size_t writes = 0;
    const std::string chunk = pattern(4 * 1024 * 1024, 5);
    p.run(
        [&]() -> asio::awaitable<void> {
            error_code ec;
            auto s = co_await p.accept(ec);
            REQUIRE(!ec);
            co_await hold.async_wait(tuple);  // never reads
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            REQUIRE(!std::get<0>(co_await c.async_handshake(tuple)));
            asio::steady_timer later(p.io, std::chrono::milliseconds(300));
            later.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::terminal); });
            const auto started = std::chrono::steady_clock::now();
            while (writes < 64) {  // 256 MiB: far beyond what socket buffers hold
                auto [ec, n] = co_await c.async_write_some(asio::buffer(chunk),
                                                           asio::bind_cancellation_slot(cancel.slot(), tuple));
                ++writes;
                if (ec) {
                    last = ec;
                    break;
                }
            }
            CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
            hold.cancel();
        }());
    CHECK(writes < 64);
    CHECK(last == asio::error::operation_aborted);
}

TEST_CASE("tls_stream: a read waiting for the peer stops on partial cancellation; nothing is lost") {
    tls_peers p;
    asio::steady_timer go(p.io, std::chrono::seconds(30));
    asio::cancellation_signal cancel;
    error_code first;
    std::string later;
    p.run(
        [&]() -> asio::awaitable<void> {
            error_code ec;
            auto s = co_await p.accept(ec);
            REQUIRE(!ec);
            co_await go.async_wait(tuple);  // until the client's first read was cancelled
            co_await asio::async_write(*s, asio::buffer(std::string("after the cancellation")), tuple);
            co_await s->async_shutdown(tuple);
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            REQUIRE(!std::get<0>(co_await c.async_handshake(tuple)));
            asio::steady_timer soon(p.io, std::chrono::milliseconds(200));
            soon.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::partial); });
            char buf[64];
            std::size_t n = 0;
            std::tie(first, n) =
                co_await c.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(cancel.slot(), tuple));
            CHECK(n == 0);
            go.cancel();
            for (;;) {
                auto [ec, m] = co_await c.async_read_some(asio::buffer(buf), tuple);
                later.append(buf, m);
                if (ec) {
                    CHECK(ec == asio::error::eof);
                    break;
                }
            }
            c.next_layer().close();
        }());
    CHECK(first == asio::error::operation_aborted);
    CHECK(later == "after the cancellation");
}

TEST_CASE("tls_stream: the tcp_stream timer bounds a handshake with a silent peer") {
    tls_peers p;
    error_code ec;
    tcp::socket silent(p.io);
    p.run(
        [&]() -> asio::awaitable<void> {
            auto [aec, s] = co_await p.acceptor.async_accept(tuple);
            silent = std::move(s);  // accepts, never answers the ClientHello
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            c.next_layer().expires_after(std::chrono::milliseconds(200));
            std::tie(ec) = co_await c.async_handshake(tuple);
        }());
    CHECK(ec == boost::beast::error::timeout);
}

TEST_CASE("tls_stream: a second operation while one is in flight fails with in_progress") {
    tls_peers p;
    error_code first, second;
    p.run(
        [&]() -> asio::awaitable<void> {
            error_code ec;
            auto s = co_await p.accept(ec);
            REQUIRE(!ec);
            asio::steady_timer t(p.io, std::chrono::milliseconds(200));
            co_await t.async_wait(tuple);
            co_await asio::async_write(*s, asio::buffer(std::string("x")), tuple);
            co_await s->async_shutdown(tuple);
        }(),
        [&]() -> asio::awaitable<void> {
            tls_stream c(p.io.get_executor(), p.client_ctx);
            REQUIRE(!(co_await p.connect(c)));
            REQUIRE(!std::get<0>(co_await c.async_handshake(tuple)));
            char a[8], b[8];
            bool first_done = false;
            c.async_read_some(asio::buffer(a), [&](error_code ec, std::size_t) {
                first = ec;
                first_done = true;
            });
            std::tie(second, std::ignore) = co_await c.async_read_some(asio::buffer(b), tuple);
            CHECK_FALSE(first_done);  // the refusal does not disturb the operation in flight
            asio::steady_timer t(p.io, std::chrono::seconds(5));
            while (!first_done) {
                t.expires_after(std::chrono::milliseconds(20));
                co_await t.async_wait(tuple);
            }
            c.next_layer().close();
        }());
    CHECK(second == asio::error::in_progress);
    CHECK(!first);
}
