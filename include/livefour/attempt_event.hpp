// livefour — what one attempt did, for metrics, logs and billing audits (connection_options::on_attempt).
//
// Every exchange an operation starts — its first attempt, each retry, a keep-alive resend —
// ends with one event: how long each phase took, how many bytes went out, how fast the first reply
// byte came, the HTTP status and the API's code, and what the retry loop decided next, with its
// reason and delay. `livefour --stats` and `-v` are built on these events, and
// examples/prometheus.cpp exports them as Prometheus metrics. With no hook set nothing is
// measured beyond what diagnostics keeps anyway.
#pragma once

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

namespace livefour {

/// One attempt of an operation, as it ended. String views are valid during the hook's call only.
struct attempt_event {
    /// What the operation does next.
    enum class decision : unsigned char {
        done,              ///< completes with this attempt's outcome (success, or an error not retried)
        retry,             ///< another attempt after `delay` (the retry policy)
        keepalive_resend,  ///< at once, on a new connection: the reused one was found closed
        resign,            ///< at once, signed with a corrected clock (API 3.0 clock skew)
    };

    std::string_view operation;  ///< the API's name for it: "livedetectfour", "LivenessCompare", …
    int attempt = 1;             ///< the retry loop's attempt number (a resend keeps it)
    diagnostics::attempt_record::kind why = diagnostics::attempt_record::kind::first;

    // The connection.
    bool connection_reused = false;          ///< a kept-alive connection from the pool
    bool tls_resumed = false;                ///< a new TLS connection resumed a cached session
    std::string_view peer;                   ///< "address:port" of a new connection; empty when reused
    std::string_view tls_version;            ///< "TLSv1.3" of a new TLS connection; empty otherwise
    std::chrono::microseconds pool_wait{0};  ///< waiting for a free connection
    std::chrono::microseconds resolve{0};    ///< name resolution (new connections only)
    std::chrono::microseconds connect{0};    ///< TCP connect (new connections only)
    std::chrono::microseconds handshake{0};  ///< TLS handshake (new TLS connections only)

    // The exchange.
    std::uint64_t bytes_sent = 0;  ///< request bytes handed to the kernel, header included
    /// From the first request byte written to the first reply byte read; zero without a reply.
    std::chrono::microseconds first_byte{0};
    std::chrono::microseconds duration{0};  ///< the whole attempt, the pool wait included
    int http_status = 0;                    ///< the reply's status; 0 without a reply
    error_code error;                       ///< the outcome: clear, an API code (legacy or faceid), or what failed
    std::string_view server_code;           ///< the service's own code string (API 3.0 `Error.Code`), if any
    /// The request's and the reply's header blocks as sent and received, with every credential
    /// (Authorization, X-TC-Token, Proxy-Authorization) replaced by "[redacted]". Filled only with
    /// connection_options::attempt_headers; empty otherwise (and the reply's without a reply).
    std::string_view request_header;
    std::string_view response_header;

    // The decision.
    decision next = decision::done;
    std::string_view reason;             ///< why, in words: "rate limited (retryable)", "attempts used up", …
    std::chrono::milliseconds delay{0};  ///< the backoff before the next attempt (decision::retry)
};

/// Receives attempt events (connection_options::on_attempt). Called on the operation's executor —
/// concurrently from several threads when the client is thread_safe and its io_context has
/// several; it must be thread-safe and must not block.
using attempt_hook = std::function<void(const attempt_event&)>;

}  // namespace livefour
