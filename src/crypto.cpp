// livefour — hashing, HMAC, base64 and hex (see include/livefour/detail/crypto.hpp).
#include <livefour/detail/crypto.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>
#include <utility>

namespace livefour::detail {

namespace {

// Implicit fetches (EVP_sha256()) look the algorithm up in the provider store on every use;
// one explicit fetch, kept for the life of the process, makes each init cheap. Never freed:
// it may be used until exit (a reachable static, so leak checkers stay quiet).
const EVP_MD* sha256_md() {
    static EVP_MD* const md = [] {
        EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (m == nullptr) throw std::runtime_error("SHA-256 unavailable");
        return m;
    }();
    return md;
}

}  // namespace

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
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, sha256_md(), nullptr) != 1 || len != out.size())
        throw std::runtime_error("SHA-256 failed");
    return out;
}

std::array<unsigned char, 32> hmac_sha256(std::span<const unsigned char> key, std::string_view message) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    const unsigned char* ok =
        HMAC(sha256_md(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
    if (ok == nullptr || len != out.size()) throw std::runtime_error("HMAC-SHA256 failed");
    return out;
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view message) {
    return hmac_sha256(std::span(reinterpret_cast<const unsigned char*>(key.data()), key.size()), message);
}

sha256_context::sha256_context() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw std::runtime_error("SHA-256 init failed");
    }
}

sha256_context::~sha256_context() { EVP_MD_CTX_free(ctx_); }

sha256_context::sha256_context(sha256_context&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

sha256_context& sha256_context::operator=(sha256_context&& other) noexcept {
    if (this != &other) {
        EVP_MD_CTX_free(ctx_);
        ctx_ = std::exchange(other.ctx_, nullptr);
    }
    return *this;
}

void sha256_context::update(std::span<const unsigned char> bytes) {
    if (ctx_ == nullptr) throw std::logic_error("sha256_context used after move");
    if (!bytes.empty() && EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1)
        throw std::runtime_error("SHA-256 update failed");
}

void sha256_context::update(std::string_view bytes) {
    update(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::array<unsigned char, 32> sha256_context::finish() {
    if (ctx_ == nullptr) throw std::logic_error("sha256_context used after move");
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size())
        throw std::runtime_error("SHA-256 final failed");
    // Ready for the next message: the same context serves every request of a connection.
    if (EVP_DigestInit_ex2(ctx_, nullptr, nullptr) != 1) throw std::runtime_error("SHA-256 init failed");
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

}  // namespace livefour::detail
