// The classification of every error code (classify.hpp): livefour's own codes from one table,
// the legacy API codes by range, and the Asio/Beast/OpenSSL codes a transport can produce.
#include "classify.hpp"

#include <livefour/faceid/error.hpp>
#include <livefour/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <iterator>

namespace livefour::detail {
namespace {

namespace ae = boost::asio::error;
namespace http = boost::beast::http;
using enum failure_phase;

/// One row per client_error, in enumerator order (checked below): its message, its condition,
/// how a resend relates to progress, and whether the connection may be reused after it.
struct client_row {
    client_error e;
    const char* message;
    condition cond;
    failure_phase phase;
    bool fatal;  // detected mid-exchange (a half-sent body, an unread or unparsable reply)
};

// clang-format off
constexpr client_row client_rows[] = {
    // input, detected before any byte is sent: the connection, if any, is untouched
    {client_error::bad_endpoint, "endpoint URL is invalid (need http(s)://host[:port])", condition::bad_request, never, false},
    {client_error::insecure_http_refused, "http:// endpoint refused (allow_insecure_http is off)", condition::bad_request, never, false},
    {client_error::missing_credentials, "appid, secret_id or secret_key is empty", condition::auth, never, false},
    {client_error::invalid_argument, "invalid argument", condition::bad_request, never, false},
    {client_error::invalid_field, "field contains a forbidden character (a control character, or & or = in a signed field)", condition::bad_request, never, false},
    // sources: found when opening (nothing sent) or while streaming (the exchange is cut: fatal)
    {client_error::file_not_found, "file not found", condition::bad_request, never, true},
    {client_error::file_unreadable, "file unreadable", condition::bad_request, never, true},
    {client_error::file_changed_size, "file changed size during upload", condition::bad_request, never, true},
    {client_error::source_failed, "body source failed", condition::bad_request, never, true},
    {client_error::upload_too_large, "upload larger than max_upload_bytes", condition::bad_request, never, false},
    {client_error::invalid_signature_validity, "signature validity must be 1 s to 90 days", condition::bad_request, never, false},
    // the server answered, and the answer was unusable: it was processed (maybe billed)
    {client_error::response_too_large, "response body larger than max_response_bytes", condition::server, never, true},
    {client_error::header_too_large, "response header too large", condition::server, never, true},
    {client_error::non_json_response, "response body is not a JSON object", condition::server, never, true},
    {client_error::malformed_response, "malformed response (missing field or wrong type)", condition::server, never, true},
    // connecting: nothing was sent
    {client_error::resolve_timeout, "host name resolution timed out", condition::transport, before_request, true},
    {client_error::connect_timeout, "connect timed out", condition::transport, before_request, true},
    {client_error::handshake_timeout, "TLS handshake timed out", condition::transport, before_request, true},
    {client_error::stall_timeout, "no transfer progress (stall timeout)", condition::transport, during_exchange, true},
    // the caller's bounds and decisions: not the backend's state, never retried
    {client_error::deadline_exceeded, "operation deadline exceeded", condition::transport, never, true},
    {client_error::pool_wait_timeout, "timed out waiting for a pooled connection", condition::transport, never, true},
    {client_error::pool_closed, "connection pool closed", condition::transport, never, true},
    {client_error::retries_exhausted, "retries exhausted", condition::transport, never, true},
    // a certificate that failed verification fails again; retrying hides an attack or a misconfiguration
    {client_error::tls_verification_failed, "TLS certificate verification failed", condition::transport, never, true},
    {client_error::connection_closed, "connection closed before a complete response", condition::transport, during_exchange, true},
    {client_error::tls_certificate_expired, "TLS certificate expired or not yet valid", condition::transport, never, true},
    {client_error::tls_hostname_mismatch, "TLS certificate does not match the host name", condition::transport, never, true},
    {client_error::tls_untrusted_certificate, "TLS certificate chain not trusted", condition::transport, never, true},
    // verdicts decided by livefour on a complete reply
    {client_error::similarity_below_threshold, "similarity below the decision threshold", condition::verdict, never, false},
    {client_error::comparison_missing, "comparison required but absent from the reply", condition::verdict, never, false},
    {client_error::empty_source, "a video or image source is empty (0 bytes)", condition::bad_request, never, false},
    {client_error::video_too_large, "video larger than the API's 8 MB of base64 (VideoBase64)", condition::bad_request, never, false},
    {client_error::image_too_large, "image larger than the API's 3 MB of base64 (ImageBase64)", condition::bad_request, never, false},
    // the HTTP proxy: nothing reached the endpoint, whatever happened. A proxy that is down or
    // cannot reach the endpoint now may later (as a refused TCP connect); a 407, a policy refusal or
    // a non-HTTP answer are the same on every attempt (wrong credentials, port or proxy URL).
    {client_error::bad_proxy, "proxy URL is invalid (need http://[user:password@]host:port)", condition::bad_request, never, false},
    {client_error::proxy_unreachable, "cannot connect to the proxy", condition::transport, before_request, true},
    {client_error::proxy_auth_required, "the proxy requires other credentials (407 Proxy Authentication Required)", condition::auth, never, true},
    {client_error::proxy_refused, "the proxy refused the tunnel (CONNECT answered 3xx or 4xx)", condition::transport, never, true},
    {client_error::proxy_gateway_error, "the proxy could not open the tunnel (CONNECT answered 5xx)", condition::transport, before_request, true},
    {client_error::proxy_bad_response, "the proxy's answer to CONNECT is not a usable HTTP/1.x answer", condition::transport, never, true},
};
// clang-format on

constexpr bool rows_in_order() {
    for (std::size_t i = 0; i < std::size(client_rows); ++i)
        if (static_cast<std::size_t>(client_rows[i].e) != i + 1) return false;
    return true;
}
static_assert(rows_in_order(), "client_rows must list every client_error in enumerator order, from 1");

const client_row* client_row_of(int value) noexcept {
    if (value < 1 || static_cast<std::size_t>(value) > std::size(client_rows)) return nullptr;
    return &client_rows[static_cast<std::size_t>(value) - 1];
}

failure_class legacy_api(int code) noexcept {
    failure_class c;
    c.cond = api_code_condition(code);
    c.phase = answered;
    c.fatal_for_connection = false;  // a code arrives in a complete reply: the connection is clean
    if (code == static_cast<int>(api_error::rate_limited))
        c.retry = retry_class::throttle;
    else if (std::find(std::begin(default_retryable_api_codes), std::end(default_retryable_api_codes), code) !=
             std::end(default_retryable_api_codes))
        c.retry = retry_class::retry;
    return c;
}

/// Asio, Beast and OpenSSL codes: what the network or the peer did. Always fatal for the
/// connection (its state is unknown), and so is cancellation.
failure_class foreign(const error_code& ec) noexcept {
    failure_class c;
    if (ec == ae::operation_aborted) return c;  // cancellation is the caller's word
    // Only possible while connecting: nothing was sent.
    if (ec == ae::connection_refused || ec == ae::host_unreachable || ec == ae::network_unreachable ||
        ec == ae::host_not_found_try_again) {
        c.cond = condition::transport;
        c.phase = before_request;
        return c;
    }
    // A dead or dying connection: its phase decides.
    const bool closed =
        ec == ae::connection_reset || ec == ae::connection_aborted || ec == ae::broken_pipe || ec == ae::eof;
    if (closed || ec == ae::timed_out || ec == ae::network_down || ec == ae::network_reset ||
        ec == boost::asio::ssl::error::stream_truncated || ec == boost::beast::error::timeout ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
        c.cond = condition::transport;
        c.phase = during_exchange;
        c.peer_closed = closed;
        return c;
    }
    const auto& cat = ec.category();
    // TLS protocol errors (a handshake alert, a bad record): transient unless the certificate was
    // rejected. The phase flags tell a handshake failure (nothing sent) from a broken session.
    if (cat == ae::get_ssl_category()) {
        c.cond = condition::transport;
        if (!is_tls_verify_failure(ec)) c.phase = during_exchange;
        return c;
    }
    // Authoritative resolver answers (no such host): not known to get better by themselves.
    if (cat == ae::get_netdb_category() || cat == ae::get_addrinfo_category() ||
        cat == boost::asio::ssl::error::get_stream_category()) {
        c.cond = condition::transport;
        return c;
    }
    // Any other Beast HTTP error is a reply we could not parse: the server's fault.
    if (cat == http::make_error_code(http::error::end_of_stream).category()) c.cond = condition::server;
    return c;
}

}  // namespace

bool is_tls_verify_failure(const error_code& ec) noexcept {
    return ec.category() == ae::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

const char* client_error_message(client_error e) noexcept {
    const auto* row = client_row_of(static_cast<int>(e));
    return row ? row->message : nullptr;
}

failure_class classify(const error_code& ec) noexcept {
    if (!ec) return {.cond = std::nullopt, .fatal_for_connection = false};
    if (ec.category() == api_category()) return legacy_api(ec.value());
    if (ec.category() == faceid::category()) {
        // A Response.Error code, or a Result outcome: both arrive in a complete reply.
        const auto& row = faceid::info(static_cast<faceid::errc>(ec.value()));
        return {.cond = row.cond, .phase = answered, .retry = row.retry, .fatal_for_connection = false};
    }
    if (ec.category() == client_category()) {
        const auto* row = client_row_of(ec.value());
        if (!row) return {};
        return {.cond = row->cond,
                .phase = row->phase,
                .fatal_for_connection = row->fatal,
                .peer_closed = row->e == client_error::connection_closed};
    }
    return foreign(ec);
}

}  // namespace livefour::detail
