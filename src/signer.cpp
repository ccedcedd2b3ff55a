// livefour — secrets, crypto primitives and the legacy signature (docs/protocol.md §2).
#include <livefour/detail/crypto.hpp>
#include <livefour/error.hpp>
#include <livefour/secret.hpp>
#include <livefour/signer.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <ostream>
#include <random>
#include <stdexcept>

namespace livefour {

// ---------------------------------------------------------------------------------------------
// secret_string

void secret_string::wipe() noexcept {
    // Grow to the capacity first so that every owned byte is within [data(), data()+size()) and
    // may legally be overwritten, including the tail left over from an earlier, longer value.
    // resize() never reallocates here, so no unwiped copy is left behind.
    value_.resize(value_.capacity());
    OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

secret_string& secret_string::operator=(const secret_string& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();  // a short (in-place) string is copied by move, leaving bytes in `other`
    }
    return *this;
}

std::ostream& operator<<(std::ostream& os, const secret_string&) { return os << "[redacted]"; }

std::ostream& operator<<(std::ostream& os, const credentials& c) {
    return os << "{appid=" << c.appid << ", secret_id=" << c.secret_id << ", secret_key=" << c.secret_key
              << ", bucket=" << c.bucket << "}";
}

// ---------------------------------------------------------------------------------------------
// crypto primitives

namespace detail {

std::array<unsigned char, 20> hmac_sha1(std::string_view key, std::string_view message) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
    std::array<unsigned char, 20> out{};
    unsigned int len = 0;
    // HMAC() (one-shot) is not deprecated in OpenSSL 3; only the HMAC_CTX family is.
    const unsigned char* ok =
        HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
    if (ok == nullptr || len != out.size()) throw std::runtime_error("HMAC-SHA1 failed");
    return out;
}

std::array<unsigned char, 32> sha256(std::string_view bytes) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
        throw std::runtime_error("SHA-256 failed");
    return out;
}

namespace {
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += b64_alphabet[(v >> 18) & 63];
        out += b64_alphabet[(v >> 12) & 63];
        out += b64_alphabet[(v >> 6) & 63];
        out += b64_alphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const unsigned v = byte(i) << 16;
        out += b64_alphabet[(v >> 18) & 63];
        out += b64_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        out += b64_alphabet[(v >> 18) & 63];
        out += b64_alphabet[(v >> 12) & 63];
        out += b64_alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=') pad = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    const std::size_t data_chars = text.size() - pad;
    unsigned acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < data_chars; ++i) {
        const int v = b64_value(text[i]);
        if (v < 0) return std::nullopt;  // includes a '=' in the middle and any whitespace
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    // Canonical form only: the bits that padding leaves over must be zero.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// signer

namespace {

[[noreturn]] void fail(client_error e, const char* what) {
    throw boost::system::system_error(make_error_code(e), what);
}

// '&' and '=' would let a value forge another field of the plaintext; control characters have no
// business in an identifier and would also break the form fields that carry the appid.
bool safe_identifier(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c == '&' || c == '=' || c < 0x20 || c == 0x7F) return false;
    return true;
}

template <class Int>
void append_number(std::string& out, Int v) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

std::string header_value(std::string_view key, const std::string& plain) {
    const auto mac = detail::hmac_sha1(key, plain);
    std::string raw(reinterpret_cast<const char*>(mac.data()), mac.size());
    raw += plain;
    return detail::base64_encode(raw);
}

}  // namespace

error_code signer::check(const credentials& creds, const signer_options& opts, const char** why) noexcept {
    auto bad = [why](client_error e, const char* text) {
        if (why) *why = text;
        return error_code(e);
    };
    if (creds.appid.empty()) return bad(client_error::missing_credentials, "livefour::signer: appid is empty");
    if (creds.secret_id.empty()) return bad(client_error::missing_credentials, "livefour::signer: secret_id is empty");
    if (creds.secret_key.empty())
        return bad(client_error::missing_credentials, "livefour::signer: secret_key is empty");
    if (!safe_identifier(creds.appid) || !safe_identifier(creds.secret_id) || !safe_identifier(creds.bucket))
        return bad(client_error::invalid_field,
                   "livefour::signer: appid, secret_id or bucket contains '&', '=' or a control character");
    if (opts.validity < std::chrono::seconds{1} || opts.validity > max_signature_validity)
        return bad(client_error::invalid_signature_validity, "livefour::signer: validity must be 1 s to 90 days");
    return {};
}

signer::signer(credentials creds, signer_options opts)
    : creds_(std::move(creds)), validity_(opts.validity), margin_(opts.refresh_margin), clock_(std::move(opts.clock)),
      random_(std::move(opts.random)) {
    const char* why = nullptr;
    if (auto ec = check(creds_, opts, &why)) fail(static_cast<client_error>(ec.value()), why);
    margin_ = std::clamp(margin_, std::chrono::seconds{0}, validity_ - std::chrono::seconds{1});
}

std::string signer::plaintext(std::string_view appid, std::string_view bucket, std::string_view secret_id,
                              std::int64_t expiry, std::int64_t now, std::uint32_t rand, std::string_view fileid) {
    std::string p;
    p.reserve(48 + appid.size() + bucket.size() + secret_id.size() + fileid.size());
    p += "a=";
    p += appid;
    p += "&b=";
    p += bucket;
    p += "&k=";
    p += secret_id;
    p += "&e=";
    append_number(p, expiry);
    p += "&t=";
    append_number(p, now);
    p += "&r=";
    append_number(p, rand);
    p += "&f=";
    p += fileid;
    return p;
}

std::string signer::sign(std::int64_t now, std::int64_t expiry, std::uint32_t rand) const {
    return header_value(creds_.secret_key.reveal(),
                        plaintext(creds_.appid, creds_.bucket, creds_.secret_id, expiry, now, rand));
}

std::string signer::single_use(std::string_view fileid) const {
    if (fileid.empty()) fail(client_error::invalid_argument, "livefour::signer: single-use signature needs a fileid");
    std::lock_guard lock(mutex_);  // user-supplied clock/random need not be thread-safe
    return header_value(creds_.secret_key.reveal(),
                        plaintext(creds_.appid, creds_.bucket, creds_.secret_id, 0, now(), next_random(), fileid));
}

std::string signer::authorization() {
    std::lock_guard lock(mutex_);  // user-supplied clock/random need not be thread-safe
    const std::int64_t t = now();
    const bool fresh = !cached_.empty() && t >= cached_now_ && cached_expiry_ - t > margin_.count();
    if (!fresh) {
        const std::int64_t e = t + validity_.count();
        cached_ = secret_string(sign(t, e, next_random()));
        cached_now_ = t;
        cached_expiry_ = e;
    }
    return std::string(cached_.reveal());
}

std::int64_t signer::cached_expiry() const {
    std::lock_guard lock(mutex_);
    return cached_expiry_;
}

std::int64_t signer::now() const {
    if (clock_) return clock_();
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint32_t signer::next_random() const {
    if (random_) return random_();
    std::uint32_t r = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) == 1) return r;
    // `r` is a nonce, not a secret: when OpenSSL's generator is unavailable a non-cryptographic
    // source still prevents the replay check (code 13) from tripping.
    static thread_local std::mt19937 fallback{std::random_device{}()};
    return static_cast<std::uint32_t>(fallback());
}

std::ostream& operator<<(std::ostream& os, const signer& s) {
    return os << "signer{appid=" << s.appid() << ", secret_id=" << s.secret_id() << ", bucket=" << s.bucket()
              << ", secret_key=[redacted], validity=" << s.validity().count() << "s}";
}

}  // namespace livefour
