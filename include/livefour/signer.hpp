// livefour — the `Authorization` signature of the legacy API (docs/protocol.md §2).
//
//   plaintext = a=<appid>&b=<bucket>&k=<secret_id>&e=<expiry>&t=<now>&r=<rand>&f=<fileid>
//   header    = base64( HMAC-SHA1(secret_key, plaintext) ++ plaintext )
//
// A signer owns the credentials and caches one multi-use signature, re-signing when less than
// `refresh_margin` of its validity remains, so that every attempt (including retries) leaves with
// a signature that is still valid when it reaches the server.
#pragma once

#include <livefour/error.hpp>
#include <livefour/secret.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>

namespace livefour {

/// How signatures are produced. Defaults suit production; clock and random are for tests.
struct signer_options {
    /// Lifetime of a multi-use signature (`e - t`): 1 s to 90 days ("3 months"), else the signer
    /// constructor throws client_error::invalid_signature_validity.
    std::chrono::seconds validity{300};
    /// Re-sign once no more than this remains. Clamped to [0, validity - 1 s].
    std::chrono::seconds refresh_margin{60};
    /// Current UNIX time in seconds; empty = the system clock.
    std::function<std::int64_t()> clock;
    /// Source of `r`; empty = OpenSSL RAND_bytes. Printed as an unsigned decimal (1–10 digits).
    std::function<std::uint32_t()> random;
};

/// Longest accepted signature validity: 90 days, the provider's "three months".
inline constexpr std::chrono::seconds max_signature_validity{90LL * 24 * 3600};

/// Produces `Authorization` header values. Thread-safe: one client's coroutines running on several
/// threads may share it.
class signer {
public:
    /// Throws boost::system::system_error: client_error::missing_credentials when appid, secret_id
    /// or secret_key is empty; client_error::invalid_field when appid, secret_id or bucket holds a
    /// character that would corrupt the plaintext ('&', '=', control characters);
    /// client_error::invalid_signature_validity for a validity outside 1 s .. 90 days.
    /// Exception texts never contain the key.
    explicit signer(credentials creds, signer_options opts = {});

    /// The constructor's checks, without throwing: missing_credentials, invalid_field ('&', '=' or a
    /// control character in appid, secret_id or bucket), invalid_signature_validity. `why`, when
    /// given, receives a static explanation (never the key).
    static error_code check(const credentials& creds, const signer_options& opts, const char** why = nullptr) noexcept;

    /// The string that is signed, in the documented field order (docs/protocol.md §2).
    static std::string plaintext(std::string_view appid, std::string_view bucket, std::string_view secret_id,
                                 std::int64_t expiry, std::int64_t now, std::uint32_t rand,
                                 std::string_view fileid = {});

    /// A multi-use signature for exactly these values (deterministic; no caching).
    std::string sign(std::int64_t now, std::int64_t expiry, std::uint32_t rand) const;

    /// A single-use signature bound to `fileid` (e=0). Storage APIs only; livefour never uses it
    /// by default. Throws boost::system::system_error(client_error::invalid_argument) for an empty
    /// fileid.
    std::string single_use(std::string_view fileid) const;

    /// The cached multi-use signature, re-signed first when no more than `refresh_margin` of its
    /// validity remains (or the clock went backwards past its `t`).
    std::string authorization();

    /// The AppID (also sent as the `appid` request field).
    const std::string& appid() const noexcept { return creds_.appid; }
    /// The SecretId.
    const std::string& secret_id() const noexcept { return creds_.secret_id; }
    /// The legacy bucket (may be empty).
    const std::string& bucket() const noexcept { return creds_.bucket; }
    /// The effective options (margin after clamping).
    std::chrono::seconds validity() const noexcept { return validity_; }
    /// The effective refresh margin (after clamping).
    std::chrono::seconds refresh_margin() const noexcept { return margin_; }
    /// `e` of the cached signature; 0 when none was produced yet. For tests.
    std::int64_t cached_expiry() const;

    /// Prints appid, secret_id, bucket and validity; never the key or a signature.
    friend std::ostream& operator<<(std::ostream& os, const signer& s);

private:
    std::int64_t now() const;
    std::uint32_t next_random() const;

    credentials creds_;
    std::chrono::seconds validity_;
    std::chrono::seconds margin_;
    std::function<std::int64_t()> clock_;
    std::function<std::uint32_t()> random_;

    mutable std::mutex mutex_;
    secret_string cached_;  // a bearer token while valid: treated like the key, never printed
    std::int64_t cached_now_ = 0;
    std::int64_t cached_expiry_ = 0;
};

/// Prints appid, secret_id, bucket and validity; never the key or a signature.
std::ostream& operator<<(std::ostream& os, const signer& s);

}  // namespace livefour
