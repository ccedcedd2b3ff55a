// Internal: one HTTP/1.1 connection (TLS or plain), how it is opened, and one request/response
// exchange on it with per-phase timeouts. Beast's serializer/parser and the TLS stream's
// operations are instantiated only in src/transport.cpp and src/exchange.cpp.
#pragma once

#include "endpoint.hpp"
#include "exchange.hpp"
#include "tls_stream.hpp"

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/options.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace livefour::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

/// The awaitable completion token used throughout: errors come back as values, never as exceptions.
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Whether the calling coroutine has recorded a cancellation. Every coroutine of an operation asks
/// after each co_await, whatever that await returned: a cancellation that arrives while no
/// cancellable operation is pending (the previous one's completion already queued, or between two
/// operations) is recorded in the coroutine's cancellation state and reaches no socket, so nothing
/// else would ever act on it — an upload would run on to its end (docs/reference.md,
/// "Cancellation").
inline bool stop_requested(const asio::cancellation_state& cs) noexcept {
    return cs.cancelled() != asio::cancellation_type::none;
}

/// Builds the client's TLS context from the options: TLS >= 1.2, peer verification, system store
/// or the given CA file. Throws system_error on an unreadable CA file.
std::shared_ptr<ssl::context> make_tls_context(const tls_options& opts);

/// The most recent resumable TLS session to the endpoint, offered on every new connection so a
/// pool that grows (or replaces a dead connection) skips the full handshake. Thread-safe.
class tls_session_cache {
public:
    tls_session_cache() = default;
    tls_session_cache(const tls_session_cache&) = delete;
    ~tls_session_cache();
    /// Offers the cached session (if any) to `ssl` before its handshake.
    void offer(SSL* ssl);
    /// Keeps `ssl`'s session if it is resumable. Call after the first response: a TLS 1.3
    /// session ticket arrives after the handshake.
    void store(SSL* ssl);

private:
    std::mutex mu_;
    SSL_SESSION* session_ = nullptr;
};

struct connection {
    connection(const asio::any_io_executor& ex, ssl::context* ctx);

    beast::tcp_stream& lowest() noexcept;
    /// Closes the socket without a TLS close_notify: a pooled connection's shutdown would only
    /// wait on the peer (Beast issues 2807/3040), and the server learns of the close from the FIN.
    void close() noexcept;

    std::optional<beast::tcp_stream> plain;
    std::optional<tls_stream> tls;  ///< see tls_stream.hpp: large socket writes, OpenSSL driven directly
    beast::flat_buffer buffer;
    /// How the connection was opened (attempt events): phase durations, the peer, the TLS version.
    struct open_info {
        std::chrono::microseconds resolve{0}, connect{0}, handshake{0};
        std::string peer;         ///< "address:port"
        std::string tls_version;  ///< e.g. "TLSv1.3"
    } opened;
    bool resumed = false;         ///< the TLS handshake resumed a cached session
    bool session_stored = false;  ///< this connection's session went to the cache already
};

/// What the transport needs to know, and no more: bounds and limits, nothing of a protocol.
struct transport_options {
    std::chrono::milliseconds connect{std::chrono::seconds{10}};    ///< resolve + connect (0: none)
    std::chrono::milliseconds handshake{std::chrono::seconds{10}};  ///< TLS handshake (0: none)
    std::chrono::milliseconds stall{std::chrono::seconds{30}};      ///< no progress (0: none)
    bool verify_peer = true;  ///< check the peer's name (the chain is the TLS context's business)
    /// How long a request with `Expect: 100-continue` waits for the server's word before sending
    /// its body anyway.
    std::chrono::milliseconds continue_wait{std::chrono::seconds{1}};
    exchange_limits limits;
};

/// Resolve + connect (transport_options::connect) and TLS handshake (::handshake) with SNI and
/// host-name verification. `thread_safe` (client_options): this coroutine was co_spawned onto the
/// connection's strand, where Asio's default filter would pass only terminal cancellation, so it
/// lets every type through. Awaited in the operation's own coroutine it keeps that coroutine's
/// state: a reset would also forget a cancellation already received.
asio::awaitable<error_code> open_connection(connection& c, const endpoint_info& ep, const transport_options& opts,
                                            tls_session_cache& sessions, diagnostics& diag, bool thread_safe);

/// Sends `req` (prepared) on the open connection `c` and reads the reply (exchange.hpp), with
/// the stall bound re-armed on every step. `on_body_bytes` receives body bytes sent per write.
/// `thread_safe`: as for open_connection().
asio::awaitable<exchange_result> exchange(connection& c, request_type& req, const transport_options& opts,
                                          const std::function<void(std::uint64_t)>& on_body_bytes, bool thread_safe);

}  // namespace livefour::detail
