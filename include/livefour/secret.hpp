// livefour — key material that never leaves the process by accident.
//
// A secret_string is a std::string that wipes its buffer (OPENSSL_cleanse, which the optimiser may
// not elide) whenever the value dies or is replaced, and that prints as "[redacted]". reveal() is
// the single, greppable place where the bytes are read.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace livefour {

/// Holds key material. Copyable and movable; the moved-from object is wiped and empty.
class secret_string {
public:
    /// An empty secret.
    secret_string() = default;
    /// Copies `value` into a buffer owned (and later wiped) by this object.
    explicit secret_string(std::string_view value) : value_(value) {}
    /// Copies the secret (the copy is wiped independently).
    secret_string(const secret_string& other) : value_(other.value_) {}
    /// Takes the secret; `other` is wiped and left empty.
    secret_string(secret_string&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
    /// Wipes the old value, then copies.
    secret_string& operator=(const secret_string& other);
    /// Wipes the old value, then takes `other`'s, wiping `other`.
    secret_string& operator=(secret_string&& other) noexcept;
    /// Wipes the buffer.
    ~secret_string() { wipe(); }

    /// The key bytes. The only accessor: keep the result's lifetime short and never log it.
    std::string_view reveal() const noexcept { return value_; }
    /// True when no key is held.
    bool empty() const noexcept { return value_.empty(); }

    /// Prints "[redacted]", never the key.
    friend std::ostream& operator<<(std::ostream& os, const secret_string& s);

private:
    // Overwrites every byte the string owns (up to its capacity), then empties it.
    void wipe() noexcept;

    std::string value_;
};

/// The credentials of one Tencent Cloud account (docs/protocol.md §2).
struct credentials {
    std::string appid;         ///< the developer's AppID (`a=` in the signature, `appid` field)
    std::string secret_id;     ///< SecretId (`k=`); not secret by itself, printed
    secret_string secret_key;  ///< SecretKey (HMAC key); never printed
    std::string bucket;        ///< legacy bucket (`b=`), empty by default
};

/// Prints appid, secret_id and bucket; the key is shown as "[redacted]".
std::ostream& operator<<(std::ostream& os, const credentials& c);

}  // namespace livefour
