// livefour — the few cryptographic and encoding primitives the protocol needs.
//
// Thin wrappers over OpenSSL 3 one-shot APIs (no deprecated HMAC_CTX/SHA*_Init). Base64 is
// implemented here rather than with EVP_EncodeBlock so that decoding can be strict: the server's
// photo and our own signatures are canonical, anything else is a sign of corruption.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace livefour::detail {

/// Raw 20-byte HMAC-SHA1 of `message` under `key`. Throws std::runtime_error if OpenSSL fails.
std::array<unsigned char, 20> hmac_sha1(std::string_view key, std::string_view message);

/// Standard base64 (RFC 4648 §4 alphabet, '+' and '/'), padded with '='.
std::string base64_encode(std::string_view bytes);

/// Strict standard base64: length a multiple of 4, padding only at the end, unused bits zero,
/// no whitespace. nullopt on any violation.
std::optional<std::string> base64_decode(std::string_view text);

/// SHA-256 digest. Throws std::runtime_error if OpenSSL fails.
std::array<unsigned char, 32> sha256(std::string_view bytes);

/// Lower-case hexadecimal.
std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace livefour::detail
