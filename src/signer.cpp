// livefour — secrets and the legacy signature (docs/protocol.md §2). The crypto primitives are in crypto.cpp.
#include <livefour/detail/crypto.hpp>
#include <livefour/error.hpp>
#include <livefour/secret.hpp>
#include <livefour/signer.hpp>

#include <openssl/crypto.h>
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
