// livefour — TC3-HMAC-SHA256 (see include/livefour/detail/tc3.hpp; api3.md §1.1).
#include <livefour/detail/crypto.hpp>
#include <livefour/detail/tc3.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace livefour::detail::tc3 {
namespace {

constexpr char lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Leading and trailing spaces and tabs: what "去掉首尾空格" means for a header value. Other
// whitespace (CR, LF) is rejected before this runs.
std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower_ascii);
    return out;
}

bool is_lower_hex_digest(std::string_view s) noexcept {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string hex(std::span<const unsigned char> bytes) { return to_hex(bytes); }

// hex(SHA-256("UNSIGNED-PAYLOAD")), what the official SDKs put in the canonical request.
std::string payload_line(std::string_view payload_hash) {
    if (payload_hash == unsigned_payload) return hex(sha256(unsigned_payload));
    if (!is_lower_hex_digest(payload_hash))
        throw std::invalid_argument("TC3: the payload hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD");
    return std::string(payload_hash);
}

// Joins pieces with one allocation: the signature is built from a handful of them per request.
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::string out;
    out.reserve((std::string_view(parts).size() + ...));
    (out.append(std::string_view(parts)), ...);
    return out;
}

std::string canonical_request(const sign_input& in, const canonical_header_block& h, std::string_view payload) {
    // The header block ends with '\n', so an empty line follows it; no newline after the payload
    // hash (api3.md §1.1).
    return concat(in.method, "\n", in.canonical_uri, "\n", in.canonical_query, "\n", h.canonical, "\n", h.signed_names,
                  "\n", payload);
}

std::string credential_scope(std::string_view date, std::string_view service) {
    return concat(date, "/", service, "/", terminator);
}

std::string string_to_sign(std::string_view timestamp, std::string_view scope, std::string_view hashed_request) {
    return concat(algorithm, "\n", timestamp, "\n", scope, "\n", hashed_request);
}

std::string authorization_value(std::string_view secret_id, std::string_view scope, std::string_view signed_names,
                                std::string_view signature) {
    return concat(algorithm, " Credential=", secret_id, "/", scope, ", SignedHeaders=", signed_names,
                  ", Signature=", signature);
}

// Howard Hinnant's days_from_civil inverse (civil_from_days): exact for every day of the
// proleptic Gregorian calendar, no table, no time zone.
struct civil {
    std::int64_t year;
    unsigned month, day;
};

civil civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
    const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
    return {y + (m <= 2 ? 1 : 0), m, d};
}

}  // namespace

std::string timestamp_text(std::int64_t timestamp) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, timestamp);
    return std::string(buf, res.ptr);
}

std::string utc_date(std::int64_t timestamp) {
    // Floor division: a negative timestamp belongs to the day that started before it.
    std::int64_t days = timestamp / 86400;
    if (timestamp % 86400 < 0) --days;
    const civil c = civil_from_days(days);
    if (c.year < 0 || c.year > 9999) throw std::out_of_range("TC3: the timestamp's year is outside 0..9999");
    char out[11];
    const auto y = static_cast<unsigned>(c.year);
    out[0] = static_cast<char>('0' + y / 1000);
    out[1] = static_cast<char>('0' + y / 100 % 10);
    out[2] = static_cast<char>('0' + y / 10 % 10);
    out[3] = static_cast<char>('0' + y % 10);
    out[4] = '-';
    out[5] = static_cast<char>('0' + c.month / 10);
    out[6] = static_cast<char>('0' + c.month % 10);
    out[7] = '-';
    out[8] = static_cast<char>('0' + c.day / 10);
    out[9] = static_cast<char>('0' + c.day % 10);
    return std::string(out, 10);
}

canonical_header_block canonicalize_headers(std::span<const header> headers) {
    std::vector<std::pair<std::string, std::string>> lines;
    lines.reserve(headers.size());
    for (const auto& h : headers) {
        // A CR or LF would let one header forge another line of the canonical request.
        if (h.name.find_first_of("\r\n") != std::string_view::npos ||
            h.value.find_first_of("\r\n") != std::string_view::npos)
            throw std::invalid_argument("TC3: a header to sign contains CR or LF");
        auto name = lowered(trim(h.name));
        if (name.empty()) throw std::invalid_argument("TC3: a header to sign has an empty name");
        lines.emplace_back(std::move(name), lowered(trim(h.value)));
    }
    std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    canonical_header_block out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        // The protocol has no rule for merging repeated headers: refuse rather than guess.
        if (i > 0 && lines[i].first == lines[i - 1].first)
            throw std::invalid_argument("TC3: header " + lines[i].first + " given twice");
        out.canonical += lines[i].first;
        out.canonical += ':';
        out.canonical += lines[i].second;
        out.canonical += '\n';
        if (i > 0) out.signed_names += ';';
        out.signed_names += lines[i].first;
    }
    return out;
}

derived_key derive_key(std::string_view secret_key, std::string_view date, std::string_view service) {
    std::string k;
    k.reserve(3 + secret_key.size());
    k += "TC3";
    k += secret_key;
    auto secret_date = hmac_sha256(k, date);
    OPENSSL_cleanse(k.data(), k.size());
    auto secret_service = hmac_sha256(secret_date, service);
    auto secret_signing = hmac_sha256(secret_service, terminator);
    OPENSSL_cleanse(secret_date.data(), secret_date.size());
    OPENSSL_cleanse(secret_service.data(), secret_service.size());
    return secret_signing;
}

signature_parts sign(const sign_input& in) {
    signature_parts p;
    const auto headers = canonicalize_headers(in.headers);
    p.canonical_headers = headers.canonical;
    p.signed_headers = headers.signed_names;
    p.hashed_payload = payload_line(in.payload_hash);
    p.canonical_request = canonical_request(in, headers, p.hashed_payload);
    p.hashed_canonical_request = hex(sha256(p.canonical_request));
    p.date = utc_date(in.timestamp);
    p.credential_scope = credential_scope(p.date, in.service);
    p.string_to_sign = string_to_sign(timestamp_text(in.timestamp), p.credential_scope, p.hashed_canonical_request);

    // Written out step by step (not through derive_key) so that each link of the chain can be
    // compared with the published values.
    const auto secret_date = hmac_sha256("TC3" + std::string(in.secret_key), p.date);
    const auto secret_service = hmac_sha256(secret_date, in.service);
    const auto secret_signing = hmac_sha256(secret_service, terminator);
    p.secret_date_hex = hex(secret_date);
    p.secret_service_hex = hex(secret_service);
    p.secret_signing_hex = hex(secret_signing);
    p.signature = hex(hmac_sha256(secret_signing, p.string_to_sign));
    p.authorization = authorization_value(in.secret_id, p.credential_scope, p.signed_headers, p.signature);
    return p;
}

std::string authorization(const sign_input& in, const derived_key& key) {
    const auto headers = canonicalize_headers(in.headers);
    const auto request = canonical_request(in, headers, payload_line(in.payload_hash));
    const auto scope = credential_scope(utc_date(in.timestamp), in.service);
    const auto to_sign = string_to_sign(timestamp_text(in.timestamp), scope, hex(sha256(request)));
    return authorization_value(in.secret_id, scope, headers.signed_names, hex(hmac_sha256(key, to_sign)));
}

signing_key_cache::~signing_key_cache() { OPENSSL_cleanse(key_.data(), key_.size()); }

derived_key signing_key_cache::get(std::string_view secret_key, std::string_view date, std::string_view service) {
    const auto digest = sha256(secret_key);
    std::lock_guard lock(mutex_);
    if (!valid_ || date_ != date || service_ != service ||
        CRYPTO_memcmp(digest.data(), key_digest_.data(), digest.size()) != 0) {
        key_ = derive_key(secret_key, date, service);
        key_digest_ = digest;
        date_ = date;
        service_ = service;
        valid_ = true;
        ++derivations_;
    }
    return key_;
}

std::string signing_key_cache::authorization(const sign_input& in) {
    auto key = get(in.secret_key, utc_date(in.timestamp), in.service);
    auto out = tc3::authorization(in, key);
    OPENSSL_cleanse(key.data(), key.size());
    return out;
}

std::uint64_t signing_key_cache::derivations() const {
    std::lock_guard lock(mutex_);
    return derivations_;
}

}  // namespace livefour::detail::tc3
