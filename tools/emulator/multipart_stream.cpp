// livefour-emulator — streaming multipart/form-data parser (see multipart_stream.hpp).
#include "multipart_stream.hpp"

#include <livefour/detail/crypto.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace livefour::emulator {
namespace {

// Slices larger than this are processed piecewise so that the carry buffer stays small
// whatever size the caller feeds.
constexpr std::size_t slice_bytes = 64 * 1024;
// RFC 2046 allows linear white space ("transport padding") after a delimiter; bound it.
constexpr std::size_t max_padding_bytes = 256;

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A header value of the form `token; name=value; name="quoted \" value"`. Parameter names are
// lower-cased; a malformed quoted string makes the whole value unparsable.
struct header_value {
    std::string token;
    std::vector<std::pair<std::string, std::string>> params;

    const std::string* param(std::string_view name) const {
        for (const auto& [k, v] : params)
            if (k == name) return &v;
        return nullptr;
    }
};

std::optional<header_value> parse_header_value(std::string_view s) {
    header_value out;
    const auto semi = s.find(';');
    out.token = std::string(trim(s.substr(0, semi)));
    std::size_t i = semi == std::string_view::npos ? s.size() : semi + 1;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ';')) ++i;
        if (i >= s.size()) break;
        const auto eq = s.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string name(trim(s.substr(i, eq - i)));
        std::transform(name.begin(), name.end(), name.begin(), lower);
        i = eq + 1;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::string value;
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                const char c = s[i++];
                if (c == '\\' && i < s.size()) {
                    value += s[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed) return std::nullopt;
            while (i < s.size() && s[i] != ';') {
                if (s[i] != ' ' && s[i] != '\t') return std::nullopt;
                ++i;
            }
        } else {
            const auto end = s.find(';', i);
            value = std::string(trim(s.substr(i, end == std::string_view::npos ? end : end - i)));
            i = end == std::string_view::npos ? s.size() : end;
        }
        out.params.emplace_back(std::move(name), std::move(value));
    }
    return out;
}

// Incremental SHA-256; OpenSSL's EVP interface is the non-deprecated way to hash in pieces.
class sha256_stream {
public:
    sha256_stream() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
    }
    void update(std::string_view bytes) {
        if (!bytes.empty() && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1)
            throw std::runtime_error("EVP_DigestUpdate failed");
    }
    std::string final_hex() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned len = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), md.data(), &len) != 1) throw std::runtime_error("EVP_DigestFinal_ex failed");
        return livefour::detail::to_hex(std::span<const unsigned char>(md.data(), len));
    }

private:
    struct deleter {
        void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
    };
    std::unique_ptr<EVP_MD_CTX, deleter> ctx_;
};

}  // namespace

struct multipart_stream_parser::impl {
    enum class state { preamble, after_delimiter, headers, body, epilogue, failed };

    multipart_limits limits;
    std::string delimiter;  // CRLF "--" boundary
    state st = state::preamble;
    // Unconsumed bytes: at most a slice plus a partial delimiter or header block.
    std::string pending;
    std::uint64_t preamble_seen = 0;
    std::string error;
    std::vector<part_info> parts;
    part_info current;
    std::optional<sha256_stream> hash;

    impl(std::string_view boundary, multipart_limits l)
        : limits(l), delimiter("\r\n--" + std::string(boundary)),
          // The first delimiter may open the body without a preceding CRLF; pretend there was one.
          pending("\r\n") {}

    bool fail(std::string why) {
        if (st != state::failed) {
            st = state::failed;
            error = std::move(why);
            pending.clear();
            pending.shrink_to_fit();
        }
        return false;
    }

    void consume(std::size_t n) { pending.erase(0, n); }

    void part_bytes(std::string_view b) {
        if (b.empty()) return;
        const std::size_t keep = current.filename ? limits.file_head_bytes : limits.max_value_bytes;
        if (current.head.size() < keep) current.head.append(b.substr(0, keep - current.head.size()));
        current.size += b.size();
        hash->update(b);
    }

    bool end_part() {
        if (!current.filename && current.size > limits.max_value_bytes)
            return fail("text part '" + current.name + "' longer than " + std::to_string(limits.max_value_bytes) +
                        " bytes");
        current.sha256_hex = hash->final_hex();
        hash.reset();
        parts.push_back(std::move(current));
        current = {};
        return true;
    }

    bool start_part(std::string_view block) {
        if (parts.size() >= limits.max_parts) return fail("more than " + std::to_string(limits.max_parts) + " parts");
        part_info p;
        bool disposition = false;
        while (!block.empty()) {
            const auto eol = block.find("\r\n");
            const std::string_view line = block.substr(0, eol);
            block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
            if (line.empty()) continue;
            if (line.front() == ' ' || line.front() == '\t') return fail("folded part header");
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) return fail("part header without ':'");
            const auto name = trim(line.substr(0, colon));
            const auto value = trim(line.substr(colon + 1));
            if (iequals(name, "content-disposition")) {
                if (disposition) return fail("duplicate Content-Disposition");
                disposition = true;
                const auto v = parse_header_value(value);
                if (!v || !iequals(v->token, "form-data")) return fail("Content-Disposition is not form-data");
                const auto* n = v->param("name");
                if (!n) return fail("part without a name");
                p.name = *n;
                if (const auto* f = v->param("filename")) p.filename = *f;
            } else if (iequals(name, "content-type")) {
                p.content_type = std::string(value);
            }
            // Other part headers (Content-Transfer-Encoding, ...) are legal and ignored.
        }
        if (!disposition) return fail("part without Content-Disposition");
        current = std::move(p);
        hash.emplace();
        return true;
    }

    // Runs the state machine on `pending` until it needs more input. Returns false on failure.
    bool step() {
        for (;;) {
            switch (st) {
            case state::failed: return false;
            case state::epilogue: pending.clear(); return true;
            case state::preamble: {
                const auto at = pending.find(delimiter);
                if (at != std::string::npos) {
                    preamble_seen += at;
                    // Checked here too, so that the outcome does not depend on how the body was sliced.
                    if (preamble_seen > limits.max_preamble_bytes) return fail("no boundary found in the body");
                    consume(at + delimiter.size());
                    st = state::after_delimiter;
                    break;
                }
                const auto drop = pending.size() > delimiter.size() ? pending.size() - delimiter.size() : 0;
                preamble_seen += drop;
                consume(drop);
                if (preamble_seen > limits.max_preamble_bytes) return fail("no boundary found in the body");
                return true;
            }
            case state::after_delimiter: {
                if (pending.size() < 2) return true;
                if (pending.compare(0, 2, "--") == 0) {
                    st = state::epilogue;
                    break;
                }
                std::size_t i = 0;
                while (i < pending.size() && (pending[i] == ' ' || pending[i] == '\t')) ++i;
                if (i > max_padding_bytes) return fail("malformed boundary line");
                if (pending.size() < i + 2) return true;
                if (pending.compare(i, 2, "\r\n") != 0) return fail("malformed boundary line");
                consume(i + 2);
                st = state::headers;
                break;
            }
            case state::headers: {
                std::size_t header_end = 0;  // bytes of the header block including its blank line
                std::string_view block;
                if (pending.size() >= 2 && pending.compare(0, 2, "\r\n") == 0) {
                    header_end = 2;
                } else {
                    const auto at = pending.find("\r\n\r\n");
                    if (at == std::string::npos) {
                        // Up to 3 bytes of the terminating blank line may already be here.
                        if (pending.size() > limits.max_part_header_bytes + 3) return fail("part headers too large");
                        return true;
                    }
                    if (at > limits.max_part_header_bytes) return fail("part headers too large");
                    block = std::string_view(pending).substr(0, at);
                    header_end = at + 4;
                }
                if (!start_part(block)) return false;
                consume(header_end);
                st = state::body;
                break;
            }
            case state::body: {
                const auto at = pending.find(delimiter);
                if (at != std::string::npos) {
                    part_bytes(std::string_view(pending).substr(0, at));
                    consume(at + delimiter.size());
                    if (!end_part()) return false;
                    st = state::after_delimiter;
                    break;
                }
                // Everything except a possible delimiter prefix at the end is part data.
                const auto safe = pending.size() >= delimiter.size() ? pending.size() - (delimiter.size() - 1) : 0;
                part_bytes(std::string_view(pending).substr(0, safe));
                consume(safe);
                if (!current.filename && current.size > limits.max_value_bytes)
                    return fail("text part '" + current.name + "' longer than " +
                                std::to_string(limits.max_value_bytes) + " bytes");
                return true;
            }
            }
        }
    }
};

multipart_stream_parser::multipart_stream_parser(std::string_view boundary, multipart_limits limits)
    : impl_(std::make_unique<impl>(boundary, limits)) {
    if (boundary.empty() || boundary.size() > 200) impl_->fail("invalid boundary");
}

multipart_stream_parser::~multipart_stream_parser() = default;
multipart_stream_parser::multipart_stream_parser(multipart_stream_parser&&) noexcept = default;
multipart_stream_parser& multipart_stream_parser::operator=(multipart_stream_parser&&) noexcept = default;

bool multipart_stream_parser::feed(std::string_view bytes) {
    auto& s = *impl_;
    while (!bytes.empty()) {
        if (s.st == impl::state::failed) return false;
        if (s.st == impl::state::epilogue) return true;
        const auto n = std::min(bytes.size(), slice_bytes);
        s.pending.append(bytes.data(), n);
        bytes.remove_prefix(n);
        if (!s.step()) return false;
    }
    return s.st != impl::state::failed;
}

bool multipart_stream_parser::finish() {
    auto& s = *impl_;
    if (s.st == impl::state::failed) return false;
    if (s.st != impl::state::epilogue) return s.fail("body ended before the closing boundary");
    return true;
}

bool multipart_stream_parser::done() const noexcept { return impl_->st == impl::state::epilogue; }
bool multipart_stream_parser::failed() const noexcept { return impl_->st == impl::state::failed; }
const std::string& multipart_stream_parser::error() const noexcept { return impl_->error; }
const std::vector<part_info>& multipart_stream_parser::parts() const noexcept { return impl_->parts; }

std::optional<std::string> form_data_boundary(std::string_view content_type) {
    const auto v = parse_header_value(content_type);
    if (!v || !iequals(v->token, "multipart/form-data")) return std::nullopt;
    const auto* b = v->param("boundary");
    if (!b || b->empty() || b->size() > 200) return std::nullopt;
    return *b;
}

}  // namespace livefour::emulator
