// livefour — multipart/form-data forms and their streaming encoder.
#include <livefour/detail/multipart_body.hpp>
#include <livefour/multipart.hpp>
#include <livefour/options.hpp>

#include "encoding.hpp"

#include <boost/asio/error.hpp>
#include "source.hpp"

#include <openssl/rand.h>

#include <pthread.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

namespace livefour {
namespace detail {

namespace {}  // namespace

/// What `prepare()` captured for one part. prepare() runs for every request, so a text field
/// costs no allocation of its own: its header and value live in prepared_form::text, and its
/// name, for error messages, is usually short enough for std::string's inline buffer.
struct prepared_part {
    std::string name;
    std::string path;                          // file parts: for error messages
    std::size_t head_begin = 0, head_end = 0;  // in prepared_form::text; a text field's value included
    bool text = true;                          // a text field (its value went out with the head)
    source_reader source;                      // a file part's bytes
    std::optional<std::uint64_t> size;         // body bytes after the head; nullopt only for an unsized custom source

    /// "part 'name'", plus " (path)" for a file: how error_detail() names the part.
    std::string label() const {
        std::string s = "part '" + name + '\'';
        if (!path.empty()) s.append(" (").append(path) += ')';
        return s;
    }
};

/// The result of one `prepare()`: everything the encoder needs, independent of later form edits.
struct prepared_form {
    /// Every part's head ("--B\r\nContent-Disposition: ...\r\n[Content-Type: ...\r\n]\r\n", then a
    /// text field's value), then the closing delimiter "--B--\r\n" from closing_begin on.
    std::string text;
    std::size_t closing_begin = 0;
    std::vector<prepared_part> parts;
    std::optional<std::uint64_t> length;
    bool armed = true;  // cleared by the encoder that serializes it

    std::string_view head(const prepared_part& p) const {
        return std::string_view(text).substr(p.head_begin, p.head_end - p.head_begin);
    }
    std::string_view closing() const { return std::string_view(text).substr(closing_begin); }
};

/// The encoder's door into the form's private state.
struct multipart_access {
    static const std::shared_ptr<prepared_form>& state(const multipart_form& f) { return f.state_; }
    static void note_custom_read(multipart_form& f) { f.custom_read_ = true; }
    static void set_thread_buffer(multipart_form& f, bool on) { f.thread_buffer_ = on; }
    static bool thread_buffer(const multipart_form& f) { return f.thread_buffer_; }
    static error_code fail(multipart_form& f, error_code ec, std::string detail) {
        return f.fail(ec, std::move(detail));
    }
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// content types and sources

std::string_view content_type_for(std::string_view filename) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> table{{
        {"mp4", "video/mp4"},
        {"flv", "video/x-flv"},
        {"webm", "video/webm"},
        {"mov", "video/quicktime"},
        {"avi", "video/x-msvideo"},
        {"3gp", "video/3gpp"},
        {"mkv", "video/x-matroska"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
        {"bmp", "image/bmp"},
        {"", ""},
    }};
    const auto dot = filename.rfind('.');
    if (dot != std::string_view::npos && dot + 1 < filename.size()) {
        const auto ext = filename.substr(dot + 1);
        for (const auto& [e, type] : table) {
            if (e.empty() || e.size() != ext.size()) continue;
            const bool same = std::equal(e.begin(), e.end(), ext.begin(), [](char a, char b) {
                return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
            });
            if (same) return type;
        }
    }
    return "application/octet-stream";
}

body_source::body_source(kind k, std::string filename, std::string content_type)
    : kind_(k), filename_(std::move(filename)), content_type_(std::move(content_type)) {
    if (content_type_.empty()) content_type_ = std::string(content_type_for(filename_));
}

body_source body_source::file(std::filesystem::path path, std::string content_type, std::string filename) {
    if (filename.empty()) filename = path.filename().string();
    body_source s(kind::file, std::move(filename), std::move(content_type));
    s.path_ = std::move(path);
    return s;
}

body_source body_source::memory(std::string bytes, std::string filename, std::string content_type) {
    return memory(std::make_shared<const std::string>(std::move(bytes)), std::move(filename), std::move(content_type));
}

body_source body_source::memory(std::shared_ptr<const std::string> bytes, std::string filename,
                                std::string content_type) {
    body_source s(kind::memory, std::move(filename), std::move(content_type));
    s.bytes_ = bytes ? std::move(bytes) : std::make_shared<const std::string>();
    return s;
}

body_source body_source::async(std::shared_ptr<async_byte_source> src, std::string filename, std::string content_type) {
    body_source s(kind::async, std::move(filename), std::move(content_type));
    // Tracked: a retry may resend a one-shot source only while none of its bytes was taken.
    if (src) s.async_ = std::make_shared<detail::tracked_async_source>(std::move(src));
    return s;
}

body_source body_source::custom(std::shared_ptr<byte_source> src, std::string filename, std::string content_type) {
    body_source s(kind::custom, std::move(filename), std::move(content_type));
    s.custom_ = std::move(src);
    return s;
}

// ---------------------------------------------------------------------------------------------
// the form

namespace {

/// Bumped in a forked child (pthread_atfork): every thread's block of random bytes is then stale,
/// so a child never replays the boundaries its parent is about to use.
std::atomic<unsigned> fork_generation{0};

/// `n` bytes (n <= 256) from OpenSSL's CSPRNG, drawn in 4 KiB blocks per thread. A boundary per
/// request used to cost a RAND_bytes call each, and OpenSSL's fork check inside it a getpid
/// system call: a measurable part of a small upload (docs/benchmarks.md, scenario 3).
bool random_bytes(unsigned char* out, std::size_t n) {
    static const int registered = ::pthread_atfork(nullptr, nullptr, [] { ++fork_generation; });
    (void)registered;
    thread_local std::array<unsigned char, 4096> block{};
    thread_local std::size_t used = block.size();
    thread_local unsigned generation = 0;
    const unsigned now = fork_generation.load(std::memory_order_relaxed);
    if (used + n > block.size() || generation != now) {
        if (RAND_bytes(block.data(), static_cast<int>(block.size())) != 1) return false;
        used = 0;
        generation = now;
    }
    std::memcpy(out, block.data() + used, n);
    used += n;
    return true;
}

std::string random_boundary() {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static constexpr std::string_view prefix = "livefour-";
    constexpr std::size_t random_chars = 32;
    std::string out(prefix.size() + random_chars, '\0');  // one allocation, written in place
    std::memcpy(out.data(), prefix.data(), prefix.size());
    std::size_t at = prefix.size();
    std::array<unsigned char, 64> raw{};
    while (at < out.size()) {
        if (!random_bytes(raw.data(), raw.size())) {
            // Uniqueness, not secrecy, is what matters here; keep going without OpenSSL's RNG.
            std::random_device rd;
            for (auto& b : raw) b = static_cast<unsigned char>(rd());
        }
        for (unsigned char b : raw) {
            // 248 = 4 * 62: rejecting the rest keeps the characters uniform.
            if (b < 248 && at < out.size()) out[at++] = alphabet[b % alphabet.size()];
        }
    }
    return out;
}

// RFC 2046 bchars without the space (a trailing space is illegal and any space needs care).
bool is_bchar(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
}

bool has_line_break_or_nul(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// WHATWG: '"' in a name or filename becomes %22 (CR and LF were rejected before). Appends, so
// that a part's header is built in one string (prepare() runs for every request).
void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"')
            out += "%22";
        else
            out += c;
    }
    out += '"';
}

}  // namespace

multipart_form::multipart_form(std::string boundary)
    : boundary_(boundary.empty() ? random_boundary() : std::move(boundary)) {}

multipart_form& multipart_form::add_field(std::string name, std::string value) {
    state_.reset();
    if (parts_.capacity() == 0) parts_.reserve(6);  // a detect form's parts: one allocation
    parts_.push_back(part{std::move(name), std::move(value), std::nullopt});
    return *this;
}

multipart_form& multipart_form::add_file(std::string name, body_source source) {
    state_.reset();
    if (parts_.capacity() == 0) parts_.reserve(6);  // a detect form's parts: one allocation
    parts_.push_back(part{std::move(name), {}, std::move(source)});
    return *this;
}

std::string multipart_form::content_type() const {
    // RFC 2045 requires quotes only for tspecials, but receivers also misread an unquoted "'"
    // (Python takes it for RFC 2231 charset'lang'value syntax). Quoting is always legal, so
    // anything beyond [A-Za-z0-9._-] is quoted; the default random boundary never needs it.
    const bool quote = !std::all_of(boundary_.begin(), boundary_.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
    return quote ? "multipart/form-data; boundary=\"" + boundary_ + "\"" : "multipart/form-data; boundary=" + boundary_;
}

std::optional<std::uint64_t> multipart_form::content_length() const noexcept {
    return state_ ? state_->length : std::nullopt;
}

error_code multipart_form::fail(error_code ec, std::string detail) {
    error_detail_ = std::move(detail);
    return ec;
}

error_code multipart_form::prepare() {
    using detail::prepared_part;
    state_.reset();
    error_detail_.clear();

    if (boundary_.empty() || boundary_.size() > 70 || !std::all_of(boundary_.begin(), boundary_.end(), is_bchar))
        return fail(client_error::invalid_argument, "boundary must be 1-70 characters of [A-Za-z0-9'()+_,-./:=?]");
    if (parts_.empty()) return fail(client_error::invalid_argument, "a form needs at least one part");

    std::array<char, 72> delimiter_buf{};  // "--" + at most 70 characters
    delimiter_buf[0] = delimiter_buf[1] = '-';
    std::memcpy(delimiter_buf.data() + 2, boundary_.data(), boundary_.size());
    const std::string_view delimiter(delimiter_buf.data(), boundary_.size() + 2);

    auto st = std::make_shared<detail::prepared_form>();
    st->parts.reserve(parts_.size());
    // All heads in one string, sized up front: one allocation for the form's framing.
    std::size_t text_size = delimiter.size() + 4;
    for (const auto& p : parts_) {
        text_size += delimiter.size() + 3 * p.name.size() + 48;  // '"' may become "%22"
        if (p.source)
            text_size += 3 * p.source->filename().size() + p.source->content_type().size() + 32;
        else
            text_size += p.value.size();
    }
    auto& text = st->text;
    text.reserve(text_size);
    std::uint64_t length = 0;
    bool sized = true;

    for (const auto& p : parts_) {
        prepared_part pp;
        pp.name = p.name;
        if (p.name.empty() || has_line_break_or_nul(p.name))
            return fail(client_error::invalid_field, pp.label() + ": empty name or CR/LF/NUL in it");

        pp.head_begin = text.size();
        text.append(delimiter).append("\r\nContent-Disposition: form-data; name=");
        append_quoted(text, p.name);
        if (!p.source) {
            if (has_line_break_or_nul(p.value))
                return fail(client_error::invalid_field, pp.label() + ": CR/LF/NUL in the value");
            if (p.value.find(delimiter) != std::string::npos)
                return fail(client_error::invalid_argument, pp.label() + ": contains the boundary");
            text.append("\r\n\r\n").append(p.value);
            pp.size = 0;
        } else {
            const auto& src = *p.source;
            if (has_line_break_or_nul(src.filename()) || has_line_break_or_nul(src.content_type()))
                return fail(client_error::invalid_field, pp.label() + ": CR/LF/NUL in the filename or content type");
            text.append("; filename=");
            append_quoted(text, src.filename());
            text.append("\r\nContent-Type: ").append(src.content_type()).append("\r\n\r\n");
            if (const auto& bytes = detail::body_source_access::bytes(src)) {
                // Cheap insurance for what we hold in memory; files are not scanned (random
                // boundaries make a collision a 2^-190 event).
                if (bytes->find(delimiter) != std::string::npos)
                    return fail(client_error::invalid_argument, pp.label() + ": contains the boundary");
            }
            if (src.is_file()) pp.path = src.path()->native();
            pp.text = false;
            std::string why;
            if (auto ec = pp.source.open(src, custom_read_, why)) return fail(ec, pp.label() + ": " + why);
            pp.size = pp.source.size();
        }
        pp.head_end = text.size();

        if (pp.size)
            length += (pp.head_end - pp.head_begin) + *pp.size + 2;  // 2 = CRLF ending the part
        else
            sized = false;
        st->parts.push_back(std::move(pp));
    }
    st->closing_begin = text.size();
    text.append(delimiter).append("--\r\n");
    length += text.size() - st->closing_begin;
    if (sized) st->length = length;

    custom_read_ = false;
    state_ = std::move(st);
    return {};
}

// ---------------------------------------------------------------------------------------------
// the encoder

namespace detail {

multipart_encoder::multipart_encoder(std::shared_ptr<multipart_form> form) noexcept : form_(std::move(form)) {}
multipart_encoder::~multipart_encoder() = default;
multipart_encoder::multipart_encoder(multipart_encoder&&) noexcept = default;
multipart_encoder& multipart_encoder::operator=(multipart_encoder&&) noexcept = default;

error_code multipart_encoder::fail(error_code ec, std::string detail) {
    error_ = ec;
    if (form_) multipart_access::fail(*form_, ec, std::move(detail));
    return ec;
}

void multipart_encoder::start(error_code& ec) {
    ec = {};
    if (!form_) {
        phase_ = phase::done;
        return;
    }
    const auto& st = multipart_access::state(*form_);
    if (!st || !st->armed) {
        ec = fail(client_error::invalid_argument,
                  "multipart form not prepared (call prepare() before each serialization)");
        return;
    }
    st->armed = false;
    state_ = st;
    cap_ = std::clamp(form_->write_buffer_size, min_write_buffer_size, max_write_buffer_size);
    if (state_->length && *state_->length < cap_) cap_ = static_cast<std::size_t>(*state_->length);
    // A file that changed since prepare() fails here, before the header goes out. A body that fits
    // the first buffer needs no fstat: the first next() reads every file to its end (and one byte
    // past it) before Beast sends the header with that buffer, so a change fails there just as early.
    const bool one_buffer = state_->length && *state_->length <= cap_;
    for (const auto& p : state_->parts) {
        if (one_buffer || p.text) continue;
        std::string why;
        if (auto e = p.source.check_size(why)) {
            ec = fail(e, p.label() + ": " + why);
            return;
        }
    }
    thread_buffer_ = multipart_access::thread_buffer(*form_);
    if (thread_buffer_)
        buf_.reset();
    else
        buf_ = std::make_unique_for_overwrite<char[]>(cap_);
    out_ = buf_.get();
    part_ = 0;
    off_ = 0;
    produced_ = 0;
    phase_ = phase::head;
}

std::span<const char> multipart_encoder::next(error_code& ec) {
    if (error_) {
        ec = error_;
        return {};
    }
    if (!state_ && phase_ != phase::done) {
        ec = fail(client_error::invalid_argument, "multipart encoder used before start()");
        return {};
    }
    // Borrowed again on every call: another encoder on this thread may have grown it meanwhile.
    if (thread_buffer_) out_ = thread_body_buffer(cap_);
    std::size_t n = 0;
    waiting_ = nullptr;
    while (n < cap_ && phase_ != phase::done) {
        if (auto e = step(n)) {
            // An async source has nothing staged: what this buffer holds goes out first, then the
            // caller fills the source (waiting()) and calls again.
            if (e == boost::asio::error::would_block && n > 0) break;
            ec = e;
            return {};
        }
    }
    produced_ += n;
    if (form_ && form_->max_body_bytes && produced_ > form_->max_body_bytes) {
        ec = fail(client_error::upload_too_large,
                  "request body exceeds " + std::to_string(form_->max_body_bytes) + " bytes while streaming");
        return {};
    }
    ec = {};
    return {out_, n};
}

bool multipart_encoder::copy_from(std::string_view s, std::size_t& n) noexcept {
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(s.size() - off_, cap_ - n));
    std::memcpy(out_ + n, s.data() + off_, k);
    n += k;
    off_ += k;
    return off_ == s.size();
}

error_code multipart_encoder::step(std::size_t& n) {
    switch (phase_) {
    case phase::head:
        if (copy_from(state_->head(state_->parts[part_]), n)) {
            phase_ = phase::body;
            off_ = 0;
        }
        return {};
    case phase::body: return body_step(n);
    case phase::tail:
        if (copy_from("\r\n", n)) {
            off_ = 0;
            phase_ = ++part_ < state_->parts.size() ? phase::head : phase::closing;
        }
        return {};
    case phase::closing:
        if (copy_from(state_->closing(), n)) phase_ = phase::done;
        return {};
    case phase::done: break;
    }
    return {};
}

error_code multipart_encoder::body_step(std::size_t& n) {
    auto& p = state_->parts[part_];
    if (!p.text) {
        if (p.source.is_custom() && p.source.offset() == 0) multipart_access::note_custom_read(*form_);
        std::size_t got = 0;
        std::string why;
        if (auto ec = p.source.read(std::span<char>(out_ + n, cap_ - n), got, why)) {
            if (ec == boost::asio::error::would_block) {
                waiting_ = &p.source;
                return ec;  // not a failure: the exchange fills the source
            }
            return fail(ec, p.label() + ": " + why);
        }
        n += got;
        if (!p.source.ended()) return {};
    }
    // The part's bytes are all out (a text field's value went out with the head).
    phase_ = phase::tail;
    off_ = 0;
    return {};
}

std::optional<std::uint64_t> prepared_part_size(const multipart_form& form, std::string_view name) {
    const auto& st = multipart_access::state(form);
    if (!st) return std::nullopt;
    for (const auto& p : st->parts)
        if (p.name == name) return p.size;
    return std::nullopt;
}

bool multipart_rewindable(const multipart_form& form) noexcept {
    const auto& st = multipart_access::state(form);
    if (!st) return true;
    for (const auto& p : st->parts)
        if (!p.text && !p.source.rewindable()) return false;
    return true;
}

bool multipart_has_async(const multipart_form& form) noexcept {
    const auto& st = multipart_access::state(form);
    if (!st) return false;
    for (const auto& p : st->parts)
        if (!p.text && p.source.is_async()) return true;
    return false;
}

void encode_into_thread_buffer(multipart_form& form, bool on) noexcept {
    multipart_access::set_thread_buffer(form, on);
}

}  // namespace detail
}  // namespace livefour
