// livefour-emulator — verdict rules (see verdict.hpp).
#include "verdict.hpp"

#include <livefour/detail/crypto.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>

namespace livefour::emulator {
namespace {

bool starts_with_bytes(std::string_view s, std::string_view prefix, std::size_t offset = 0) noexcept {
    return s.size() >= offset + prefix.size() && s.substr(offset, prefix.size()) == prefix;
}

std::optional<int> parse_int(std::string_view s) {
    int v = 0;
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

video_kind detect_video(std::string_view h) noexcept {
    using namespace std::string_view_literals;
    if (starts_with_bytes(h, "ftyp"sv, 4)) {
        if (starts_with_bytes(h, "qt  "sv, 8)) return video_kind::mov;
        if (starts_with_bytes(h, "3gp"sv, 8) || starts_with_bytes(h, "3g2"sv, 8)) return video_kind::threegp;
        return video_kind::mp4;
    }
    if (starts_with_bytes(h, "FLV"sv)) return video_kind::flv;
    if (starts_with_bytes(h, "\x1A\x45\xDF\xA3"sv)) return video_kind::matroska_webm;
    if (starts_with_bytes(h, "RIFF"sv) && starts_with_bytes(h, "AVI "sv, 8)) return video_kind::avi;
    return video_kind::unknown;
}

image_kind detect_image(std::string_view h) noexcept {
    using namespace std::string_view_literals;
    if (starts_with_bytes(h, "\xFF\xD8\xFF"sv)) return image_kind::jpeg;
    if (starts_with_bytes(h, "\x89PNG\r\n\x1A\n"sv)) return image_kind::png;
    if (starts_with_bytes(h, "BM"sv)) return image_kind::bmp;
    return image_kind::unknown;
}

void switches::inherit(const switches& f) {
    if (!code) code = f.code;
    if (!live_status) live_status = f.live_status;
    if (!compare_status) compare_status = f.compare_status;
    if (!sim) sim = f.sim;
    if (!delay_ms) delay_ms = f.delay_ms;
    drop = drop || f.drop;
}

std::optional<switches> parse_switches(std::string_view seq, std::string* error) {
    constexpr std::string_view prefix = "force:";
    switches out;
    if (seq.substr(0, prefix.size()) != prefix) return out;
    auto bad = [&](std::string why) -> std::optional<switches> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    std::string_view rest = seq;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (item.substr(0, prefix.size()) == prefix) item.remove_prefix(prefix.size());
        if (item.empty()) continue;
        const auto eq = item.find('=');
        const auto key = item.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        if (key == "drop") {
            if (eq != std::string_view::npos && value != "1" && value != "true")
                return bad("force:drop takes no value or 1");
            out.drop = true;
            continue;
        }
        // One row per numeric switch, looked up by key before the value is read: "force:colour=red"
        // is a typo of the key, and must be reported as one.
        struct numeric_switch {
            std::string_view key;
            std::optional<int> switches::*field;
            int min, max;
        };
        static constexpr numeric_switch numeric[] = {
            {"code", &switches::code, INT_MIN, INT_MAX},
            {"live_status", &switches::live_status, INT_MIN, INT_MAX},
            {"compare_status", &switches::compare_status, INT_MIN, INT_MAX},
            {"sim", &switches::sim, 0, 100},
            {"delay_ms", &switches::delay_ms, 0, 600000},
        };
        const auto* sw =
            std::find_if(std::begin(numeric), std::end(numeric), [&](const numeric_switch& s) { return s.key == key; });
        if (sw == std::end(numeric))
            return bad("unknown force switch '" + std::string(key) +
                       "' (known: code, live_status, compare_status, sim, delay_ms, drop)");
        const auto n = parse_int(value);
        if (!n) return bad("force switch '" + std::string(key) + "' needs an integer value");
        if (*n < sw->min || *n > sw->max)
            return bad("force:" + std::string(key) + " must be " + std::to_string(sw->min) + ".." +
                       std::to_string(sw->max));
        out.*(sw->field) = *n;
    }
    return out;
}

verdict decide(const detect_input& in) {
    verdict v;
    if (in.force.live_status)
        v.live_status = *in.force.live_status;
    else if (in.video == video_kind::unknown)
        v.live_status = -5001;
    else if (!in.digits_ok)
        v.live_status = -5008;
    else
        v.live_status = 0;
    v.live_msg = verdict_message(v.live_status);

    if (!in.compare) return v;
    int cs = 0;
    if (in.force.compare_status)
        cs = *in.force.compare_status;
    else if (v.live_status != 0)
        cs = -5005;
    else if (!in.idcard && in.card == image_kind::unknown)
        cs = -4018;
    else if (in.idcard && (in.idcard_number.empty() || in.idcard_name.empty()))
        cs = -5801;
    else if (in.idcard && !valid_idcard_number(in.idcard_number))
        cs = -5804;
    v.compare_status = cs;
    v.compare_msg = verdict_message(cs);
    if (cs != 0) return v;

    if (in.force.sim) {
        v.sim = *in.force.sim;
    } else {
        // Same uploads → same score, different uploads → (almost surely) different scores.
        const auto d = livefour::detail::sha256(in.reference_sha256_hex + ":" + in.video_sha256_hex);
        const std::uint32_t x = (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) |
                                std::uint32_t{d[3]};
        v.sim = 60 + static_cast<int>(x % 40);
    }
    v.photo = true;
    return v;
}

std::string verdict_message(int status) {
    switch (status) {
    case 0: return "OK";
    case -4006: return "VIDEO_FACE_FEATURE_FAILED";
    case -4007: return "VIDEO_FACE_COMPARE_FAILED";
    case -4009: return "CARD_FACE_FEATURE_FAILED";
    case -4010: return "SIMILARITY_COMPUTE_FAILED";
    case -4011: return "PHOTO_DECODE_FAILED";
    case -4012: return "PHOTO_FACE_DETECT_FAILED";
    case -4015: return "VIDEO_FACE_DETECT_FAILED";
    case -4016: return "VIDEO_FACE_DECODE_FAILED";
    case -4017: return "CARD_FACE_DETECT_FAILED";
    case -4018: return "CARD_DECODE_FAILED";
    case -5001: return "VIDEO_INVALID";
    case -5002: return "VIDEO_LIP_RECOG_FAILED";
    case -5005: return "VIDEO_FACE_GETIMAGE_FAILED";  // observed from the real service
    case -5007: return "VIDEO_NO_AUDIO";
    case -5008: return "VIDEO_AUDIO_RECOG_FAILED";  // observed from the real service
    case -5009: return "VIDEO_NO_FACE_OR_MOUTH";
    case -5010: return "VIDEO_LIP_MOVE_FAILED";
    case -5011: return "VIDEO_LIVE_FAILED";
    case -5012: return "VIDEO_AUDIO_TOO_NOISY";
    case -5013: return "VIDEO_AUDIO_TOO_QUIET";
    case -5014: return "LIVE_LEVEL_INVALID";
    case -5015: return "VIDEO_RESOLUTION_TOO_LOW";
    case -5016: return "VIDEO_NOT_LIVE";
    case -5801: return "IDCARD_INFO_MISSING";
    case -5802: return "IDCARD_SERVICE_UNAVAILABLE";
    case -5803: return "IDCARD_NAME_MISMATCH";
    case -5804: return "IDCARD_NUMBER_INVALID";
    case -5805: return "IMAGE_NOT_FOUND";
    default: return "ERROR_" + std::to_string(status);
    }
}

std::string code_message(int code) {
    switch (code) {
    case 0: return "OK";
    case 3: return "invalid request";  // the one observed error body
    case 4: return "signature is empty";
    case 5: return "signature format error";
    case 6: return "appid or bucket in signature does not match";
    case 9: return "signature expired";
    case 10: return "appid does not exist";
    case 11: return "secret id does not exist";
    case 12: return "appid and secret id do not match";
    case 13: return "replay attack";
    case 14: return "signature verification failed";
    case 15: return "operation too frequent";
    case 16: return "bucket does not exist";
    case 21: return "invalid parameter";
    case 23: return "request body too large";
    case 24: return "no permission";
    case 107: return "auth service internal error";
    case 108: return "auth service unavailable";
    case 213: return "internal error";
    default: return "error " + std::to_string(code);
    }
}

unsigned http_status_for_code(int code) noexcept { return (code == 3 || code == 21 || code == 23) ? 400 : 200; }

bool valid_idcard_number(std::string_view n) noexcept {
    if (n.size() != 18) return false;
    for (std::size_t i = 0; i < 17; ++i)
        if (n[i] < '0' || n[i] > '9') return false;
    const char last = n[17];
    if (!((last >= '0' && last <= '9') || last == 'X' || last == 'x')) return false;
    const auto digit = [&](std::size_t i) { return n[i] - '0'; };
    const int month = digit(10) * 10 + digit(11);
    const int day = digit(12) * 10 + digit(13);
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    static constexpr int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static constexpr char check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    int sum = 0;
    for (std::size_t i = 0; i < 17; ++i) sum += digit(i) * weights[i];
    const char expected = check[sum % 11];
    return expected == (last == 'x' ? 'X' : last);
}

}  // namespace livefour::emulator
