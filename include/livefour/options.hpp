// livefour — client configuration: plain values with documented defaults (docs/options.md).
#pragma once

#include <livefour/attempt_event.hpp>
#include <livefour/error.hpp>
#include <livefour/retry.hpp>
#include <livefour/secret.hpp>
#include <livefour/signer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace livefour {

/// Bounds of client_options::write_buffer_size (and of multipart_form::write_buffer_size, which
/// is clamped to them).
inline constexpr std::size_t min_write_buffer_size = 16 * 1024;
inline constexpr std::size_t max_write_buffer_size = 4 * 1024 * 1024;

/// Time bounds of one operation. Each has its own error code so a caller can tell which phase failed.
/// A zero duration disables that bound.
struct timeouts {
    /// Name resolution plus TCP connect (client_error::resolve_timeout / connect_timeout). Through a
    /// proxy: reaching the proxy and its answer to CONNECT, together.
    std::chrono::milliseconds connect{std::chrono::seconds{10}};
    /// TLS handshake (client_error::handshake_timeout).
    std::chrono::milliseconds handshake{std::chrono::seconds{10}};
    /// No upload or download progress for this long (client_error::stall_timeout). Re-armed on every
    /// write and read, so a large upload over a slow but moving link never hits it. It also bounds
    /// the server's think time between the last body byte and the first response byte.
    std::chrono::milliseconds stall{std::chrono::seconds{30}};
    /// Waiting for a free connection when max_connections are busy (client_error::pool_wait_timeout).
    std::chrono::milliseconds pool_wait{std::chrono::seconds{30}};
    /// Overall bound of one operation, all attempts included (client_error::deadline_exceeded).
    std::chrono::milliseconds deadline{std::chrono::seconds{0}};
    /// A request sent with `Expect: 100-continue` (connection_options::expect_continue_above)
    /// waits this long after its header for `100 Continue` or a final reply, then sends its body
    /// anyway (curl waits 1 s too). Must be > 0.
    std::chrono::milliseconds continue_wait{std::chrono::seconds{1}};
};

/// TLS settings. Verification is on by default and uses the system trust store.
struct tls_options {
    /// Verify the peer's certificate chain and host name. Turning this off is for experiments only.
    bool verify_peer = true;
    /// PEM file of trusted CAs. When set it *replaces* the system trust store.
    std::string ca_file;
    /// A context of the caller's. When set, verify_peer and ca_file are ignored: the caller owns
    /// the trust configuration. Host-name verification and SNI are still applied per connection.
    std::shared_ptr<boost::asio::ssl::context> context;
};

/// Connection reuse. Connections are kept per client (one endpoint per client).
struct pool_options {
    /// Upper bound on open connections (in use + idle). Further operations wait for a free one.
    std::size_t max_connections = 16;
    /// Idle connections older than this are closed instead of reused: below common server
    /// keep-alive timeouts (nginx 75 s, many load balancers 60 s) so we rarely race a server close.
    std::chrono::milliseconds max_idle{std::chrono::seconds{30}};
};

/// An HTTP proxy that every connection goes through (docs/options.md#proxy). A new connection asks
/// the proxy for a tunnel with `CONNECT host:port` to the endpoint and then speaks TLS through it
/// exactly as it would directly: SNI and certificate checks are against the endpoint, never the
/// proxy. A pooled connection is a tunnel for its whole life, so reuse costs no second CONNECT.
struct proxy_options {
    /// `http://[user[:password]@]host:port`; empty (the default): connect directly. The user and
    /// password are percent-decoded and sent as `Proxy-Authorization: Basic` with each CONNECT, and
    /// nothing livefour prints or reports (messages, exceptions) ever contains them. Only `http://`
    /// proxies (an `https://` proxy would need TLS inside TLS), and the port must be given. An
    /// `http://` endpoint is tunnelled too (CONNECT, not absolute-form requests).
    std::string url;
};

/// What every livefour client shares, whichever API it speaks: TLS, time bounds, the pool,
/// retries and limits. livefour::client_options (the legacy API) and faceid::client_options
/// (API 3.0) add their endpoint and credentials to it.
struct connection_options {
    tls_options tls;
    timeouts timeout;
    pool_options pool;
    /// Reach the endpoint through an HTTP proxy (none by default).
    proxy_options proxy;
    /// Which failed attempts are resent: the transport failures that are safe to resend (docs/protocol.md §6), the
    /// legacy API's codes 15/107/108 (`retryable_codes`) and API 3.0's transient codes (docs/errors.md).
    retry_policy retry;
    /// Shared retry budget; null = one per client (the default). Share one between clients that
    /// talk to the same backend so that together they back off.
    std::shared_ptr<retry_budget> budget;
    /// Permit `http://` endpoints (tests, a local emulator behind a trusted network).
    bool allow_insecure_http = false;
    /// Response body limit (client_error::response_too_large). A detect reply carrying a best-frame
    /// JPEG in base64 is typically well under 1 MiB.
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// Response header limit (client_error::header_too_large).
    std::size_t max_header_bytes = 16 * 1024;
    /// Size of the single buffer the body writer fills per socket write: 16 KiB .. 4 MiB.
    std::size_t write_buffer_size = 256 * 1024;
    /// Send bodies with `Transfer-Encoding: chunked` even when their size is known.
    bool force_chunked = false;
    /// Bodies larger than this (and bodies of unknown length) are sent with
    /// `Expect: 100-continue`: the header goes first, and a server that refuses the request on its
    /// header alone — a bad signature, a quota — answers before the body is sent, so a refused
    /// 6 MiB upload costs a few hundred bytes instead of 6 MiB. A server that answers `100
    /// Continue` costs one round trip; one that says nothing costs timeouts::continue_wait. 0: never.
    /// Default 1 MiB, like curl.
    std::uint64_t expect_continue_above = 1024 * 1024;
    /// Value of the User-Agent header: at most 1,024 visible ASCII characters or spaces.
    std::string user_agent = "livefour/0.1";
    /// True (the default): the client's executor may be run by several threads at once (an
    /// io_context run by a thread pool): every operation and every connection gets its own strand,
    /// and each exchange hops to its connection's strand. False: the caller promises that the
    /// executor is never run by two threads at the same time (an io_context per thread, or a
    /// strand). Operations then run directly on the executor and await their exchanges in the same
    /// coroutine: about a tenth fewer instructions per small request (101k -> 90k) and 17-20% more
    /// requests per second on 16 connections (docs/benchmarks.md, scenario 3). Like
    /// Boost.MySQL's `pool_params::thread_safe`. False on an executor run by several threads is a
    /// data race.
    bool thread_safe = true;
    /// Called after every attempt with what it did and what happens next (attempt_event.hpp):
    /// phase durations, bytes, status, codes, the retry decision. Empty (the default): nothing is
    /// measured for it.
    attempt_hook on_attempt;
    /// Also put the request's and the reply's header blocks (credentials redacted) into the
    /// events: a copy of each per attempt, for verbose logging.
    bool attempt_headers = false;
};

/// Everything the legacy client needs. Only `creds` has no usable default.
struct client_options : connection_options {
    /// `https://host[:port][/base-path]`. `http://` only with allow_insecure_http.
    std::string endpoint = "https://recognition.image.myqcloud.com";
    credentials creds;
    signer_options signing;
    /// Upload limit, checked before any byte is sent. The service refuses bodies over "6 MB" with
    /// code 23 without saying whether it means 6 MiB (the default here) or 6,000,000 bytes
    /// (docs/protocol.md §7). 0 disables the check (benchmarks, custom servers).
    std::uint64_t max_upload_bytes = 6ull * 1024 * 1024;
};

/// Checks options without touching the network: endpoint syntax and scheme, credentials (also
/// '&', '=' and control characters, see signer::check), signature validity, limits. The client
/// constructor throws what this returns.
error_code validate(const client_options& opts);

}  // namespace livefour
