// Opening connections and running one HTTP exchange. Explicitly instantiated below for the two
// stream types and the two body types the client uses, so only this file pays for Beast's
// serializer/parser and the TLS stream's operations.
#include "transport.hpp"

#include "classify.hpp"

#include <livefour/cancel_after.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace livefour::detail {

using namespace asio::experimental::awaitable_operators;

std::shared_ptr<ssl::context> make_tls_context(const tls_options& opts) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    // TLS 1.0/1.1 are broken and refused by the provider; never negotiate them.
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (opts.verify_peer) {
        ctx->set_verify_mode(ssl::verify_peer);
        if (opts.ca_file.empty())
            ctx->set_default_verify_paths();
        else
            ctx->load_verify_file(opts.ca_file);  // replaces, not extends, the system store
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    return ctx;
}

tls_session_cache::~tls_session_cache() {
    if (session_) SSL_SESSION_free(session_);
}

void tls_session_cache::offer(SSL* ssl) {
    std::lock_guard lock(mu_);
    if (session_) SSL_set_session(ssl, session_);
}

void tls_session_cache::store(SSL* ssl) {
    SSL_SESSION* live = SSL_get1_session(ssl);
    if (!live) return;
    // Keep a copy: OpenSSL marks a connection's own session not resumable when that connection is
    // freed without a close_notify, which is how pooled connections end (see connection::close).
    SSL_SESSION* s = SSL_SESSION_is_resumable(live) ? SSL_SESSION_dup(live) : nullptr;
    SSL_SESSION_free(live);
    if (!s) return;
    std::lock_guard lock(mu_);
    if (session_) SSL_SESSION_free(session_);
    session_ = s;
}

connection::connection(const asio::any_io_executor& ex, ssl::context* ctx) {
    if (ctx)
        tls.emplace(ex, *ctx);
    else
        plain.emplace(ex);
}

beast::tcp_stream& connection::lowest() noexcept { return tls ? tls->next_layer() : *plain; }

void connection::close() noexcept {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
}

namespace {

void arm(beast::tcp_stream& s, std::chrono::milliseconds d) {
    if (d.count() > 0)
        s.expires_after(d);
    else
        s.expires_never();
}

/// Waits until the socket accepts writes, for at most `stall` (0: no limit). A timeout is
/// client_error::stall_timeout; the caller's cancellation is operation_aborted.
asio::awaitable<error_code> wait_writable(beast::tcp_stream& s, std::chrono::milliseconds stall) {
    auto& sock = s.socket();
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    error_code ec;
    if (stall.count() <= 0)
        std::tie(ec) = co_await sock.async_wait(tcp::socket::wait_write, use_tuple);
    else
        std::tie(ec) = co_await sock.async_wait(tcp::socket::wait_write, cancel_after(stall, use_tuple));
    if (stop_requested(cs)) co_return asio::error::operation_aborted;
    // Not ours: cancel_after's timer stopped the wait.
    if (ec == asio::error::operation_aborted) co_return client_error::stall_timeout;
    co_return ec;
}

/// Maps a low-level failure to a phase-specific client error where the cause is ours to name.
error_code phase_error(const error_code& ec, client_error on_timeout) {
    if (ec == beast::error::timeout) return on_timeout;
    return ec;
}

error_code classify_verify_result(long v) {
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return client_error::tls_certificate_expired;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return client_error::tls_hostname_mismatch;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return client_error::tls_untrusted_certificate;
    default: return client_error::tls_verification_failed;
    }
}

/// Asks the proxy for a tunnel to the endpoint on the connected `s` (RFC 9110 §9.3.6) and reads
/// its answer, within what is left of the connect bound (`s`'s expiry, still armed by the caller).
/// The answer is read in small pieces and parsed by parse_connect_answer(), bounded by the header
/// limit. Credentials exist only in the request's secret_string, wiped when this returns.
asio::awaitable<error_code> open_tunnel(beast::tcp_stream& s, const endpoint_info& ep, const proxy_info& proxy,
                                        std::size_t limit, diagnostics& diag, const asio::cancellation_state& cs) {
    const std::string target = connect_authority(ep.host, ep.port);
    const std::string where = "proxy " + proxy.display;
    auto io_failed = [&](const error_code& ec, const std::string& doing) {
        if (ec == beast::error::timeout) {
            diag.set_client_message(where + " did not answer CONNECT " + target + " within timeouts::connect");
            return error_code(client_error::connect_timeout);
        }
        diag.set_client_message(doing + ": " + ec.message());
        return error_code(client_error::proxy_unreachable);
    };
    {
        const secret_string request = connect_request(target, proxy);
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(request.reveal()), use_tuple);
        if (stop_requested(cs)) co_return asio::error::operation_aborted;
        if (ec) co_return io_failed(ec, "sending CONNECT to " + where);
    }
    std::string answer;
    char chunk[1024];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk, std::min(sizeof chunk, limit + 1)), use_tuple);
        if (stop_requested(cs)) co_return asio::error::operation_aborted;
        if (ec == asio::error::eof || ec == asio::error::connection_reset) {
            diag.set_client_message(where + " closed the connection " +
                                    (answer.empty() ? "without answering" : "in the middle of its answer to") +
                                    " CONNECT " + target);
            co_return client_error::proxy_unreachable;
        }
        if (ec) co_return io_failed(ec, "reading the answer of " + where + " to CONNECT");
        answer.append(chunk, n);
        const connect_answer a = parse_connect_answer(answer, limit);
        if (!a.complete && !a.ec) continue;
        if (!a.ec) co_return error_code{};
        const std::string status = a.status ? std::to_string(a.status) + (a.reason.empty() ? "" : " " + a.reason) : "";
        if (a.ec == client_error::proxy_auth_required) {
            std::string m = proxy.authorization.empty() ? where + " requires credentials (" + status +
                                                              "): give them as http://user:password@host:port"
                                                        : where + " refused the credentials (" + status + ")";
            if (!a.schemes.empty() && a.schemes.find("Basic") == std::string::npos)
                m += "; it asks for " + a.schemes + ", livefour sends only Basic";
            diag.set_client_message(m);
        } else if (a.ec == client_error::proxy_bad_response) {
            diag.set_client_message(
                a.over_limit ? where + "'s answer to CONNECT exceeds max_header_bytes (" + std::to_string(limit) + ")"
                : a.status == 0 ? where + " did not answer CONNECT in HTTP/1.x (is it an HTTP proxy?)"
                                : where + " sent bytes after its " + status + " answer, before the client spoke");
        } else {
            diag.set_client_message(where + " answered CONNECT " + target + " with " + status);
        }
        co_return a.ec;
    }
}

}  // namespace

asio::awaitable<error_code> open_connection(connection& c, const endpoint_info& ep, const transport_options& opts,
                                            tls_session_cache& sessions, diagnostics& diag, bool thread_safe) {
    // Spawned onto the connection's strand: let every cancellation type through (see exchange()).
    if (thread_safe) {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        co_await asio::this_coro::throw_if_cancelled(false);
    }
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    auto aborted = [&] {
        diag.set_client_message("cancelled while connecting to " + ep.host);
        return error_code(asio::error::operation_aborted);
    };
    auto ex = co_await asio::this_coro::executor;
    auto& lowest = c.lowest();
    const auto connect_budget = opts.connect;
    // Through a proxy the socket goes to the proxy; everything after the tunnel (SNI, the expected
    // name, the session cache) is about the endpoint, as if connected directly.
    const proxy_info* proxy = ep.proxy ? &*ep.proxy : nullptr;
    const std::string& host = proxy ? proxy->host : ep.host;
    const std::string& port = proxy ? proxy->port : ep.port;
    const std::string peer = proxy ? "proxy " + proxy->display : ep.host + ":" + ep.port;
    const std::string peer_host = proxy ? "proxy host " + proxy->host : ep.host;
    // A proxy we cannot reach gets its own code (the cause stays in the message); a timeout keeps
    // the code of its bound, as every timeout does.
    auto unreachable = [&](const error_code& ec) {
        return proxy && ec != asio::error::operation_aborted ? error_code(client_error::proxy_unreachable) : ec;
    };

    // Resolution runs on Asio's private resolver thread and cannot be bounded by tcp_stream's
    // timer, so race it against one of our own.
    tcp::resolver resolver(ex);
    tcp::resolver::results_type results;
    const auto started = std::chrono::steady_clock::now();
    if (connect_budget.count() > 0) {
        asio::steady_timer timer(ex, connect_budget);
        auto r = co_await (resolver.async_resolve(host, port, use_tuple) || timer.async_wait(use_tuple));
        // Cancelled, either branch may complete first (with operation_aborted): not a timeout.
        if (stop_requested(cs)) co_return aborted();
        if (r.index() == 1) {
            diag.set_client_message("resolving " + peer_host + " timed out");
            co_return client_error::resolve_timeout;
        }
        auto [ec, res] = std::get<0>(std::move(r));
        if (ec) {
            diag.set_client_message("resolving " + peer_host + ": " + ec.message());
            co_return unreachable(ec);
        }
        results = std::move(res);
    } else {
        auto [ec, res] = co_await resolver.async_resolve(host, port, use_tuple);
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            diag.set_client_message("resolving " + peer_host + ": " + ec.message());
            co_return unreachable(ec);
        }
        results = std::move(res);
    }

    if (connect_budget.count() > 0) {
        auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        lowest.expires_after(std::max(connect_budget - spent, std::chrono::milliseconds{1}));
    } else {
        lowest.expires_never();
    }
    {
        const auto connect_started = std::chrono::steady_clock::now();
        c.opened.resolve = std::chrono::duration_cast<std::chrono::microseconds>(connect_started - started);
        auto [ec, endpoint] = co_await lowest.async_connect(results, use_tuple);
        c.opened.connect =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - connect_started);
        if (!ec) c.opened.peer = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            diag.set_client_message("connecting to " + peer + ": " +
                                    (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
            if (ec == beast::error::timeout) co_return client_error::connect_timeout;
            co_return unreachable(ec);
        }
    }
    // Headers and the final short write of a body must not wait for delayed ACKs.
    lowest.socket().set_option(tcp::no_delay(true));
    // The stream's expiry set above still runs: the proxy's answer counts against the connect bound.
    if (proxy)
        if (auto ec = co_await open_tunnel(lowest, ep, *proxy, opts.limits.max_header_bytes, diag, cs)) {
            if (ec == asio::error::operation_aborted) co_return aborted();
            co_return ec;
        }

    if (c.tls) {
        SSL* ssl = c.tls->native_handle();
        if (!ep.host_is_ip && !SSL_set_tlsext_host_name(ssl, ep.host.c_str())) {
            diag.set_client_message("cannot set SNI host name");
            co_return client_error::tls_verification_failed;
        }
        if (opts.verify_peer) {
            // Checked by OpenSSL during chain verification, so the verify result names the cause.
            int ok = ep.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep.host.c_str())
                                   : SSL_set1_host(ssl, ep.host.c_str());
            if (ok != 1) {
                diag.set_client_message("cannot set the expected peer name");
                co_return client_error::tls_verification_failed;
            }
        }
        sessions.offer(ssl);
        arm(lowest, opts.handshake);
        const auto handshake_started = std::chrono::steady_clock::now();
        auto [ec] = co_await c.tls->async_handshake(use_tuple);
        c.opened.handshake =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - handshake_started);
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            if (is_tls_verify_failure(ec)) {
                long v = SSL_get_verify_result(ssl);
                diag.set_client_message(std::string("TLS certificate of ") + ep.host +
                                        " rejected: " + X509_verify_cert_error_string(v));
                co_return classify_verify_result(v);
            }
            diag.set_client_message("TLS handshake with " + ep.host + ": " +
                                    (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
            co_return phase_error(ec, client_error::handshake_timeout);
        }
        c.resumed = SSL_session_reused(ssl) == 1;
        c.opened.tls_version = SSL_get_version(ssl);
    }
    lowest.expires_never();
    co_return error_code{};
}

namespace {

/// The stall bound and buffer care of one exchange on a connection (run_exchange's Io).
template <class Stream>
class connection_io {
public:
    connection_io(Stream& s, connection& c, std::chrono::milliseconds stall)
        : stream_(s), lowest_(c.lowest()), buffer_(c.buffer), stall_(stall) {
        // An upload in flight holds only its ciphertext, not the last reply's read buffer.
        if constexpr (is_tls) stream_.shrink_buffers();
    }
    void arm() { detail::arm(lowest_, stall_); }
    std::chrono::milliseconds stall() const noexcept { return stall_; }
    asio::awaitable<error_code> wait_writable() { return detail::wait_writable(lowest_, stall_); }
    void after_write() {
        // Frees what a write the kernel did not take at once (finished asynchronously) left behind.
        if constexpr (is_tls) stream_.shrink_buffers();
    }
    void after_response() {
        lowest_.expires_never();
        // An idle pooled connection keeps no read buffers (about 33 KiB per connection otherwise,
        // which is most of what a connection costs besides OpenSSL's own state).
        if (buffer_.size() == 0) buffer_.shrink_to_fit();
        if constexpr (is_tls) stream_.shrink_buffers();
    }

private:
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;
    Stream& stream_;
    beast::tcp_stream& lowest_;
    beast::flat_buffer& buffer_;
    std::chrono::milliseconds stall_;
};

template <class Stream>
asio::awaitable<exchange_result> exchange_on(Stream& stream, connection& c, request_type& req,
                                             const transport_options& opts,
                                             const std::function<void(std::uint64_t)>& on_body_bytes) {
    auto limits = opts.limits;
    // The request asked to be told before its body goes out (the engine sets Expect for large bodies).
    if (beast::iequals(req[http::field::expect], "100-continue")) limits.continue_wait = opts.continue_wait;
    exchange_algo algo(req, c.buffer, limits, std::is_same_v<Stream, tls_stream>, on_body_bytes);
    connection_io<Stream> io(stream, c, opts.stall);
    co_return co_await run_exchange(stream, io, algo);
}

}  // namespace

asio::awaitable<exchange_result> exchange(connection& c, request_type& req, const transport_options& opts,
                                          const std::function<void(std::uint64_t)>& on_body_bytes, bool thread_safe) {
    // Spawned onto the connection's strand, this coroutine starts with Asio's terminal-only
    // cancellation filter, which would swallow the partial and total requests the caller's
    // operation forwards.
    if (thread_safe) {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        co_await asio::this_coro::throw_if_cancelled(false);
    }
    if (c.tls) co_return co_await exchange_on(*c.tls, c, req, opts, on_body_bytes);
    co_return co_await exchange_on(*c.plain, c, req, opts, on_body_bytes);
}

}  // namespace livefour::detail
