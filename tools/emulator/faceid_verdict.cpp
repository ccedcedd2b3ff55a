// livefour-emulator — API 3.0 faceid rules (see faceid_verdict.hpp).
#include "faceid_verdict.hpp"

#include <livefour/detail/crypto.hpp>
#include <livefour/faceid/error.hpp>

#include <charconv>
#include <cstdint>

namespace livefour::emulator {
namespace {

constexpr double sim_threshold = 70.0;  // China site: fixed, FAR 1/10000 (api3.md §0)

bool wire_code_syntax(std::string_view s) noexcept {
    return !s.empty() && s.size() <= 128 &&
           s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.") ==
               std::string_view::npos;
}

std::string describe(std::string_view result) {
    if (result == "Success") return "成功";
    const auto& row = livefour::faceid::classify(result);
    return row.code == livefour::faceid::errc::unknown ? std::string(result) : std::string(row.message);
}

}  // namespace

std::optional<faceid_action> faceid_action_named(std::string_view name) noexcept {
    for (std::size_t i = 0; i < faceid_action_names.size(); ++i)
        if (faceid_action_names[i] == name) return static_cast<faceid_action>(i);
    return std::nullopt;
}

std::optional<faceid_switches> parse_faceid_switches(std::string_view header, std::string* error) {
    faceid_switches out;
    auto bad = [&](std::string why) -> std::optional<faceid_switches> {
        if (error) *error = "X-Emulator-Force: " + std::move(why);
        return std::nullopt;
    };
    for (std::string_view rest = header; !rest.empty();) {
        const auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        const auto key = item.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        if (key == "drop") {
            if (eq != std::string_view::npos) return bad("drop takes no value");
            out.drop = true;
        } else if (key == "error" || key == "result") {
            if (!wire_code_syntax(value)) return bad(std::string(key) + " needs a code such as FailedOperation.X");
            (key == "error" ? out.error : out.result) = std::string(value);
        } else if (key == "sim") {
            double v = -1;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || !(v >= 0 && v <= 100))
                return bad("sim must be a number in 0..100");
            out.sim = v;
        } else if (key == "delay_ms") {
            int v = -1;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || v < 0 || v > 600000)
                return bad("delay_ms must be 0..600000");
            out.delay_ms = v;
        } else {
            return bad("unknown switch '" + std::string(key) + "'");
        }
    }
    return out;
}

faceid_verdict decide_faceid(const faceid_input& in) {
    faceid_verdict v;
    const bool lip = in.liveness_type == "LIP";
    if (in.force.result)
        v.result = *in.force.result;
    else if (in.video == video_kind::unknown)
        v.result = lip ? "FailedOperation.LipVideoInvalid" : "FailedOperation.LivessDetectFail";
    else if (lip && !in.code_ok)
        v.result = "FailedOperation.LipVoiceRecognize";
    else if (in.action == faceid_action::liveness_compare && in.image == image_kind::unknown)
        v.result = "FailedOperation.ImageDecodeFailed";
    else if (in.action == faceid_action::liveness_recognition && !valid_idcard_number(in.id_card))
        v.result = "FailedOperation.IdFormatError";

    const bool compared = v.result == "Success" || v.result == "FailedOperation.CompareLowSimilarity";
    if (in.force.sim) {
        v.sim = *in.force.sim;
    } else if (compared) {
        // Same uploads → same score; 70.00..99.99, so that untouched requests succeed.
        const auto d = livefour::detail::sha256(in.reference_sha256_hex + ":" + in.video_sha256_hex);
        const std::uint32_t x = (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) |
                                std::uint32_t{d[3]};
        v.sim = 70.0 + static_cast<double>(x % 3000) / 100.0;
    }
    if (!in.force.result && v.result == "Success" && v.sim < sim_threshold)
        v.result = "FailedOperation.CompareLowSimilarity";
    v.best_frame = v.result == "Success" || v.result == "FailedOperation.CompareLowSimilarity";
    v.description = describe(v.result);
    return v;
}

}  // namespace livefour::emulator
