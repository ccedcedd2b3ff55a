// livefour — the few cryptographic and encoding primitives the protocols need.
//
// Thin wrappers over OpenSSL 3 (no deprecated HMAC_CTX/SHA*_Init), compiled in src/crypto.cpp so
// that no OpenSSL header reaches the includer. Base64 is implemented here rather than with
// EVP_EncodeBlock so that decoding can be strict: the server's photo and our own signatures are
// canonical, anything else is a sign of corruption.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// OpenSSL's own spelling of the digest context, declared here so that sha256_context can hold a
// pointer to it without including <openssl/evp.h> (typedef struct evp_md_ctx_st EVP_MD_CTX).
struct evp_md_ctx_st;

namespace livefour::detail {

/// Raw 20-byte HMAC-SHA1 of `message` under `key`. Throws std::runtime_error if OpenSSL fails.
std::array<unsigned char, 20> hmac_sha1(std::string_view key, std::string_view message);

/// Raw 32-byte HMAC-SHA256 of `message` under `key`. Throws std::runtime_error if OpenSSL fails.
std::array<unsigned char, 32> hmac_sha256(std::span<const unsigned char> key, std::string_view message);
/// The same with a text key (TC3 starts its key chain from "TC3" + SecretKey).
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view message);

/// Standard base64 (RFC 4648 §4 alphabet, '+' and '/'), padded with '='.
std::string base64_encode(std::string_view bytes);

/// Strict standard base64: length a multiple of 4, padding only at the end, unused bits zero,
/// no whitespace. nullopt on any violation.
std::optional<std::string> base64_decode(std::string_view text);

/// SHA-256 digest. Throws std::runtime_error if OpenSSL fails.
std::array<unsigned char, 32> sha256(std::string_view bytes);

/// Incremental SHA-256, for digests of bodies that are never held whole (TC3's payload hash is
/// computed in a pre-pass over exactly the bytes that will be sent; the emulator hashes decoded
/// uploads as they stream in). One EVP_MD_CTX per object: non-copyable, movable. A moved-from
/// context may only be destroyed or assigned to. Throws std::runtime_error if OpenSSL fails.
class sha256_context {
public:
    /// A context ready for update().
    sha256_context();
    ~sha256_context();
    sha256_context(sha256_context&& other) noexcept;
    sha256_context& operator=(sha256_context&& other) noexcept;
    sha256_context(const sha256_context&) = delete;
    sha256_context& operator=(const sha256_context&) = delete;

    /// Hashes the next bytes.
    void update(std::span<const unsigned char> bytes);
    /// Hashes the next bytes.
    void update(std::string_view bytes);
    /// The digest of everything given since construction or the last finish(); the context then
    /// starts over, ready for the next message.
    std::array<unsigned char, 32> finish();

private:
    evp_md_ctx_st* ctx_;
};

/// Lower-case hexadecimal.
std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace livefour::detail
