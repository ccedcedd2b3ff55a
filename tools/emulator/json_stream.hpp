// livefour-emulator — a streaming scanner for API 3.0 request bodies (one JSON object).
//
// An API 3.0 body carries the video and the photo as base64 strings inside JSON, up to 10 MB.
// The emulator must not hold that in memory per connection, so this scanner is fed the body in
// arbitrary slices and keeps only what a verdict needs: the small top-level members (decoded
// strings up to a limit, numbers and literals as their text), and for each media member
// (`VideoBase64`, `ImageBase64`) a summary: base64 length, decoded size, SHA-256 of the decoded
// bytes and their first bytes for magic detection. The base64 is validated strictly (RFC 4648
// §4 alphabet, padding, zero unused bits) and decoded as it streams. Pure logic, no I/O.
//
// Deliberate leniency: nested objects and arrays (`Encryption`, say) are skipped by bracket
// depth without checking their commas and colons, and raw bytes in strings are not checked to
// be UTF-8. Everything at the top level is checked strictly.
#pragma once

#include <livefour/detail/crypto.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// A top-level member that is not a media field.
struct json_member {
    enum class kind { string, number, boolean, null, object, array };
    kind type = kind::string;
    std::string text;  ///< decoded string, or the literal/number text; empty for objects and arrays
};

/// What remains of a base64 media member once it has streamed through.
struct media_summary {
    std::uint64_t base64_chars = 0;  ///< characters of the JSON string after unescaping
    std::uint64_t size = 0;          ///< decoded bytes
    std::string sha256_hex;          ///< of the decoded bytes
    std::string head;                ///< the first decoded bytes (magic detection)
};

/// Bounds that keep the scanner's memory independent of the body.
struct json_scan_limits {
    std::size_t max_key_bytes = 256;
    std::size_t max_value_bytes = 64 * 1024;  ///< a small member's decoded text
    std::size_t max_members = 64;
    std::size_t max_depth = 32;  ///< nesting inside a skipped member
    std::size_t media_head_bytes = 256;
};

/// Incremental scanner: feed() successive slices, then finish().
class json_body_scanner {
public:
    /// Why scanning failed: a JSON syntax problem, or a media member that is not valid base64.
    enum class failure { none, syntax, base64, limit };

    explicit json_body_scanner(std::vector<std::string> media_keys = {"VideoBase64", "ImageBase64"},
                               json_scan_limits limits = {});

    /// Consumes the next bytes; false once the body is known to be bad (then a no-op).
    bool feed(std::string_view bytes);
    /// Declares the end of the body; false unless it was exactly one complete JSON object.
    bool finish();

    [[nodiscard]] failure failed() const noexcept { return failure_; }
    /// Why, in words (names the member); empty while not failed.
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    /// The small top-level members, by name.
    [[nodiscard]] const std::map<std::string, json_member>& members() const noexcept { return members_; }
    /// The media members present, by name.
    [[nodiscard]] const std::map<std::string, media_summary>& media() const noexcept { return media_; }

private:
    enum class state {
        start,
        key_or_end,
        key,
        colon,
        value,
        string_value,
        media_value,
        scalar,
        nested,
        comma_or_end,
        done
    };

    bool fail(failure f, std::string why);
    bool step(char c);
    bool begin_value(char c);
    bool end_member(json_member m);
    bool string_char(char c, std::string& out, std::size_t max, bool& closed);
    bool media_char(char c);
    bool base64_char(char c);
    bool finish_media();
    void finish_media_batch();
    bool finish_scalar();

    std::vector<std::string> media_keys_;
    json_scan_limits limits_;
    state state_ = state::start;
    failure failure_ = failure::none;
    std::string error_;
    std::map<std::string, json_member> members_;
    std::map<std::string, media_summary> media_;

    std::string key_;
    std::string text_;  // the current small value, or scalar token
    json_member::kind nested_kind_ = json_member::kind::object;
    // string decoding: 0 = plain, 1 = after '\', 2..5 = collecting \uXXXX digits
    int escape_ = 0;
    unsigned code_unit_ = 0;
    unsigned high_surrogate_ = 0;  // pending \uD8xx waiting for its low half
    // nested skipping
    std::size_t depth_ = 0;
    bool nested_in_string_ = false;
    bool nested_escape_ = false;
    // media decoding
    media_summary* current_ = nullptr;  // the media member being decoded
    livefour::detail::sha256_context sha_;
    unsigned quad_ = 0;
    int quad_len_ = 0;
    int padding_ = 0;
    std::string decoded_;  // a small batch of decoded bytes, hashed when full
};

}  // namespace livefour::emulator
