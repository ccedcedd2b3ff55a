// livefour-emulator — signature verification (see auth.hpp).
#include "auth.hpp"

#include <livefour/detail/crypto.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace livefour::emulator {
namespace {

constexpr std::size_t hmac_bytes = 20;

std::optional<std::int64_t> parse_uint(std::string_view s, std::size_t max_digits) {
    if (s.empty() || s.size() > max_digits) return std::nullopt;
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

// The plaintext `a=..&b=..&k=..&e=..&t=..&r=..&f=`. Field order differs between the official
// SDKs (Java puts t before e, Node omits b), so fields are looked up by key; the HMAC covers the
// plaintext exactly as sent, so accepting any order costs nothing.
struct plaintext_fields {
    std::string_view a, b, k, e, t, r, f;
};

std::optional<plaintext_fields> split_plaintext(std::string_view s) {
    plaintext_fields out;
    bool seen[7] = {};
    while (!s.empty()) {
        const auto amp = s.find('&');
        const auto item = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        const auto key = item.substr(0, eq);
        const auto value = item.substr(eq + 1);
        static constexpr std::string_view keys[] = {"a", "b", "k", "e", "t", "r", "f"};
        std::string_view* slots[] = {&out.a, &out.b, &out.k, &out.e, &out.t, &out.r, &out.f};
        const auto it = std::find(std::begin(keys), std::end(keys), key);
        if (it == std::end(keys)) continue;  // extra fields (an old Node sample adds `u`) are signed, so harmless
        const auto i = static_cast<std::size_t>(it - std::begin(keys));
        if (seen[i]) return std::nullopt;
        seen[i] = true;
        *slots[i] = value;
    }
    // a, k, e, t, r are mandatory; b and f may be absent (meaning empty).
    if (!seen[0] || !seen[2] || !seen[3] || !seen[4] || !seen[5]) return std::nullopt;
    if (out.a.empty() || out.k.empty()) return std::nullopt;
    return out;
}

}  // namespace

signature_check verify_signature(std::string_view header, const auth_config& config, std::int64_t now) {
    signature_check out;
    if (header.empty()) return {4, {}};

    const auto raw = livefour::detail::base64_decode(header);
    if (!raw || raw->size() <= hmac_bytes) return {5, {}};
    const std::string_view mac = std::string_view(*raw).substr(0, hmac_bytes);
    const std::string_view plain = std::string_view(*raw).substr(hmac_bytes);

    const auto fields = split_plaintext(plain);
    if (!fields) return {5, {}};
    const auto e = parse_uint(fields->e, 12);
    const auto t = parse_uint(fields->t, 12);
    const auto r = parse_uint(fields->r, 10);
    if (!e || !t || !r) return {5, {}};
    out.appid = std::string(fields->a);

    const auto& creds = config.credentials;
    const bool appid_known =
        std::any_of(creds.begin(), creds.end(), [&](const credential& c) { return c.appid == fields->a; });
    if (!appid_known) return {10, out.appid};
    const auto by_id =
        std::find_if(creds.begin(), creds.end(), [&](const credential& c) { return c.secret_id == fields->k; });
    if (by_id == creds.end()) return {11, out.appid};
    const auto pair = std::find_if(creds.begin(), creds.end(), [&](const credential& c) {
        return c.secret_id == fields->k && c.appid == fields->a;
    });
    if (pair == creds.end()) return {12, out.appid};
    if (fields->b != config.bucket) return {6, out.appid};
    if (*e <= now || *e - *t > max_signature_validity_s) return {9, out.appid};

    const auto expected = livefour::detail::hmac_sha1(pair->secret_key, plain);
    if (CRYPTO_memcmp(expected.data(), mac.data(), hmac_bytes) != 0) return {14, out.appid};
    return out;
}

}  // namespace livefour::emulator
