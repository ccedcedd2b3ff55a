// livefour — error categories and classification.
//
// Beast and Asio error headers are included here only, so that users of <livefour/error.hpp> do
// not pay for them; classification of their codes happens behind is_retryable() & co.
#include <livefour/error.hpp>
#include <livefour/faceid/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <string>

namespace livefour {
namespace {

// Fixed 64-bit ids make category comparison work across shared-library boundaries, where two
// copies of a function-local static would otherwise compare unequal.
constexpr unsigned long long api_category_id = 0x6c6976656634'0001ULL;
constexpr unsigned long long client_category_id = 0x6c6976656634'0002ULL;
constexpr unsigned long long condition_category_id = 0x6c6976656634'0003ULL;

/// Messages of the codes we know. Kept as a flat switch: the compiler checks duplicates and the
/// list reads like the provider's table.
const char* known_api_message(int code) noexcept {
    switch (code) {
    // request level (spec §5, research §5.1)
    case 3: return "bad request (\"account abnormal,errorno is:2\" means the account is in arrears)";
    case 4: return "signature empty";
    case 5: return "signature malformed";
    case 6: return "appid/bucket in the signature do not match the request";
    case 9: return "signature expired";
    case 10: return "appid does not exist";
    case 11: return "secret id does not exist";
    case 12: return "appid and secret id do not match";
    case 13: return "replay attack (signature already used)";
    case 14: return "signature check failed";
    case 15: return "rate limited (operation too frequent)";
    case 16: return "bucket does not exist";
    case 21: return "invalid parameter";
    case 23: return "request body too large";
    case 24: return "no permission: service not enabled for this account";
    case 107: return "authentication service internal error or unavailable";
    case 108: return "authentication service unavailable";
    case 213: return "internal error";
    // general face list (research §5.1)
    case -1101: return "face detection failed";
    case -1102: return "image decode failed";
    case -1103: return "feature processing failed";
    case -1104: return "face contour extraction failed";
    case -1105: return "gender extraction failed";
    case -1106: return "expression extraction failed";
    case -1107: return "age extraction failed";
    case -1108: return "pose extraction failed";
    case -1109: return "glasses extraction failed";
    case -1200: return "feature storage error";
    case -1300: return "image empty";
    case -1301: return "parameter empty";
    case -1302: return "person already exists";
    case -1303: return "person does not exist";
    case -1304: return "parameter too long";
    case -1305: return "face does not exist";
    case -1306: return "group does not exist";
    case -1307: return "group list does not exist";
    case -1308: return "URL image download failed";
    case -1309: return "too many faces";
    case -1310: return "too many persons";
    case -1311: return "too many groups";
    case -1312: return "near-duplicate face already added to this person";
    case -1313: return "illegal parameter (space, slash, tab or newline)";
    case -1400: return "illegal image format";
    case -1403: return "image download failed";
    // verdicts (data.live_status / data.compare_status)
    case -4006: return "feature extraction of the video selfie frames failed";
    case -4007: return "comparison between video selfie frames failed";
    case -4009: return "card photo feature extraction failed";
    case -4010: return "selfie/card similarity computation failed";
    case -4011: return "photo decode failed";
    case -4012: return "photo face detection failed";
    case -4015: return "selfie face detection failed";
    case -4016: return "selfie decode failed";
    case -4017: return "card face detection failed";
    case -4018: return "card decode failed";
    case -5001: return "invalid video";
    case -5002: return "lip reading failed";
    case -5005: return "too few faces in the video";
    case -5007: return "video has no audio";
    case -5008: return "speech recognition failed (wrong digits read)";
    case -5009: return "no face or mouth detected in the video";
    case -5010: return "lips hardly moved";
    case -5011: return "liveness check failed";
    case -5012: return "too much noise";
    case -5013: return "voice too quiet";
    case -5014: return "invalid liveness level";
    case -5015: return "video resolution too low (minimum 270x480)";
    case -5016: return "not a live person (replay or recapture attack)";
    // identity checks (idcard* endpoints)
    case -5801: return "ID number or name missing";
    case -5802: return "ID service temporarily unavailable";
    case -5803: return "name and ID number do not match";
    case -5804: return "invalid ID number";
    case -5805: return "no image, or image download failed";
    case -5806: return "ID number or name format error";
    case -5807: return "ID information query error";
    default: return nullptr;
    }
}

const char* client_message_of(client_error e) noexcept {
    switch (e) {
    case client_error::bad_endpoint: return "endpoint URL is invalid (need http(s)://host[:port])";
    case client_error::insecure_http_refused: return "http:// endpoint refused (allow_insecure_http is off)";
    case client_error::missing_credentials: return "appid, secret_id or secret_key is empty";
    case client_error::invalid_argument: return "invalid argument";
    case client_error::invalid_field:
        return "field contains a forbidden character (a control character, or & or = in a signed field)";
    case client_error::file_not_found: return "file not found";
    case client_error::file_unreadable: return "file unreadable";
    case client_error::file_changed_size: return "file changed size during upload";
    case client_error::source_failed: return "body source failed";
    case client_error::upload_too_large: return "upload larger than max_upload_bytes";
    case client_error::invalid_signature_validity: return "signature validity must be 1 s to 90 days";
    case client_error::response_too_large: return "response body larger than max_response_bytes";
    case client_error::header_too_large: return "response header too large";
    case client_error::non_json_response: return "response body is not a JSON object";
    case client_error::malformed_response: return "malformed response (missing field or wrong type)";
    case client_error::resolve_timeout: return "host name resolution timed out";
    case client_error::connect_timeout: return "connect timed out";
    case client_error::handshake_timeout: return "TLS handshake timed out";
    case client_error::stall_timeout: return "no transfer progress (stall timeout)";
    case client_error::deadline_exceeded: return "operation deadline exceeded";
    case client_error::pool_wait_timeout: return "timed out waiting for a pooled connection";
    case client_error::pool_closed: return "connection pool closed";
    case client_error::retries_exhausted: return "retries exhausted";
    case client_error::tls_verification_failed: return "TLS certificate verification failed";
    case client_error::connection_closed: return "connection closed before a complete response";
    case client_error::tls_certificate_expired: return "TLS certificate expired or not yet valid";
    case client_error::tls_hostname_mismatch: return "TLS certificate does not match the host name";
    case client_error::tls_untrusted_certificate: return "TLS certificate chain not trusted";
    case client_error::similarity_below_threshold: return "similarity below the decision threshold";
    case client_error::comparison_missing: return "comparison required but absent from the reply";
    }
    return nullptr;
}

std::optional<condition> api_condition(int code) noexcept {
    switch (code) {
    case 4:
    case 5:
    case 6:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 16:
    case 24: return condition::auth;
    case 15: return condition::rate_limit;
    case 3:
    case 21:
    case 23: return condition::bad_request;
    case 107:
    case 108:
    case 213:
    case -1200:
    case -5802: return condition::server;
    default: break;
    }
    if (code <= -1101 && code >= -1109) return condition::verdict;      // the media did not yield a face
    if (code <= -1300 && code >= -1403) return condition::bad_request;  // the request's inputs
    if (code <= -5800 && code >= -5899) return condition::identity;
    if ((code <= -4000 && code >= -4999) || (code <= -5000 && code >= -5099)) return condition::verdict;
    return std::nullopt;
}

condition client_condition(client_error e) noexcept {
    switch (e) {
    case client_error::missing_credentials: return condition::auth;
    case client_error::bad_endpoint:
    case client_error::insecure_http_refused:
    case client_error::invalid_argument:
    case client_error::invalid_field:
    case client_error::file_not_found:
    case client_error::file_unreadable:
    case client_error::file_changed_size:
    case client_error::source_failed:
    case client_error::upload_too_large:
    case client_error::invalid_signature_validity: return condition::bad_request;
    case client_error::response_too_large:
    case client_error::header_too_large:
    case client_error::non_json_response:
    case client_error::malformed_response: return condition::server;
    case client_error::similarity_below_threshold:
    case client_error::comparison_missing: return condition::verdict;
    case client_error::resolve_timeout:
    case client_error::connect_timeout:
    case client_error::handshake_timeout:
    case client_error::stall_timeout:
    case client_error::deadline_exceeded:
    case client_error::pool_wait_timeout:
    case client_error::pool_closed:
    case client_error::retries_exhausted:
    case client_error::tls_verification_failed:
    case client_error::tls_certificate_expired:
    case client_error::tls_hostname_mismatch:
    case client_error::tls_untrusted_certificate:
    case client_error::connection_closed: return condition::transport;
    }
    return condition::transport;
}

/// Asio/Beast errors that mean "the network or the peer failed", as opposed to cancellation or
/// programming errors. These are the ones a fresh connection may cure.
bool is_transient_network_error(const error_code& ec) noexcept {
    namespace ae = boost::asio::error;
    return ec == ae::connection_refused || ec == ae::connection_reset || ec == ae::connection_aborted ||
           ec == ae::broken_pipe || ec == ae::eof || ec == ae::timed_out || ec == ae::host_unreachable ||
           ec == ae::network_unreachable || ec == ae::network_down || ec == ae::network_reset ||
           ec == boost::asio::ssl::error::stream_truncated || ec == boost::beast::error::timeout;
}

std::optional<condition> foreign_condition(const error_code& ec) noexcept {
    if (is_transient_network_error(ec)) return condition::transport;
    const auto& cat = ec.category();
    if (cat == boost::asio::error::get_netdb_category() || cat == boost::asio::error::get_addrinfo_category() ||
        cat == boost::asio::error::get_ssl_category() || cat == boost::asio::ssl::error::get_stream_category())
        return condition::transport;
    if (cat == boost::beast::http::make_error_code(boost::beast::http::error::end_of_stream).category()) {
        // The peer closing mid-message is a transport failure; anything else is a reply we could
        // not parse, which is the server's fault.
        if (ec == boost::beast::http::error::end_of_stream || ec == boost::beast::http::error::partial_message)
            return condition::transport;
        return condition::server;
    }
    return std::nullopt;
}

class api_category_impl final : public boost::system::error_category {
public:
    constexpr api_category_impl() noexcept : error_category(api_category_id) {}
    const char* name() const noexcept override { return "livefour.api"; }
    std::string message(int ev) const override { return api_message(ev); }
};

class client_category_impl final : public boost::system::error_category {
public:
    constexpr client_category_impl() noexcept : error_category(client_category_id) {}
    const char* name() const noexcept override { return "livefour.client"; }
    std::string message(int ev) const override {
        if (const char* m = client_message_of(static_cast<client_error>(ev))) return m;
        return "unknown client error " + std::to_string(ev);
    }
};

class condition_category_impl final : public boost::system::error_category {
public:
    constexpr condition_category_impl() noexcept : error_category(condition_category_id) {}
    const char* name() const noexcept override { return "livefour.condition"; }
    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::auth: return "authentication or credentials problem";
        case condition::rate_limit: return "rate limited";
        case condition::bad_request: return "bad request";
        case condition::server: return "server error or unusable reply";
        case condition::verdict: return "liveness or comparison rejected";
        case condition::identity: return "identity check failed";
        case condition::transport: return "transport failure";
        }
        return "unknown condition " + std::to_string(ev);
    }
    // Called by `ec == condition::x` for codes of any category, including Asio's.
    bool equivalent(const error_code& code, int cond) const noexcept override {
        const auto c = condition_of(code);
        return c && static_cast<int>(*c) == cond;
    }
};

}  // namespace

const boost::system::error_category& api_category() noexcept {
    static const api_category_impl instance;
    return instance;
}

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}

const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

std::string api_message(int code) {
    if (const char* m = known_api_message(code)) return m;
    return "unknown API code " + std::to_string(code);
}

std::optional<condition> condition_of(const error_code& ec) noexcept {
    if (!ec) return std::nullopt;
    if (ec.category() == api_category()) return api_condition(ec.value());
    if (ec.category() == client_category()) return client_condition(static_cast<client_error>(ec.value()));
    if (ec.category() == faceid::category()) return faceid::info(static_cast<faceid::errc>(ec.value())).cond;
    return foreign_condition(ec);
}

// is_retryable() is defined in retry.cpp, next to the retry loop's classification it answers with.

bool is_fatal_for_connection(const error_code& ec) noexcept {
    if (!ec) return false;
    // A non-zero `code` arrived in a complete reply: the connection is in a clean state.
    if (ec.category() == api_category()) return false;
    if (ec.category() == client_category()) {
        switch (static_cast<client_error>(ec.value())) {
        // detected before any byte was written, or decided on a complete reply
        case client_error::bad_endpoint:
        case client_error::insecure_http_refused:
        case client_error::missing_credentials:
        case client_error::invalid_argument:
        case client_error::invalid_field:
        case client_error::upload_too_large:
        case client_error::invalid_signature_validity:
        case client_error::similarity_below_threshold:
        case client_error::comparison_missing: return false;
        // Everything else happened mid-exchange (a half-sent body, an unread or unparsable reply):
        // reusing the stream could desynchronise the next request. Closing costs one reconnect.
        default: return true;
        }
    }
    // Transport, TLS, timeout, cancellation and HTTP parse errors of Asio/Beast.
    return true;
}

}  // namespace livefour
