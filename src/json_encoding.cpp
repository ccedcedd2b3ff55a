// A JSON object whose members are small strings or the base64 of a source (encoding.hpp):
// `{"LivenessType":"LIP","ImageBase64":"<photo>","VideoBase64":"<video>"}` produced on the fly, one
// buffer at a time — the framing and the small fields precomputed and escaped once, the sources
// read into a scratch area and base64-encoded (RFC 4648, padded) straight into the buffer. Memory
// does not grow with the video; the exact length (4 * ceil(n / 3) per source) is known at prepare().
#include "encoding.hpp"

#include "source.hpp"

#include <livefour/options.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <boost/asio/error.hpp>

#include <openssl/evp.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LIVEFOUR_BASE64_AVX2 1
#endif

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace livefour::detail {

namespace {

std::uint64_t base64_size(std::uint64_t n) { return (n + 2) / 3 * 4; }

#ifdef LIVEFOUR_BASE64_AVX2
/// Base64 of whole 24-byte blocks, 32 characters each (W. Muła's SIMD method, as in aklomp/base64):
/// while 28 input bytes are readable (two 16-byte loads at +0 and +12 per block). Returns the input
/// bytes it consumed.
__attribute__((target("avx2"))) std::size_t base64_blocks_avx2(char* out, const unsigned char* in, std::size_t n) {
    // Per 128-bit lane, 12 input bytes into 4 little-endian 32-bit words of 3 bytes each (b1 b0 b2 b1).
    const __m256i shuffle = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0, 2, 1, 4, 3, 5, 4,
                                             7, 6, 8, 7, 10, 9, 11, 10);
    // The offset that turns each 6-bit range into its characters: A-Z +65, a-z +71, 0-9 -4, + -19, / -16.
    const __m256i offsets = _mm256_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0, 65, 71, -4,
                                             -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
    std::size_t i = 0;
    for (; i + 28 <= n; i += 24, out += 32) {
        __m256i v =
            _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 12)), 1);
        v = _mm256_shuffle_epi8(v, shuffle);
        // The four 6-bit values of each word into its four bytes.
        const __m256i hi =
            _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0FC0FC00)), _mm256_set1_epi32(0x04000040));
        const __m256i lo =
            _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003F03F0)), _mm256_set1_epi32(0x01000010));
        const __m256i six = _mm256_or_si256(hi, lo);
        // Range index: 0 for 0..25, 1 for 26..51, 2..11 for 52..61, 12 for 62, 13 for 63.
        __m256i range = _mm256_subs_epu8(six, _mm256_set1_epi8(51));
        range = _mm256_sub_epi8(range, _mm256_cmpgt_epi8(six, _mm256_set1_epi8(25)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi8(six, _mm256_shuffle_epi8(offsets, range)));
    }
    return i;
}
#endif

/// RFC 4648 base64 (padded) of in[0..n) into out, and a NUL after it: the bytes EVP_EncodeBlock
/// writes, whole 24-byte blocks with AVX2 when the CPU has it (about 9x EVP_EncodeBlock's speed on
/// the benchmark VM: docs/benchmarks.md, faceid), the rest with EVP_EncodeBlock. Returns the
/// characters written (without the NUL).
std::size_t encode_base64(char* out, const char* in, std::size_t n) {
    auto* src = reinterpret_cast<const unsigned char*>(in);
    std::size_t done = 0, written = 0;
#ifdef LIVEFOUR_BASE64_AVX2
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) {
        done = base64_blocks_avx2(out, src, n);
        written = done / 3 * 4;
    }
#endif
    return written + static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out + written),
                                                              src + done, static_cast<int>(n - done)));
}

/// Where the raw source bytes wait for encoding: per thread, 3/4 of the largest write buffer.
char* thread_scratch(std::size_t size) {
    thread_local std::unique_ptr<char[]> buf;
    thread_local std::size_t cap = 0;
    if (cap < size) {
        buf = std::make_unique_for_overwrite<char[]>(size);
        cap = size;
    }
    return buf.get();
}

/// One member whose value is a source, as prepare() found it.
struct prepared_source {
    source_reader reader;
    std::optional<file_identity> first;  // the file as the first prepare() saw it
    std::uint64_t encoded = 0;           // base64 characters of it, when sized
};

class json_base64_encoding final : public body_encoding {
public:
    json_base64_encoding(std::vector<json_member> members, std::size_t buffer_size)
        : members_(std::move(members)), cap_(std::clamp(buffer_size, min_write_buffer_size, max_write_buffer_size)) {
        // The framing: text[i] precedes the i-th source; text.back() closes the object.
        texts_.emplace_back("{");
        for (std::size_t i = 0; i < members_.size(); ++i) {
            auto& t = texts_.back();
            if (i) t += ',';
            t += boost::json::serialize(boost::json::string(members_[i].name));
            t += ':';
            if (members_[i].source) {
                t += '"';
                texts_.emplace_back("\"");
                sources_.emplace_back();
            } else {
                t += boost::json::serialize(boost::json::string(members_[i].value));
            }
        }
        texts_.back() += '}';
    }

    std::string content_type() const override { return "application/json"; }

    error_code prepare() override {
        armed_ = false;
        detail_.clear();
        std::size_t s = 0;
        std::optional<std::uint64_t> length = 0;
        for (const auto& t : texts_) *length += t.size();
        for (auto& m : members_) {
            if (!m.source) continue;
            auto& p = sources_[s++];
            const std::string label = m.name + (m.source->path() ? " (" + m.source->path()->string() + ")" : "");
            std::string why;
            if (auto ec = p.reader.open(*m.source, custom_read_, why)) return fail(ec, label + ": " + why);
            if (p.reader.is_file()) {
                // A pass that hashes the body and the pass that sends it must read the same bytes.
                if (p.first && *p.first != p.reader.identity())
                    return fail(client_error::file_changed_size,
                                label + ": the file changed since it was first read for this request");
                p.first = p.reader.identity();
            }
            const auto& size = p.reader.size();
            if (size && *size == 0) return fail(client_error::empty_source, label + ": empty (0 bytes)");
            if (!size) {
                length.reset();
                continue;
            }
            p.encoded = base64_size(*size);
            if (m.max_base64 && p.encoded > m.max_base64)
                return fail(m.too_large, label + ": " + std::to_string(*size) + " bytes are " +
                                             std::to_string(p.encoded) + " of base64, over the API's " +
                                             std::to_string(m.max_base64));
            if (length) *length += p.encoded;
        }
        custom_read_ = false;
        length_ = length;
        armed_ = true;
        return {};
    }

    std::optional<std::uint64_t> content_length() const noexcept override { return length_; }

    void start(error_code& ec) override {
        ec = {};
        if (!std::exchange(armed_, false)) {
            ec = fail(client_error::invalid_argument, "body not prepared (prepare() arms exactly one pass)");
            return;
        }
        for (std::size_t i = 0; i < sources_.size(); ++i) {
            std::string why;
            if (auto e = sources_[i].reader.check_size(why)) {
                ec = fail(e, source_name(i) + ": " + why);
                return;
            }
        }
        std::size_t cap = cap_;
        if (length_ && *length_ < cap) cap = std::max<std::size_t>(static_cast<std::size_t>(*length_), 16);
        cap_now_ = cap;
        // +1: EVP_EncodeBlock writes a terminating NUL after what it encodes.
        if (!thread_buffer_ && (!own_ || own_cap_ < cap + 1)) {
            own_ = std::make_unique_for_overwrite<char[]>(cap + 1);
            own_cap_ = cap + 1;
        }
        segment_ = 0;
        in_text_ = true;
        off_ = 0;
        carry_len_ = 0;
        error_ = {};
        done_ = false;
    }

    std::span<const char> next(error_code& ec) override {
        ec = error_;
        if (error_ || done_) return {};
        char* out = thread_buffer_ ? thread_body_buffer(cap_now_ + 1) : own_.get();
        std::size_t n = 0;
        waiting_ = nullptr;
        while (n < cap_now_ && !done_) {
            if (in_text_) {
                const auto& t = texts_[segment_];
                const auto k = std::min(t.size() - off_, cap_now_ - n);
                std::memcpy(out + n, t.data() + off_, k);
                n += k;
                off_ += k;
                if (off_ < t.size()) break;
                off_ = 0;
                if (segment_ == sources_.size()) {
                    done_ = true;
                } else {
                    in_text_ = false;
                }
                continue;
            }
            // A base64 group needs 4 characters of room: a nearly full buffer goes out a little short.
            if (cap_now_ - n < 4) break;
            if (auto e = encode_some(out, n)) {
                // An async source has nothing staged: what this buffer holds goes out first.
                if (e == boost::asio::error::would_block) {
                    if (n > 0) break;
                    ec = e;
                    return {};
                }
                ec = error_ = e;
                return {};
            }
        }
        return {out, n};
    }

    bool done() const noexcept override { return done_; }
    const std::string& error_detail() const noexcept override { return detail_; }
    void use_thread_buffer(bool on) noexcept override { thread_buffer_ = on; }
    source_reader* waiting() noexcept override { return waiting_; }
    bool rewindable() const noexcept override {
        return std::all_of(sources_.begin(), sources_.end(), [](const auto& p) { return p.reader.rewindable(); });
    }
    bool readable_twice() const noexcept override {
        for (const auto& m : members_)
            if (m.source && livefour::detail::body_source_access::async(*m.source)) return false;
        return true;
    }

private:
    error_code fail(error_code ec, std::string why) {
        detail_ = std::move(why);
        return ec;
    }

    const std::string& source_name(std::size_t i) const {
        std::size_t s = 0;
        for (const auto& m : members_)
            if (m.source && s++ == i) return m.name;
        return members_.front().name;
    }

    /// Base64 of the current source into out[n..cap_now_): whole 4-character groups from the bytes
    /// read so far, the last group padded once the source has ended.
    error_code encode_some(char* out, std::size_t& n) {
        auto& r = sources_[segment_].reader;
        const std::size_t room = cap_now_ - n;  // at least 4 (see next())
        if (r.ended()) {
            if (carry_len_) {
                n += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out + n),
                                                              reinterpret_cast<const unsigned char*>(carry_),
                                                              static_cast<int>(carry_len_)));
                carry_len_ = 0;
            }
            ++segment_;
            in_text_ = true;
            return {};
        }
        if (!custom_read_ && r.is_custom()) custom_read_ = true;
        const std::size_t want = room / 4 * 3;  // input bytes that fill the room with whole groups
        char* in = thread_scratch(std::max<std::size_t>(cap_ / 4 * 3 + 3, 64));
        std::memcpy(in, carry_, carry_len_);
        std::size_t got = 0;
        std::string why;
        // Read one byte more than fits, when there is room for it: source_reader's end probe.
        if (auto ec = r.read(std::span<char>(in + carry_len_, want + 1 - carry_len_), got, why)) {
            if (ec == boost::asio::error::would_block) {
                waiting_ = &r;
                return ec;  // not a failure: the exchange fills the source
            }
            return fail(ec, source_name(segment_) + ": " + why);
        }
        std::size_t have = carry_len_ + got;
        std::size_t whole = std::min(have, want) / 3 * 3;
        n += encode_base64(out + n, in, whole);
        carry_len_ = have - whole;
        if (carry_len_ > sizeof carry_) return fail(client_error::source_failed, "internal: base64 carry overflow");
        std::memcpy(carry_, in + whole, carry_len_);
        return {};
    }

    std::vector<json_member> members_;
    std::vector<std::string> texts_;
    std::vector<prepared_source> sources_;
    std::size_t cap_;
    std::size_t cap_now_ = 0;
    std::unique_ptr<char[]> own_;
    std::size_t own_cap_ = 0;
    bool thread_buffer_ = false;
    std::optional<std::uint64_t> length_;
    bool armed_ = false;
    bool custom_read_ = false;
    std::size_t segment_ = 0;
    bool in_text_ = true;
    std::size_t off_ = 0;
    char carry_[5]{};
    std::size_t carry_len_ = 0;
    error_code error_;
    bool done_ = true;
    std::string detail_;
    source_reader* waiting_ = nullptr;
};

}  // namespace

std::shared_ptr<body_encoding> make_json_base64_encoding(std::vector<json_member> members, std::size_t buffer_size) {
    return std::make_shared<json_base64_encoding>(std::move(members), buffer_size);
}

}  // namespace livefour::detail
