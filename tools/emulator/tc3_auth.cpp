// livefour-emulator — TC3-HMAC-SHA256 verification (see tc3_auth.hpp).
#include "tc3_auth.hpp"

#include <livefour/detail/crypto.hpp>
#include <livefour/detail/tc3.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace livefour::emulator {
namespace {

namespace t3 = livefour::detail::tc3;

void reject(tc3_check& c, std::string code, std::string message) {
    c.code = std::move(code);
    c.message = std::move(message);
}

// Takes `prefix` off the front of `s`; false when `s` does not start with it.
bool eat(std::string_view& s, std::string_view prefix) {
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    return true;
}

// Up to (not including) `delim`, which must occur; the rest follows it.
std::optional<std::string_view> until(std::string_view& s, std::string_view delim) {
    const auto at = s.find(delim);
    if (at == std::string_view::npos || at == 0) return std::nullopt;
    const auto out = s.substr(0, at);
    s.remove_prefix(at + delim.size());
    return out;
}

bool lower_hex(std::string_view s) {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX
bool parse_authorization(std::string_view s, tc3_check& c) {
    if (!eat(s, "TC3-HMAC-SHA256 Credential=")) return false;
    const auto id = until(s, "/");
    const auto date = until(s, "/");
    const auto svc = until(s, "/");
    if (!id || !date || !svc || !eat(s, "tc3_request, SignedHeaders=")) return false;
    const auto names = until(s, ", Signature=");
    if (!names || !lower_hex(s)) return false;
    c.secret_id = *id;
    c.date = *date;
    c.signed_headers = *names;
    c.signature = s;
    c.service = *svc;
    return true;
}

// Recomputes the signature over the signed headers as received and compares in constant time.
void verify(tc3_check& c, const tc3_head& head, const tc3_settings& settings, std::string_view payload_hash) {
    std::vector<std::string> names;
    for (std::string_view rest = c.signed_headers; !rest.empty();) {
        const auto semi = rest.find(';');
        names.emplace_back(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    }
    std::vector<t3::header> headers;
    for (const auto& n : names) headers.push_back({n, *head.find(n)});
    std::int64_t ts = 0;
    std::from_chars(c.timestamp.data(), c.timestamp.data() + c.timestamp.size(), ts);
    t3::sign_input in;
    in.method = head.method;
    in.canonical_query = head.query;
    in.headers = headers;
    in.payload_hash = payload_hash;
    in.secret_id = c.secret_id;
    in.secret_key = c.secret_key;
    in.service = settings.service;
    in.timestamp = ts;
    std::string expected;
    try {
        expected = t3::sign(in).signature;
    } catch (const std::exception& e) {  // a header value with CR/LF cannot arrive, but be safe
        return reject(c, "AuthFailure.SignatureFailure", std::string("cannot canonicalise: ") + e.what());
    }
    if (CRYPTO_memcmp(expected.data(), c.signature.data(), expected.size()) != 0)
        return reject(c, "AuthFailure.SignatureFailure", "signature mismatch");
    c.verified = true;
}

}  // namespace

const std::string* tc3_head::find(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return &v;
    return nullptr;
}

std::size_t tc3_head::count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const auto& kv) { return kv.first == name; }));
}

tc3_check check_head(const tc3_head& head, const auth_config& keys, const tc3_settings& settings, std::int64_t now) {
    tc3_check c;
    const auto* authorization = head.find("authorization");
    if (!authorization || head.count("authorization") != 1 || !parse_authorization(*authorization, c)) {
        reject(c, "AuthFailure.InvalidAuthorization", "Authorization is not one TC3-HMAC-SHA256 value");
        return c;
    }
    const auto key = std::find_if(keys.credentials.begin(), keys.credentials.end(),
                                  [&](const credential& k) { return k.secret_id == c.secret_id; });
    if (key == keys.credentials.end()) {
        reject(c, "AuthFailure.SecretIdNotFound", "unknown SecretId");
        return c;
    }
    const auto* ts_text = head.find("x-tc-timestamp");
    std::int64_t ts = 0;
    if (!ts_text || ts_text->empty() || ts_text->size() > 12 ||
        std::from_chars(ts_text->data(), ts_text->data() + ts_text->size(), ts).ptr !=
            ts_text->data() + ts_text->size() ||
        ts < 0) {
        reject(c, "MissingParameter", "X-TC-Timestamp is missing or not a decimal number");
        return c;
    }
    c.timestamp = *ts_text;
    if (ts > now + settings.max_skew_s || ts < now - settings.max_skew_s) {
        reject(c, "AuthFailure.SignatureExpire",
               "X-TC-Timestamp is more than " + std::to_string(settings.max_skew_s) + " s from the server's clock");
        return c;
    }
    if (c.date != t3::utc_date(ts)) {
        reject(c, "AuthFailure.SignatureFailure", "the credential date is not the UTC date of X-TC-Timestamp");
        return c;
    }
    if (c.service != settings.service) {
        reject(c, "AuthFailure.SignatureFailure", "the credential scope does not name " + settings.service);
        return c;
    }
    std::vector<std::string_view> names;
    for (std::string_view rest = c.signed_headers; !rest.empty();) {
        const auto semi = rest.find(';');
        names.push_back(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    }
    const bool sorted_unique = std::adjacent_find(names.begin(), names.end(), std::greater_equal<>()) == names.end();
    const bool has_required = std::find(names.begin(), names.end(), "content-type") != names.end() &&
                              std::find(names.begin(), names.end(), "host") != names.end();
    if (!sorted_unique || !has_required) {
        reject(c, "AuthFailure.SignatureFailure", "SignedHeaders must be sorted, unique, with content-type and host");
        return c;
    }
    for (const auto n : names) {
        if (n.empty() || head.count(n) != 1) {
            reject(c, "AuthFailure.SignatureFailure", "signed header " + std::string(n) + " is missing or repeated");
            return c;
        }
    }
    const auto* token = head.find("x-tc-token");
    if (settings.token ? (!token || *token != *settings.token) : token != nullptr) {
        reject(c, "AuthFailure.TokenFailure",
               settings.token ? "X-TC-Token does not match the temporary credential"
                              : "X-TC-Token given with a long-term key");
        return c;
    }
    c.secret_key = key->secret_key;
    const auto* declared = head.find("x-tc-content-sha256");
    c.unsigned_payload = declared && *declared == t3::unsigned_payload;
    if (c.unsigned_payload) verify(c, head, settings, t3::unsigned_payload);
    return c;
}

void check_body(tc3_check& c, const tc3_head& head, const tc3_settings& settings, std::string_view body_sha256_hex) {
    if (c.failed() || c.unsigned_payload) return;
    if (const auto* declared = head.find("x-tc-content-sha256"); declared && *declared != body_sha256_hex)
        return reject(c, "AuthFailure.SignatureFailure", "X-TC-Content-SHA256 is not the body's SHA-256");
    verify(c, head, settings, body_sha256_hex);
}

}  // namespace livefour::emulator
