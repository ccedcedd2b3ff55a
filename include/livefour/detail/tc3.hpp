// livefour — TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0 (api3.md §1).
//
// Pure functions: no clock, no I/O, no credentials store. The caller says what is sent (method,
// the headers to sign, the payload hash) and when (the Unix timestamp that also goes into
// X-TC-Timestamp); the result is the Authorization value. sign() also returns every
// intermediate value so that tests can compare each one with the official vectors, and so that
// the emulator and the peers can say *where* a signature went wrong.
//
// The key chain (SecretDate → SecretService → SecretSigning) depends only on the secret key, the
// UTC date and the service, so a client that signs many requests a second derives it once a day:
// signing_key_cache keeps the last one, and authorization() signs with it. sign() stays the
// reference that the fast path is tested against.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace livefour::detail::tc3 {

/// The algorithm name, first word of the Authorization value and of the string to sign.
inline constexpr std::string_view algorithm = "TC3-HMAC-SHA256";
/// The value of `X-TC-Content-SHA256` that opts out of hashing the body (api3.md §2). As the
/// official SDKs do (and unlike AWS SigV4), the canonical request then carries
/// hex(SHA-256("UNSIGNED-PAYLOAD")), not the literal.
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
/// The last element of the credential scope.
inline constexpr std::string_view terminator = "tc3_request";

/// One header as it is sent. sign() canonicalises it: name and value lower-cased, leading and
/// trailing spaces and tabs trimmed (api3.md §1.1).
struct header {
    std::string_view name;
    std::string_view value;
};

/// Everything a signature covers.
struct sign_input {
    std::string_view method = "POST";
    std::string_view canonical_uri = "/";  ///< always "/" for API 3.0
    std::string_view canonical_query;      ///< "" for POST
    /// The headers to sign, in any order; at least content-type and host. A name may appear once.
    std::span<const header> headers;
    /// Lower-case hex SHA-256 of the exact body bytes, or `unsigned_payload`.
    std::string_view payload_hash;
    std::string_view secret_id;
    std::string_view secret_key;  ///< never stored, never printed
    std::string_view service;     ///< the first label of the product's host, e.g. "faceid"
    std::int64_t timestamp = 0;   ///< Unix seconds, the X-TC-Timestamp value
};

/// The signature and every value on the way to it (names as in the official documentation).
/// secret_date/secret_service/secret_signing are key material: for tests and diagnostics that
/// never leave the process.
struct signature_parts {
    std::string date;               ///< UTC YYYY-MM-DD of the timestamp
    std::string credential_scope;   ///< date/service/tc3_request
    std::string canonical_headers;  ///< "name:value\n" per header, sorted
    std::string signed_headers;     ///< names joined with ';'
    std::string hashed_payload;     ///< what the canonical request's last line carries
    std::string canonical_request;
    std::string hashed_canonical_request;
    std::string string_to_sign;
    std::string secret_date_hex;
    std::string secret_service_hex;
    std::string secret_signing_hex;
    std::string signature;      ///< lower-case hex
    std::string authorization;  ///< the Authorization header value
};

/// The reference implementation: the Authorization value and every intermediate. Throws
/// std::invalid_argument for headers that cannot be canonicalised unambiguously (an empty name,
/// a name given twice, CR or LF anywhere) and for a payload hash that is neither 64 lower-case
/// hex digits nor `unsigned_payload`.
signature_parts sign(const sign_input& in);

/// UTC calendar date of a Unix timestamp, "YYYY-MM-DD" (proleptic Gregorian; no time zone, no
/// C library: `TZ` cannot change it). Years outside 0..9999 are out of the format's range and
/// throw std::out_of_range.
std::string utc_date(std::int64_t timestamp);

/// The decimal text of a timestamp, as X-TC-Timestamp and the string to sign carry it.
std::string timestamp_text(std::int64_t timestamp);

/// SecretSigning: HMAC("TC3"+key, date) → HMAC(·, service) → HMAC(·, "tc3_request").
using derived_key = std::array<unsigned char, 32>;

/// Derives SecretSigning for one key, UTC date and service.
derived_key derive_key(std::string_view secret_key, std::string_view date, std::string_view service);

/// The canonical header block and the signed-header list of `headers` (as in sign()).
struct canonical_header_block {
    std::string canonical;  ///< "name:value\n" per header
    std::string signed_names;
};
canonical_header_block canonicalize_headers(std::span<const header> headers);

/// The Authorization value of `in` signed with `key`, which must be derive_key(in.secret_key,
/// utc_date(in.timestamp), in.service) (in.secret_key is not read). Same result as
/// sign(in).authorization, with one HMAC and one SHA-256 instead of four HMACs.
std::string authorization(const sign_input& in, const derived_key& key);

/// The last derived key and what it was derived from. Thread-safe (one uncontended mutex per
/// call, far cheaper than the three HMACs it saves). The secret key is kept as a digest, never
/// in clear, and the derived key is wiped when replaced or destroyed.
class signing_key_cache {
public:
    signing_key_cache() = default;
    ~signing_key_cache();
    signing_key_cache(const signing_key_cache&) = delete;
    signing_key_cache& operator=(const signing_key_cache&) = delete;

    /// derive_key(secret_key, date, service), from the cache when the three match the last call.
    derived_key get(std::string_view secret_key, std::string_view date, std::string_view service);
    /// Signs `in` (timestamp, key, service from `in`) through the cache.
    std::string authorization(const sign_input& in);
    /// How many derivations the cache has done (tests check that it caches).
    [[nodiscard]] std::uint64_t derivations() const;

private:
    mutable std::mutex mutex_;
    bool valid_ = false;
    std::array<unsigned char, 32> key_digest_{};  ///< SHA-256 of the secret key
    std::string date_;
    std::string service_;
    derived_key key_{};
    std::uint64_t derivations_ = 0;
};

}  // namespace livefour::detail::tc3
