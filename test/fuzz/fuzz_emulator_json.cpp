// Fuzz target: the emulator's streaming API 3.0 body scanner (tools/emulator/json_stream.hpp)
// against Boost.JSON and livefour's strict base64 decoder, which it does not use.
//
// Input: byte 0 picks how the body is sliced; the rest is the body. Invariants:
//   1. slicing does not matter: fed in pieces or at once, the outcome is the same;
//   2. what the scanner accepts is JSON: Boost.JSON parses it to an object whose string members
//      are the scanner's, and whose VideoBase64/ImageBase64 decode strictly to the bytes the
//      scanner hashed (unless a nested member, which the scanner only skips, is involved);
//   3. what Boost.JSON parses to an object, with media members that decode strictly and nothing
//      over the scanner's limits, the scanner accepts (unless it found a duplicate member).
#include "json_stream.hpp"

#include "fuzz_support.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace emu = livefour::emulator;
namespace json = boost::json;
using livefour::fuzz::require;

namespace {

emu::json_body_scanner scan(std::string_view body, std::size_t slice) {
    emu::json_body_scanner s;
    for (std::size_t i = 0; i < body.size(); i += slice) s.feed(body.substr(i, slice));
    s.finish();
    return s;
}

bool same(const emu::json_body_scanner& a, const emu::json_body_scanner& b) {
    if (a.failed() != b.failed()) return false;
    if (a.failed() != emu::json_body_scanner::failure::none) return true;
    if (a.members().size() != b.members().size() || a.media().size() != b.media().size()) return false;
    for (const auto& [k, m] : a.members()) {
        const auto it = b.members().find(k);
        if (it == b.members().end() || it->second.type != m.type || it->second.text != m.text) return false;
    }
    for (const auto& [k, m] : a.media()) {
        const auto it = b.media().find(k);
        if (it == b.media().end() || it->second.sha256_hex != m.sha256_hex || it->second.size != m.size ||
            it->second.base64_chars != m.base64_chars || it->second.head != m.head)
            return false;
    }
    return true;
}

// The scanner keeps a number's text up to 64 characters; Boost.JSON has no such bound.
std::size_t longest_number_run(std::string_view body) {
    std::size_t run = 0, longest = 0;
    for (char c : body) {
        run = std::string_view("0123456789.eE+-").find(c) != std::string_view::npos ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return longest;
}

bool is_media(std::string_view key) { return key == "VideoBase64" || key == "ImageBase64"; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t slice = 1 + data[0] % 23;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto whole = scan(body, body.empty() ? 1 : body.size());
    const auto pieces = scan(body, slice);
    require(same(whole, pieces), "the scanner's outcome depends on how the body is sliced");

    json::parse_options opts;
    opts.allow_invalid_utf8 = true;  // the scanner does not check UTF-8 either
    opts.max_depth = 64;
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec, {}, opts);
    const bool parsed_object = !ec && v.is_object();

    if (whole.failed() == emu::json_body_scanner::failure::none) {
        bool nested = false;
        for (const auto& [k, m] : whole.members())
            nested = nested || m.type == emu::json_member::kind::object || m.type == emu::json_member::kind::array;
        if (nested) return 0;  // skipped by bracket depth only: Boost.JSON may rightly refuse it
        if (ec == json::error::exponent_overflow) return 0;  // valid JSON that Boost.JSON cannot hold
        require(parsed_object, "the scanner accepted a body that is not a JSON object");
        const auto& o = v.get_object();
        require(o.size() == whole.members().size() + whole.media().size(), "member count differs from Boost.JSON");
        for (const auto& [k, m] : whole.members()) {
            const auto* jv = o.if_contains(k);
            require(jv != nullptr, "a member the scanner saw is missing in Boost.JSON's object");
            if (m.type == emu::json_member::kind::string)
                require(jv->is_string() && std::string_view(jv->get_string()) == m.text, "a string member differs");
        }
        for (const auto& [k, m] : whole.media()) {
            const auto* jv = o.if_contains(k);
            require(jv && jv->is_string(), "a media member is not a string in Boost.JSON's object");
            const auto decoded = livefour::detail::base64_decode(jv->get_string());
            require(decoded.has_value(), "the scanner accepted base64 that the strict decoder refuses");
            require(livefour::detail::to_hex(livefour::detail::sha256(*decoded)) == m.sha256_hex,
                    "the scanner hashed other bytes than the base64 decodes to");
        }
        return 0;
    }

    // Refusals that are the scanner's own rules, not disagreements: its bounds (members, key and
    // value sizes, depth, number length), duplicate members, lone surrogates.
    if (!parsed_object || whole.failed() == emu::json_body_scanner::failure::limit) return 0;
    if (whole.error().starts_with("duplicate member") || whole.error().find("surrogate") != std::string::npos) return 0;
    // The scanner stops at the first problem; Boost.JSON keeps the last of duplicate members. A
    // scan that treats no member as media (no base64 checks) finds duplicates past a bad medium.
    emu::json_body_scanner plain({}, {});
    plain.feed(body);
    plain.finish();
    if (plain.error().starts_with("duplicate member")) return 0;
    if (whole.error().starts_with("invalid value of") && longest_number_run(body) >= 64) return 0;
    for (const auto& kv : v.get_object()) {
        if (!is_media(kv.key())) continue;
        const auto& jv = kv.value();
        if (!jv.is_string() || jv.get_string().empty() || !livefour::detail::base64_decode(jv.get_string())) return 0;
    }
    require(false, "the scanner refused a JSON object that Boost.JSON and the base64 decoder accept");
    return 0;
}
