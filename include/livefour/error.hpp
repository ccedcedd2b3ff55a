// livefour — error codes.
//
// Two categories, both plugged into boost::system::error_code (and therefore usable with
// std::error_code through Boost.System's interoperability):
//   * api_error    — the `code` the server put in its JSON envelope (docs/protocol.md §5) and the verdict codes
//                    of data.live_status / data.compare_status. Unknown numbers are kept verbatim.
//   * client_error — failures detected by livefour itself (bad input, transport phases, limits).
// A coarse `condition` groups both for callers that only want to branch on the kind of failure.
#pragma once

#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace livefour {

using error_code = boost::system::error_code;

/// Codes defined by the API (docs/protocol.md §5 and the provider's general list). The enumerator values are
/// the wire values; any other integer is still a valid `api_error` value (kept as a number).
enum class api_error : int {
    // request level (top-level `code`)
    bad_request = 3,  ///< also "account abnormal" (arrears)
    signature_empty = 4,
    signature_malformed = 5,
    signature_appid_mismatch = 6,  ///< appid/bucket in signature do not match
    signature_expired = 9,
    appid_unknown = 10,
    secret_id_unknown = 11,
    appid_secret_id_mismatch = 12,
    replay_attack = 13,
    signature_check_failed = 14,
    rate_limited = 15,
    bucket_unknown = 16,
    invalid_parameter = 21,
    body_too_large = 23,
    service_not_enabled = 24,
    auth_unavailable_107 = 107,
    auth_unavailable_108 = 108,
    internal_error = 213,

    // verdicts (data.live_status / data.compare_status)
    video_feature_failed = -4006,
    selfie_compare_failed = -4007,
    card_feature_failed = -4009,
    similarity_failed = -4010,
    photo_decode_failed = -4011,
    photo_face_detect_failed = -4012,
    selfie_face_detect_failed = -4015,
    selfie_decode_failed = -4016,
    card_face_detect_failed = -4017,
    card_decode_failed = -4018,
    invalid_video = -5001,
    lip_reading_failed = -5002,
    too_few_faces = -5005,
    no_audio = -5007,
    speech_recognition_failed = -5008,  ///< the wrong digits were read
    no_face_or_mouth = -5009,
    lips_hardly_moved = -5010,
    liveness_failed = -5011,
    too_noisy = -5012,
    too_quiet = -5013,
    invalid_liveness_level = -5014,
    resolution_too_low = -5015,
    not_live = -5016,  ///< replay / recapture attack
    idcard_missing = -5801,
    idcard_service_unavailable = -5802,
    idcard_name_mismatch = -5803,
    idcard_invalid_number = -5804,
    no_image = -5805,
};

/// Failures detected on the client side. Values are stable (documented in docs/errors.md).
enum class client_error : int {
    // input, detected before any byte is sent
    bad_endpoint = 1,       ///< endpoint URL unparsable, wrong scheme, no host
    insecure_http_refused,  ///< http:// without client_options::allow_insecure_http
    missing_credentials,    ///< appid / secret_id / secret_key empty
    invalid_argument,       ///< a request field is empty or malformed (e.g. empty digits)
    invalid_field,          ///< a control character in a field (or & = in a signed credential)
    file_not_found,
    file_unreadable,
    file_changed_size,           ///< a file grew or shrank while (or between) uploads
    source_failed,               ///< a user-supplied body source reported an error
    upload_too_large,            ///< body larger than client_options::max_upload_bytes
    invalid_signature_validity,  ///< validity <= 0 or longer than 3 months
    // response
    response_too_large,  ///< body over client_options::max_response_bytes
    header_too_large,
    non_json_response,   ///< the body is not a JSON object
    malformed_response,  ///< JSON, but a field has the wrong type or `code` is missing
    // transport phases and timeouts
    resolve_timeout,
    connect_timeout,
    handshake_timeout,
    stall_timeout,      ///< no upload/download progress within timeouts::stall
    deadline_exceeded,  ///< the operation's overall deadline passed
    pool_wait_timeout,
    pool_closed,
    retries_exhausted,
    tls_verification_failed,    ///< certificate chain or host name not accepted
    connection_closed,          ///< peer closed before a complete response
    tls_certificate_expired,    ///< the peer's certificate is expired or not yet valid
    tls_hostname_mismatch,      ///< the certificate does not name the endpoint's host / IP
    tls_untrusted_certificate,  ///< the chain does not lead to a trusted CA
    // verdicts decided by livefour (decide()), not by the server
    similarity_below_threshold,  ///< comparison succeeded but sim < decision_policy::threshold
    comparison_missing,          ///< a comparison was required but the reply carries none
    // input, detected before any byte is sent (continued)
    empty_source,     ///< a video or image source has 0 bytes: refused rather than billed for nothing
    video_too_large,  ///< API 3.0: the video's base64 would exceed 8 MB (VideoBase64)
    image_too_large,  ///< API 3.0: the image's base64 would exceed 3 MB (ImageBase64)
    // the HTTP proxy (connection_options::proxy, docs/options.md#proxy)
    bad_proxy,            ///< proxy URL unparsable, not http://, no port, bad user information
    proxy_unreachable,    ///< cannot connect to the proxy, or it closed the connection before answering
    proxy_auth_required,  ///< the proxy answered CONNECT with 407 (or 401): missing or refused credentials
    proxy_refused,        ///< the proxy answered CONNECT with another 4xx (or 3xx): its policy
    proxy_gateway_error,  ///< the proxy answered CONNECT with 5xx: it could not reach the endpoint
    proxy_bad_response,   ///< the proxy's answer is not HTTP/1.x, exceeds max_header_bytes, or has extra bytes
};

/// Coarse grouping for branching, independent of the exact code.
enum class condition : int {
    auth = 1,     ///< signature / credentials problems (4, 5, 6, 9–14, 16, 24)
    rate_limit,   ///< 15
    bad_request,  ///< 3, 21, 23 and client-side input errors
    server,       ///< 107, 108, 213, -5802, non-JSON / malformed replies
    verdict,      ///< liveness / comparison outcomes (-4xxx, -50xx, -1101…-1109), decide() rejections
    identity,     ///< ID-card checks (-5801, -5803…-5807)
    transport,    ///< resolve/connect/TLS/timeouts/closed connections
};

/// What an API code says about sending the same request again (the classification behind
/// is_retryable() and the retry loop's default rules).
enum class retry_class : unsigned char {
    never,        ///< an answer (a verdict, a parameter or auth error), or unsafe to resend (billed)
    retry,        ///< refused before processing, transient: back off and resend
    throttle,     ///< rate limited: back off longer (retry_policy::throttle_backoff) and resend
    resign_once,  ///< the signature's timestamp was refused (clock skew): once more, freshly signed
};

/// Category of `api_error` ("livefour.api"); message() is api_message().
const boost::system::error_category& api_category() noexcept;
/// Category of `client_error` ("livefour.client").
const boost::system::error_category& client_category() noexcept;
/// Category of `condition` ("livefour.condition"). Its equivalent() uses condition_of(), so
/// `ec == condition::transport` also holds for the Asio/Beast errors livefour classifies.
const boost::system::error_category& condition_category() noexcept;

/// Makes `api_error` usable as an error_code (found by ADL).
inline error_code make_error_code(api_error e) noexcept { return {static_cast<int>(e), api_category()}; }
/// Makes `client_error` usable as an error_code (found by ADL).
inline error_code make_error_code(client_error e) noexcept { return {static_cast<int>(e), client_category()}; }
/// Makes `condition` usable as an error_condition (found by ADL).
inline boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

/// An API code as an error_code; 0 yields a default (success) error_code.
inline error_code make_api_error(int code) noexcept {
    return code == 0 ? error_code{} : error_code{code, api_category()};
}

/// Short English message for an API code (Chinese meaning may follow); "unknown API code N" else.
std::string api_message(int code);

/// True for failures that a retry may cure: the retry loop's own classification (retry.hpp,
/// should_retry() with the default retry_policy) for a neutral attempt — the first one, not
/// idempotent, the request not yet completely sent, no response byte. So it is true for API codes
/// 15/107/108 and for every failure the loop retries in some phase (connect and handshake
/// failures, resets, EOF, stall timeouts, truncated replies, temporary DNS failures), and false
/// for every failure the loop never retries. Whether a particular attempt is *safe* to resend
/// depends on how far it got: that is should_retry()'s business (docs/protocol.md §6).
bool is_retryable(const error_code& ec) noexcept;

/// True when the connection that produced `ec` must not be reused.
bool is_fatal_for_connection(const error_code& ec) noexcept;

/// The coarse condition of `ec`; nullopt for success or an error of a foreign category that
/// livefour does not classify.
std::optional<condition> condition_of(const error_code& ec) noexcept;

}  // namespace livefour

namespace boost::system {
template <>
struct is_error_code_enum<livefour::api_error> : std::true_type {};
template <>
struct is_error_code_enum<livefour::client_error> : std::true_type {};
template <>
struct is_error_condition_enum<livefour::condition> : std::true_type {};
}  // namespace boost::system
