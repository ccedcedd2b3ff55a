// livefour fuzzing — an independent multipart/form-data decoder (RFC 2046 §5.1.1, RFC 7578).
//
// Written for the fuzz targets and sharing no code with livefour's encoder (src/multipart.cpp) or
// the emulator's streaming parser (tools/emulator/multipart_stream.cpp): a whole-body split on
// CRLF "--" boundary, strict about everything livefour's encoder emits — no preamble, no
// transport padding, no epilogue after "--boundary--" CRLF, only the Content-Disposition and
// Content-Type part headers, quoted parameters taken verbatim (livefour never sends a backslash
// escape and escapes '"' as %22). Anything else is a decoding failure, never a guess.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::fuzz {

/// One part as it was on the wire.
struct decoded_part {
    std::string disposition_type;             ///< lower-cased, e.g. "form-data"
    std::optional<std::string> name;          ///< the quoted `name` parameter, verbatim
    std::optional<std::string> filename;      ///< the quoted `filename` parameter, verbatim
    std::optional<std::string> content_type;  ///< the Content-Type header value, verbatim
    std::string body;                         ///< the part's bytes
    std::size_t header_bytes = 0;             ///< the header block, without its blank line
};

namespace rfc2046_detail {

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// `form-data; name="a"; filename="b"` with quoted values only; false on anything else.
inline bool parse_disposition(std::string_view v, decoded_part& out) {
    const auto semi = v.find(';');
    out.disposition_type = lower(v.substr(0, semi));
    if (semi == v.npos) return true;
    v.remove_prefix(semi + 1);
    while (!v.empty()) {
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        const auto eq = v.find('=');
        if (eq == v.npos) return false;
        const std::string key = lower(v.substr(0, eq));
        v.remove_prefix(eq + 1);
        if (v.empty() || v.front() != '"') return false;
        const auto close = v.find('"', 1);
        if (close == v.npos) return false;
        std::string value(v.substr(1, close - 1));
        v.remove_prefix(close + 1);
        if (!v.empty()) {
            if (v.front() != ';') return false;
            v.remove_prefix(1);
        }
        std::optional<std::string>* slot = key == "name" ? &out.name : key == "filename" ? &out.filename : nullptr;
        if (slot == nullptr || slot->has_value()) return false;
        *slot = std::move(value);
    }
    return true;
}

}  // namespace rfc2046_detail

/// Decodes `body` framed with `boundary`; nullopt on any deviation from the strict form above.
inline std::optional<std::vector<decoded_part>> decode_multipart(std::string_view body, std::string_view boundary) {
    using namespace rfc2046_detail;
    const std::string dash = "--" + std::string(boundary);
    const std::string delimiter = "\r\n" + dash;
    if (boundary.empty() || body.substr(0, dash.size()) != dash) return std::nullopt;
    std::size_t pos = dash.size();
    std::vector<decoded_part> parts;
    for (;;) {
        const std::string_view after = body.substr(pos);
        if (after.substr(0, 2) == "--") {
            if (after != "--\r\n") return std::nullopt;
            return parts;
        }
        if (after.substr(0, 2) != "\r\n") return std::nullopt;
        pos += 2;
        const auto end = body.find(delimiter, pos);
        if (end == body.npos) return std::nullopt;
        const std::string_view part = body.substr(pos, end - pos);
        pos = end + delimiter.size();

        const auto head_end = part.find("\r\n\r\n");
        if (head_end == part.npos) return std::nullopt;
        decoded_part d;
        d.body = std::string(part.substr(head_end + 4));
        d.header_bytes = head_end;
        std::string_view head = part.substr(0, head_end);
        bool disposition = false;
        while (!head.empty()) {
            const auto eol = head.find("\r\n");
            const std::string_view line = head.substr(0, eol);
            head = eol == head.npos ? std::string_view{} : head.substr(eol + 2);
            const auto colon = line.find(':');
            if (colon == line.npos) return std::nullopt;
            const std::string field = lower(line.substr(0, colon));
            std::string_view value = line.substr(colon + 1);
            if (value.substr(0, 1) != " ") return std::nullopt;
            value.remove_prefix(1);
            if (field == "content-disposition") {
                if (disposition || !parse_disposition(value, d)) return std::nullopt;
                disposition = true;
            } else if (field == "content-type") {
                if (d.content_type) return std::nullopt;
                d.content_type = std::string(value);
            } else {
                return std::nullopt;
            }
        }
        if (!disposition) return std::nullopt;
        parts.push_back(std::move(d));
    }
}

}  // namespace livefour::fuzz
