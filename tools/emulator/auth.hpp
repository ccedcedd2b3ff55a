// livefour-emulator — verification of the legacy `Authorization` signature (spec §2).
//
// The server side of livefour's signer: decode, split the plaintext, look the credentials up and
// recompute the HMAC. Every failure maps to the provider's top-level code (4, 5, 6, 9–12, 14) so
// that clients can be tested against each of them. Pure logic, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// One API key known to the emulator.
struct credential {
    std::string appid;
    std::string secret_id;
    std::string secret_key;  ///< never printed
};

/// What the emulator accepts: the known keys and the bucket the signature must name.
struct auth_config {
    std::vector<credential> credentials;
    std::string bucket;  ///< legacy bucket, empty by default (spec §2)
};

/// Outcome of a signature check: `code` 0 on success, else the API code to answer with.
struct signature_check {
    int code = 0;
    std::string appid;  ///< the `a=` field when it could be parsed (for body/appid comparison)
};

/// Longest validity a multi-use signature may claim (spec §2: "at most 3 months").
inline constexpr std::int64_t max_signature_validity_s = 90LL * 24 * 3600;

/// Checks `header` (the bare Authorization value) at UNIX time `now`. Codes:
/// 4 empty; 5 not base64, too short or unparsable plaintext; 10 appid unknown; 11 secret id
/// unknown; 12 secret id belongs to another appid; 6 bucket differs; 9 `e <= now` or
/// `e - t` over 90 days; 14 HMAC mismatch. Checked in that order.
signature_check verify_signature(std::string_view header, const auth_config& config, std::int64_t now);

}  // namespace livefour::emulator
