// Internal: the seam between a protocol and the transport. A backend (the legacy API in
// legacy_backend.cpp, API 3.0 in faceid_backend.cpp) describes each call as an `operation` value —
// what to send, how to sign an attempt, how to read the answer — and the engine (engine.hpp) runs
// it: pool, TLS, timeouts, cancellation, retries. Nothing here knows HTTP libraries or sockets, and
// the engine knows no protocol.
#pragma once

#include "encoding.hpp"

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::detail {

/// One request header.
struct header_field {
    std::string name;
    std::string value;
};

/// What a request is, apart from the connection: the engine adds Host, User-Agent, the body's
/// framing (Content-Type, Content-Length or chunked) and keep-alive, and the signer adds what
/// authenticates one attempt.
struct request_description {
    std::string_view name;  ///< what the API calls it (static text): "livedetectfour", "LivenessCompare"
    std::string method = "POST";
    std::string path;                     ///< below the endpoint's base path, e.g. "/face/livegetfour" or "/"
    std::vector<header_field> headers;    ///< e.g. Accept, X-TC-Action
    std::shared_ptr<body_encoding> body;  ///< null: no body
    /// Resending after the request went out in full cannot cause a second effect (free calls).
    /// Billed calls are false: they are not resent once the server may have seen them (docs/protocol.md §6).
    bool idempotent = false;
    /// Body bytes sent so far and the total (nullopt when chunked), after each write.
    std::function<void(std::uint64_t, std::optional<std::uint64_t>)> on_progress;
};

/// What signing one attempt may depend on.
struct signing_context {
    std::string_view method;
    std::string_view path;          ///< the request target as sent (base path included)
    std::string_view host;          ///< the Host header as sent
    std::string_view content_type;  ///< the Content-Type header as sent ("" without a body)
    std::int64_t now = 0;           ///< Unix seconds of this attempt
    /// Lower-case hex SHA-256 of exactly the body bytes that will be sent, when the signer asked
    /// for it (needs_payload_digest); empty otherwise.
    std::string_view payload_sha256;
};

/// Authenticates attempts. One signer serves every operation of a client, on any thread.
class request_signer {
public:
    virtual ~request_signer() = default;
    /// True when sign() needs signing_context::payload_sha256: the engine then reads the body
    /// once to hash it before sending it (and refuses a file that changes between the two).
    virtual bool needs_payload_digest() const noexcept { return false; }
    /// Sets the headers that authenticate one attempt (replacing the previous attempt's).
    /// An error ends the operation before anything is sent.
    virtual error_code sign(const request_description& req, const signing_context& ctx, std::vector<header_field>& out,
                            diagnostics& diag) = 0;
};

/// The answer to one attempt, as the transport received it.
struct reply {
    int status = 0;
    std::string body;
    std::int64_t server_time = 0;  ///< the Date header in Unix seconds; 0 without one
};

/// One call: the request, its signer, and how its answer becomes a result (the typed result
/// lives with the caller: `parse` writes into it). parse() returns success, the API's code for a
/// refusal (its result still filled), or a client_error for an unusable reply.
struct operation {
    request_description request;
    std::shared_ptr<request_signer> signer;
    std::function<error_code(const reply&, diagnostics&)> parse;
};

}  // namespace livefour::detail
