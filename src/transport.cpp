// Opening connections and running one HTTP exchange. Explicitly instantiated below for the two
// stream types and the two body types the client uses, so only this file pays for Beast's
// serializer/parser and the TLS stream's operations.
#include "transport.hpp"

#include <livefour/cancel_after.hpp>
#include <livefour/detail/multipart_body.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/read_size.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sstream>

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

bool is_tls_verify_failure(const error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
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

}  // namespace

asio::awaitable<error_code> open_connection(connection& c, const endpoint_info& ep, const client_options& opts,
                                            tls_session_cache& sessions, diagnostics& diag, bool spawned) {
    // Spawned onto the connection's strand: let every cancellation type through (see exchange()).
    if (spawned) {
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
    const auto connect_budget = opts.timeout.connect;

    // Resolution runs on Asio's private resolver thread and cannot be bounded by tcp_stream's
    // timer, so race it against one of our own.
    tcp::resolver resolver(ex);
    tcp::resolver::results_type results;
    const auto started = std::chrono::steady_clock::now();
    if (connect_budget.count() > 0) {
        asio::steady_timer timer(ex, connect_budget);
        auto r = co_await (resolver.async_resolve(ep.host, ep.port, use_tuple) || timer.async_wait(use_tuple));
        // Cancelled, either branch may complete first (with operation_aborted): not a timeout.
        if (stop_requested(cs)) co_return aborted();
        if (r.index() == 1) {
            diag.set_client_message("resolving " + ep.host + " timed out");
            co_return client_error::resolve_timeout;
        }
        auto [ec, res] = std::get<0>(std::move(r));
        if (ec) {
            diag.set_client_message("resolving " + ep.host + ": " + ec.message());
            co_return ec;
        }
        results = std::move(res);
    } else {
        auto [ec, res] = co_await resolver.async_resolve(ep.host, ep.port, use_tuple);
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            diag.set_client_message("resolving " + ep.host + ": " + ec.message());
            co_return ec;
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
        auto [ec, endpoint] = co_await lowest.async_connect(results, use_tuple);
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            diag.set_client_message("connecting to " + ep.host + ":" + ep.port + ": " +
                                    (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
            co_return phase_error(ec, client_error::connect_timeout);
        }
    }
    // Headers and the final short write of a body must not wait for delayed ACKs.
    lowest.socket().set_option(tcp::no_delay(true));

    if (c.tls) {
        SSL* ssl = c.tls->native_handle();
        if (!ep.host_is_ip && !SSL_set_tlsext_host_name(ssl, ep.host.c_str())) {
            diag.set_client_message("cannot set SNI host name");
            co_return client_error::tls_verification_failed;
        }
        const bool verify = opts.tls.verify_peer || opts.tls.context;
        if (verify) {
            // Checked by OpenSSL during chain verification, so the verify result names the cause.
            int ok = ep.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep.host.c_str())
                                   : SSL_set1_host(ssl, ep.host.c_str());
            if (ok != 1) {
                diag.set_client_message("cannot set the expected peer name");
                co_return client_error::tls_verification_failed;
            }
        }
        sessions.offer(ssl);
        arm(lowest, opts.timeout.handshake);
        auto [ec] = co_await c.tls->async_handshake(use_tuple);
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
    }
    lowest.expires_never();
    co_return error_code{};
}

template <class Stream, class Body>
asio::awaitable<exchange_result> exchange(Stream& stream, beast::tcp_stream& lowest, beast::flat_buffer& buffer,
                                          http::request<Body>& req, const client_options& opts,
                                          const std::function<void(std::uint64_t)>& on_body_bytes, bool spawned) {
    // Spawned onto the connection's strand, this coroutine starts with Asio's terminal-only
    // cancellation filter, which would swallow the partial and total requests the caller's
    // operation forwards. (Here rather than in a wrapper coroutine: one frame less per request.)
    if (spawned) {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        co_await asio::this_coro::throw_if_cancelled(false);
    }
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    exchange_result r;
    auto aborted = [&r] {
        r.ec = asio::error::operation_aborted;
        return std::move(r);
    };
    const auto stall = opts.timeout.stall;

    // Header bytes are not body progress; measure the header once (it is small).
    std::uint64_t header_left = 0;
    if (on_body_bytes) {
        std::ostringstream os;
        os << req.base();
        header_left = os.str().size();
    }

    // Over TLS the body writer needs no buffer of its own: the stream encrypts each buffer before
    // its write's initiation returns (see encode_into_thread_buffer). Nor does the stream need
    // its read buffer until the response comes.
    if constexpr (std::is_same_v<Body, multipart_body>)
        if (req.body()) encode_into_thread_buffer(*req.body(), std::is_same_v<Stream, tls_stream>);
    if constexpr (std::is_same_v<Stream, tls_stream>) stream.shrink_buffers();
    http::request_serializer<Body> sr{req};
    for (bool first = true; !sr.is_done(); first = false) {
        if constexpr (std::is_same_v<Stream, tls_stream>) {
            // Produce and encrypt the next buffer only once the socket can take it: the records
            // then leave in the write that follows and the ciphertext buffer is freed at once,
            // instead of waiting, full, for a slow peer. With many concurrent uploads, only the
            // few being encrypted hold a ciphertext buffer (docs/benchmarks.md, scenario 4).
            if (!first)
                if (auto ec = co_await wait_writable(lowest, stall)) {
                    r.ec = ec;
                    co_return r;
                }
        }
        arm(lowest, stall);
        auto [ec, n] = co_await http::async_write_some(stream, sr, use_tuple);
        // A write the kernel took at once completes through a posted handler, whatever arrived meanwhile.
        if (stop_requested(cs)) co_return aborted();
        if (ec) {
            r.ec = phase_error(ec, client_error::stall_timeout);
            co_return r;
        }
        // Frees what a write the kernel did not take at once (finished asynchronously) left behind.
        if constexpr (std::is_same_v<Stream, tls_stream>) stream.shrink_buffers();
        if (on_body_bytes) {
            std::uint64_t body = n;
            if (header_left) {
                auto h = std::min<std::uint64_t>(header_left, n);
                header_left -= h;
                body -= h;
            }
            if (body) on_body_bytes(body);
        }
    }
    r.request_fully_sent = true;

    std::optional<http::response_parser<http::string_body>> parser;
    auto fresh_parser = [&] {
        parser.emplace();
        parser->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(opts.max_header_bytes, UINT32_MAX)));
        parser->body_limit(opts.max_response_bytes);
        parser->eager(true);  // one put() parses all that is buffered, header and body
    };
    fresh_parser();
    auto read_failure = [](const error_code& ec) -> error_code {
        if (ec == http::error::body_limit) return client_error::response_too_large;
        if (ec == http::error::header_limit) return client_error::header_too_large;
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == ssl::error::stream_truncated ||
            ec == http::error::partial_message)
            return client_error::connection_closed;
        return phase_error(ec, client_error::stall_timeout);
    };
    // Not http::async_read_some: it reads on until the parser makes progress — a whole header —
    // so a header arriving byte by byte would never re-arm the stall timer. Every transport read
    // that brings bytes is progress (timeouts::stall), so the timer is re-armed per read here.
    const std::size_t framing_limit = opts.max_header_bytes + 64 * 1024;
    // Chunk framing may cost several bytes per body byte (1-byte chunks): generous, but finite.
    const std::uint64_t total_limit =
        static_cast<std::uint64_t>(opts.max_header_bytes) + 8ull * opts.max_response_bytes + 64 * 1024;
    std::uint64_t total_read = 0;
    for (;;) {
        if (buffer.size() != 0) {
            error_code pec;
            const std::size_t used = parser->put(buffer.data(), pec);
            buffer.consume(used);
            if (pec && pec != http::error::need_more) {
                r.ec = read_failure(pec);
                co_return r;
            }
            if (parser->is_done()) {
                // An interim 1xx (e.g. an unsolicited 100 Continue) is not the answer: read on.
                if (parser->get().result_int() / 100 != 1) break;
                fresh_parser();
                continue;
            }
            if (!pec && used != 0) continue;  // more of the buffer may parse now
        }
        // Beast bounds the header and the body, not chunk-size lines, chunk extensions or
        // trailers: bound what may wait unparsed, and what one response may cost in all, so that
        // a hostile server cannot make us buffer without end (found by test/fuzz).
        if (buffer.size() >= framing_limit) {
            r.ec = client_error::header_too_large;
            co_return r;
        }
        if (total_read > total_limit) {
            r.ec = client_error::response_too_large;
            co_return r;
        }
        arm(lowest, stall);
        // 16 KiB: one TLS record per read anyway, and responses are small.
        const std::size_t want = std::min<std::size_t>(16 * 1024, framing_limit - buffer.size());
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(want), use_tuple);
        if (stop_requested(cs)) co_return aborted();
        buffer.commit(n);
        total_read += n;
        if (n > 0) r.response_started = true;
        if (ec == asio::error::eof && parser->got_some()) {
            // A response delimited by the close (no length, not chunked) ends here; else truncated.
            error_code eof_ec;
            parser->put_eof(eof_ec);
            if (!eof_ec && parser->is_done()) break;
            r.ec = client_error::connection_closed;
            co_return r;
        }
        if (ec) {
            r.ec = read_failure(ec);
            co_return r;
        }
    }
    lowest.expires_never();
    // An idle pooled connection keeps no read buffers (about 33 KiB per connection otherwise,
    // which is most of what a connection costs besides OpenSSL's own state).
    if (buffer.size() == 0) buffer.shrink_to_fit();
    if constexpr (std::is_same_v<Stream, tls_stream>) stream.shrink_buffers();
    auto& res = parser->get();
    r.status = res.result_int();
    r.keep_alive = res.keep_alive();
    r.body = std::move(res.body());
    co_return r;
}

template asio::awaitable<exchange_result> exchange<tls_stream, multipart_body>(
    tls_stream&, beast::tcp_stream&, beast::flat_buffer&, http::request<multipart_body>&, const client_options&,
    const std::function<void(std::uint64_t)>&, bool);
template asio::awaitable<exchange_result> exchange<beast::tcp_stream, multipart_body>(
    beast::tcp_stream&, beast::tcp_stream&, beast::flat_buffer&, http::request<multipart_body>&, const client_options&,
    const std::function<void(std::uint64_t)>&, bool);
template asio::awaitable<exchange_result> exchange<tls_stream, http::string_body>(
    tls_stream&, beast::tcp_stream&, beast::flat_buffer&, http::request<http::string_body>&, const client_options&,
    const std::function<void(std::uint64_t)>&, bool);
template asio::awaitable<exchange_result> exchange<beast::tcp_stream, http::string_body>(
    beast::tcp_stream&, beast::tcp_stream&, beast::flat_buffer&, http::request<http::string_body>&,
    const client_options&, const std::function<void(std::uint64_t)>&, bool);

}  // namespace livefour::detail
