// livefour — error categories, the legacy API codes' messages and conditions. How every code is
// classified (condition, retry phase, connection reuse) is in classify.cpp, in one place.
#include <livefour/error.hpp>

#include "classify.hpp"

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
    // request level (docs/protocol.md §5, research §5.1)
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
        if (const char* m = detail::client_error_message(static_cast<client_error>(ev))) return m;
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

std::optional<condition> condition_of(const error_code& ec) noexcept { return detail::classify(ec).cond; }

// is_retryable() is defined in retry.cpp, next to the retry rules it answers with.

bool is_fatal_for_connection(const error_code& ec) noexcept { return detail::classify(ec).fatal_for_connection; }

}  // namespace livefour

namespace livefour::detail {

std::optional<condition> api_code_condition(int code) noexcept {
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

}  // namespace livefour::detail
