// livefour-emulator — verification of TC3-HMAC-SHA256 (API 3.0) requests.
//
// The server side of detail::tc3: parse the Authorization value, look the SecretId up, check the
// clock, the credential scope and the temporary-credential token, then recompute the signature
// from the headers the request names in SignedHeaders, as received. It runs in two steps because
// the body's SHA-256 is known only once the body has streamed in: check_head() does everything
// that needs the header alone (with `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`, that is the whole
// check), check_body() finishes a signed-payload request. Every failure maps to the API 3.0 code
// the service documents for it (api3.md §4.2). Pure logic, no I/O.
//
// detail::tc3 computes the expected signature here too, so the emulator and the client share the
// algorithm; peers we did not write (test/peers/tc3_peer.py, the official Node.js SDK) check
// both ends independently.
#pragma once

#include "auth.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livefour::emulator {

/// API 3.0 settings of the emulator.
struct tc3_settings {
    std::string service = "faceid";            ///< the credential scope's service
    std::string version = "2018-03-01";        ///< X-TC-Version
    std::int64_t max_skew_s = 300;             ///< |X-TC-Timestamp - now| allowed (5 minutes)
    std::optional<std::string> token;          ///< X-TC-Token required (temporary credentials)
    std::uint64_t max_body_bytes = 10485760;   ///< whole body (TC3 POST: 10 MB)
    std::uint64_t max_video_base64 = 8388608;  ///< VideoBase64 characters (8 MB)
    std::uint64_t max_image_base64 = 3145728;  ///< ImageBase64 characters (3 MB)
};

/// The request line and header as received: names lower-case, values untouched, in order.
struct tc3_head {
    std::string method;
    std::string query;  ///< the target after '?', "" when none
    std::vector<std::pair<std::string, std::string>> headers;

    /// The value of header `name` (lower-case); nullptr when absent.
    [[nodiscard]] const std::string* find(std::string_view name) const;
    /// How many times header `name` appears.
    [[nodiscard]] std::size_t count(std::string_view name) const;
};

/// Outcome of the checks so far. `code` empty: no failure yet.
struct tc3_check {
    std::string code;     ///< API 3.0 error code, e.g. "AuthFailure.SignatureFailure"
    std::string message;  ///< why (never contains a secret)
    bool unsigned_payload = false;
    bool verified = false;  ///< the signature has been checked and matched
    std::string secret_id, date, service, signed_headers, signature, timestamp;
    std::string secret_key;  ///< of the matching credential, for check_body(); never printed

    [[nodiscard]] bool failed() const noexcept { return !code.empty(); }
};

/// Checks everything the header alone decides, in this order: Authorization syntax
/// (AuthFailure.InvalidAuthorization), SecretId (AuthFailure.SecretIdNotFound), X-TC-Timestamp
/// present and decimal (MissingParameter) and within the skew (AuthFailure.SignatureExpire),
/// scope date = UTC date of the timestamp and scope service (AuthFailure.SignatureFailure),
/// SignedHeaders sorted, unique, with content-type and host, each sent once
/// (AuthFailure.SignatureFailure), X-TC-Token (AuthFailure.TokenFailure), and for an unsigned
/// payload the signature itself (AuthFailure.SignatureFailure).
tc3_check check_head(const tc3_head& head, const auth_config& keys, const tc3_settings& settings, std::int64_t now);

/// Finishes a signed-payload check with the body's SHA-256 (lower-case hex). A declared
/// X-TC-Content-SHA256 other than UNSIGNED-PAYLOAD must equal it.
void check_body(tc3_check& check, const tc3_head& head, const tc3_settings& settings, std::string_view body_sha256_hex);

}  // namespace livefour::emulator
