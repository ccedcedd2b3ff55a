// livefour-emulator — streaming scanner for API 3.0 bodies (see json_stream.hpp).
#include "json_stream.hpp"

#include <algorithm>
#include <array>

namespace livefour::emulator {
namespace {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr std::array<signed char, 256> b64_table = [] {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    return t;
}();

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool valid_number(std::string_view s) noexcept {
    std::size_t i = 0;
    auto digits = [&] {
        const auto from = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i > from;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0')
        ++i;
    else if (!digits())
        return false;
    if (i < s.size() && s[i] == '.' && (++i, !digits())) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == s.size();
}

constexpr std::size_t hash_batch = 3 * 1024;  // decoded bytes per SHA-256 update

}  // namespace

json_body_scanner::json_body_scanner(std::vector<std::string> media_keys, json_scan_limits limits)
    : media_keys_(std::move(media_keys)), limits_(limits) {}

bool json_body_scanner::fail(failure f, std::string why) {
    if (failure_ == failure::none) {
        failure_ = f;
        error_ = std::move(why);
    }
    return false;
}

bool json_body_scanner::feed(std::string_view bytes) {
    if (failure_ != failure::none) return false;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        // The bulk of a body is base64: take a run of plain alphabet characters in one go.
        if (state_ == state::media_value && escape_ == 0 && padding_ == 0) {
            std::size_t j = i;
            while (j < bytes.size() && b64_table[static_cast<unsigned char>(bytes[j])] >= 0) {
                quad_ = (quad_ << 6) | static_cast<unsigned>(b64_table[static_cast<unsigned char>(bytes[j])]);
                if (++quad_len_ == 4) {
                    decoded_ += static_cast<char>(quad_ >> 16);
                    decoded_ += static_cast<char>((quad_ >> 8) & 0xFF);
                    decoded_ += static_cast<char>(quad_ & 0xFF);
                    quad_ = 0;
                    quad_len_ = 0;
                    if (decoded_.size() >= hash_batch) finish_media_batch();
                }
                ++j;
            }
            current_->base64_chars += j - i;
            i = j;
            if (i == bytes.size()) break;
        }
        if (!step(bytes[i])) return false;
    }
    return true;
}

void json_body_scanner::finish_media_batch() {
    if (current_->head.size() < limits_.media_head_bytes)
        current_->head.append(decoded_, 0, std::min(decoded_.size(), limits_.media_head_bytes - current_->head.size()));
    current_->size += decoded_.size();
    sha_.update(decoded_);
    decoded_.clear();
}

bool json_body_scanner::finish() {
    if (failure_ != failure::none) return false;
    if (state_ != state::done) return fail(failure::syntax, "the body ends before its JSON object does");
    return true;
}

// Appends one character of a JSON string to `out` (decoding escapes); `closed` becomes true at
// the closing quote. False (failed) on a bad escape, a raw control character or an overlong value.
bool json_body_scanner::string_char(char c, std::string& out, std::size_t max, bool& closed) {
    if (escape_ == 1) {
        escape_ = 0;
        if (high_surrogate_ && c != 'u') return fail(failure::syntax, "unpaired surrogate in a string");
        switch (c) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u':
            escape_ = 2;
            code_unit_ = 0;
            return true;
        default: return fail(failure::syntax, "invalid escape in a string");
        }
    } else if (escape_ >= 2) {
        const int v = hex_value(c);
        if (v < 0) return fail(failure::syntax, "invalid \\u escape");
        code_unit_ = (code_unit_ << 4) | static_cast<unsigned>(v);
        if (++escape_ < 6) return true;
        escape_ = 0;
        if (code_unit_ >= 0xD800 && code_unit_ <= 0xDBFF) {
            if (high_surrogate_) return fail(failure::syntax, "unpaired surrogate in a string");
            high_surrogate_ = code_unit_;
            return true;
        }
        if (code_unit_ >= 0xDC00 && code_unit_ <= 0xDFFF) {
            if (!high_surrogate_) return fail(failure::syntax, "unpaired surrogate in a string");
            append_utf8(out, 0x10000 + ((high_surrogate_ - 0xD800) << 10) + (code_unit_ - 0xDC00));
            high_surrogate_ = 0;
        } else {
            if (high_surrogate_) return fail(failure::syntax, "unpaired surrogate in a string");
            append_utf8(out, code_unit_);
        }
    } else if (c == '\\') {
        escape_ = 1;
        return true;
    } else if (high_surrogate_) {  // a high surrogate must be followed by \u and its low half
        return fail(failure::syntax, "unpaired surrogate in a string");
    } else if (c == '"') {
        closed = true;
        return true;
    } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail(failure::syntax, "raw control character in a string");
    } else {
        out += c;
    }
    if (out.size() > max) return fail(failure::limit, "a string of over " + std::to_string(max) + " bytes");
    return true;
}

// One decoded character of a media string (escapes already applied).
bool json_body_scanner::base64_char(char c) {
    ++current_->base64_chars;
    if (c == '=') {
        // Padding: only in the last two places of a quad, and nothing but padding after it.
        if (quad_len_ < 2 || quad_len_ + padding_ >= 4) return fail(failure::base64, key_ + ": misplaced '='");
        ++padding_;
        if (quad_len_ + padding_ == 4) {
            const unsigned unused = padding_ == 1 ? (quad_ & 0x3) : (quad_ & 0xF);
            if (unused != 0) return fail(failure::base64, key_ + ": non-zero bits before the padding");
            if (padding_ == 1) {
                decoded_ += static_cast<char>(quad_ >> 10);
                decoded_ += static_cast<char>((quad_ >> 2) & 0xFF);
            } else {
                decoded_ += static_cast<char>(quad_ >> 4);
            }
        }
        return true;
    }
    const int v = b64_table[static_cast<unsigned char>(c)];
    if (v < 0) return fail(failure::base64, key_ + ": a character outside the base64 alphabet");
    if (padding_ != 0) return fail(failure::base64, key_ + ": data after the padding");
    quad_ = (quad_ << 6) | static_cast<unsigned>(v);
    if (++quad_len_ == 4) {
        decoded_ += static_cast<char>(quad_ >> 16);
        decoded_ += static_cast<char>((quad_ >> 8) & 0xFF);
        decoded_ += static_cast<char>(quad_ & 0xFF);
        quad_ = 0;
        quad_len_ = 0;
    }
    return true;
}

bool json_body_scanner::media_char(char c) {
    if (escape_ == 0 && c == '"') return finish_media();
    // Escapes are legal JSON (a serialiser may write "\/"); what they decode to must be base64.
    std::string one;
    bool closed = false;
    if (!string_char(c, one, 4, closed)) return false;
    for (char d : one) {
        if (static_cast<unsigned char>(d) >= 0x80) return fail(failure::base64, key_ + ": non-ASCII character");
        if (!base64_char(d)) return false;
    }
    if (decoded_.size() >= hash_batch) finish_media_batch();
    return true;
}

bool json_body_scanner::finish_media() {
    if (escape_ != 0 || high_surrogate_) return fail(failure::syntax, "unterminated escape");
    if (current_->base64_chars == 0) return fail(failure::base64, key_ + " is empty");
    if (padding_ == 0 && quad_len_ != 0) return fail(failure::base64, key_ + ": length not a multiple of 4");
    if (padding_ != 0 && quad_len_ + padding_ != 4) return fail(failure::base64, key_ + ": incomplete padding");
    finish_media_batch();
    current_->sha256_hex = livefour::detail::to_hex(sha_.finish());
    current_ = nullptr;
    state_ = state::comma_or_end;
    return true;
}

bool json_body_scanner::end_member(json_member m) {
    if (members_.size() >= limits_.max_members)
        return fail(failure::limit, "more than " + std::to_string(limits_.max_members) + " members");
    members_.emplace(key_, std::move(m));
    state_ = state::comma_or_end;
    return true;
}

bool json_body_scanner::finish_scalar() {
    json_member m;
    m.text = std::move(text_);
    text_.clear();
    if (m.text == "true" || m.text == "false")
        m.type = json_member::kind::boolean;
    else if (m.text == "null")
        m.type = json_member::kind::null;
    else if (valid_number(m.text))
        m.type = json_member::kind::number;
    else
        return fail(failure::syntax, "invalid value of " + key_);
    return end_member(std::move(m));
}

bool json_body_scanner::begin_value(char c) {
    if (members_.count(key_) || media_.count(key_)) return fail(failure::syntax, "duplicate member " + key_);
    const bool media = std::find(media_keys_.begin(), media_keys_.end(), key_) != media_keys_.end();
    if (c == '"') {
        escape_ = 0;
        high_surrogate_ = 0;
        if (media) {
            current_ = &media_[key_];
            quad_ = 0;
            quad_len_ = 0;
            padding_ = 0;
            decoded_.clear();
            state_ = state::media_value;
        } else {
            text_.clear();
            state_ = state::string_value;
        }
        return true;
    }
    if (media) return fail(failure::base64, key_ + " must be a string");
    if (c == '{' || c == '[') {
        nested_kind_ = c == '{' ? json_member::kind::object : json_member::kind::array;
        depth_ = 1;
        nested_in_string_ = false;
        nested_escape_ = false;
        state_ = state::nested;
        return true;
    }
    if (c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
        text_.assign(1, c);
        state_ = state::scalar;
        return true;
    }
    return fail(failure::syntax, "invalid value of " + key_);
}

bool json_body_scanner::step(char c) {
    bool closed = false;
    switch (state_) {
    case state::start:
        if (is_ws(c)) return true;
        if (c != '{') return fail(failure::syntax, "the body is not a JSON object");
        state_ = state::key_or_end;
        return true;
    case state::key_or_end:
        if (is_ws(c)) return true;
        if (c == '}' && members_.empty() && media_.empty()) {
            state_ = state::done;
            return true;
        }
        if (c != '"') return fail(failure::syntax, "a member name was expected");
        key_.clear();
        escape_ = 0;
        high_surrogate_ = 0;
        state_ = state::key;
        return true;
    case state::key:
        if (!string_char(c, key_, limits_.max_key_bytes, closed)) return false;
        if (closed) state_ = state::colon;
        return true;
    case state::colon:
        if (is_ws(c)) return true;
        if (c != ':') return fail(failure::syntax, "':' was expected after a member name");
        state_ = state::value;
        return true;
    case state::value:
        if (is_ws(c)) return true;
        return begin_value(c);
    case state::string_value:
        if (!string_char(c, text_, limits_.max_value_bytes, closed)) return false;
        if (closed) {
            json_member m;
            m.text = std::move(text_);
            text_.clear();
            return end_member(std::move(m));
        }
        return true;
    case state::media_value: return media_char(c);
    case state::scalar:
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '+' || c == 'E') {
            if (text_.size() >= 64) return fail(failure::syntax, "invalid value of " + key_);
            text_ += c;
            return true;
        }
        if (!finish_scalar()) return false;
        return step(c);
    case state::nested:
        if (nested_in_string_) {
            if (nested_escape_)
                nested_escape_ = false;
            else if (c == '\\')
                nested_escape_ = true;
            else if (c == '"')
                nested_in_string_ = false;
            return true;
        }
        if (c == '"') {
            nested_in_string_ = true;
        } else if (c == '{' || c == '[') {
            if (++depth_ > limits_.max_depth) return fail(failure::limit, key_ + " is nested too deeply");
        } else if (c == '}' || c == ']') {
            if (--depth_ == 0) {
                json_member m;
                m.type = nested_kind_;
                return end_member(std::move(m));
            }
        }
        return true;
    case state::comma_or_end:
        if (is_ws(c)) return true;
        if (c == ',') {
            state_ = state::key_or_end;  // "{…,}" fails there: members exist, so '}' is refused
            return true;
        }
        if (c == '}') {
            state_ = state::done;
            return true;
        }
        return fail(failure::syntax, "',' or '}' was expected");
    case state::done:
        if (is_ws(c)) return true;
        return fail(failure::syntax, "data after the JSON object");
    }
    return fail(failure::syntax, "unreachable");
}

}  // namespace livefour::emulator
