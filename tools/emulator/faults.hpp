// livefour-emulator — fault injection: what a test asks for, which request suffers it, how fast
// requests may come.
//
// Retry and timeout code is only proven by making the failures happen on demand and counting
// them, as google's storage-testbench and curl's test server do. This header is the pure part
// (parsing the control-plane JSON, the FIFO queue, the token bucket); session.hpp and fault_io.hpp
// carry the faults out on the socket, and service.hpp keeps the state and the counters.
// Everything here is bounded: a queue of at most fault_limits::max_pending entries, and every
// size and duration a fault may ask for has a ceiling.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// Every fault the emulator can inject (docs/emulator.md has the table).
enum class fault_kind : std::uint8_t {
    code,                    ///< reply with top-level code N (the request is read, not processed)
    http_status,             ///< reply with HTTP status S, an HTML page or a JSON envelope
    non_json,                ///< reply 200 with a body that is not JSON
    rate_limit,              ///< token bucket; over it: code 15 (a setting, not queued)
    delay,                   ///< wait, then answer normally
    stall_after_body_bytes,  ///< stop reading the body after B bytes for T ms
    close_after_body_bytes,  ///< close (FIN) after B body bytes, no reply
    close_after_body,        ///< read the whole request, close (FIN), no reply
    reset,                   ///< RST (SO_LINGER 0) before the body, after B bytes or after it
    truncated_reply,         ///< Content-Length promises more than is sent, then close
    trickle_reply,           ///< send the reply a few bytes at a time
    huge_body,               ///< pad the JSON reply to B bytes
    huge_header,             ///< add a B-byte response header
    keepalive_close,         ///< close idle keep-alive connections after T ms (a setting)
};

/// Names used on the wire (control plane, stats), indexed by fault_kind.
inline constexpr std::array<std::string_view, 14> fault_names{"code",
                                                              "http_status",
                                                              "non_json",
                                                              "rate_limit",
                                                              "delay",
                                                              "stall_after_body_bytes",
                                                              "close_after_body_bytes",
                                                              "close_after_body",
                                                              "reset",
                                                              "truncated_reply",
                                                              "trickle_reply",
                                                              "huge_body",
                                                              "huge_header",
                                                              "keepalive_close"};

/// The wire name of `k`.
constexpr std::string_view fault_name(fault_kind k) noexcept { return fault_names[static_cast<std::size_t>(k)]; }

/// The kind named `name`, if any.
inline std::optional<fault_kind> fault_kind_named(std::string_view name) noexcept {
    for (std::size_t i = 0; i < fault_names.size(); ++i)
        if (fault_names[i] == name) return static_cast<fault_kind>(i);
    return std::nullopt;
}

/// Where a `reset` fault cuts the connection.
enum class reset_point : std::uint8_t { before_body, after_body_bytes, after_body };

/// The API paths a fault may be limited to (faults never touch /_emulator/*). "/" is API 3.0
/// (every action: the action travels in X-TC-Action).
inline constexpr std::array<std::string_view, 4> api_paths{"/face/livegetfour", "/face/livedetectfour",
                                                           "/face/idcardlivedetectfour", "/"};
/// The path of API 3.0 requests.
inline constexpr std::string_view api3_path = "/";

/// Ceilings: the emulator may face the internet, and a fault must not become a way to make it
/// allocate or wait without bound.
namespace fault_limits {
inline constexpr std::uint64_t max_ms = 600000;  ///< delay, stall, keepalive_close
inline constexpr std::uint64_t max_trickle_interval_ms = 60000;
inline constexpr std::uint64_t max_trickle_bytes_per_write = 65536;
inline constexpr std::uint64_t max_huge_body = 1024ull * 1024 * 1024;  ///< streamed, not allocated
inline constexpr std::uint64_t max_huge_header = 1024 * 1024;          ///< allocated per reply
inline constexpr std::size_t max_text_body = 64 * 1024;                ///< http_status / non_json `body`
inline constexpr std::size_t max_pending = 1000;                       ///< queued entries
inline constexpr std::size_t max_per_request = 100;                    ///< faults in one POST
inline constexpr double max_per_second = 1e6;
inline constexpr std::uint64_t max_burst = 1000000;
}  // namespace fault_limits

/// One fault as a test asked for it. Only the members of its kind are meaningful.
struct fault {
    fault_kind kind = fault_kind::code;
    std::string path;                            ///< one of api_paths; empty = every API path
    std::uint64_t count = 1;                     ///< matching requests it applies to; 0 = until cleared
    int code = 0;                                ///< code; http_status when has_code
    bool has_code = false;                       ///< http_status answers a JSON envelope with `code`
    std::string error;                           ///< code, http_status: the API 3.0 error code (path "/")
    unsigned status = 0;                         ///< http_status
    std::optional<std::string> body;             ///< http_status, non_json: the exact reply body
    std::string content_type;                    ///< http_status, non_json; empty = the default for the body
    std::optional<std::uint64_t> ms;             ///< delay, keepalive_close; stall (absent = "forever")
    std::optional<std::uint64_t> bytes;          ///< *_after_body_bytes, reset, truncated (absent = half), huge_*
    reset_point when = reset_point::after_body;  ///< reset
    std::uint64_t interval_ms = 0;               ///< trickle_reply
    std::uint64_t bytes_per_write = 1;           ///< trickle_reply
    double per_second = 0;                       ///< rate_limit
    std::uint64_t burst = 0;                     ///< rate_limit: bucket capacity

    /// Body bytes after which the fault acts while the body is being read (stall, close, reset
    /// after B bytes); nullopt for faults that act at another point.
    [[nodiscard]] std::optional<std::uint64_t> body_threshold() const noexcept {
        switch (kind) {
        case fault_kind::stall_after_body_bytes:
        case fault_kind::close_after_body_bytes: return bytes.value_or(0);
        case fault_kind::reset:
            if (when == reset_point::after_body_bytes) return bytes.value_or(0);
            return std::nullopt;
        default: return std::nullopt;
        }
    }

    /// Whether the fault can act on a request to `path`. A `code` fault, and an `http_status` fault
    /// that answers an envelope, speak one protocol each: an integer `code` answers legacy
    /// requests, an `error` string API 3.0 requests; a request of the other protocol passes it by.
    [[nodiscard]] bool applies_to(std::string_view p) const noexcept {
        if (!path.empty() && path != p) return false;
        const bool api3 = p == api3_path;
        if (kind == fault_kind::code) return api3 ? !error.empty() : (has_code || error.empty());
        if (kind == fault_kind::http_status && has_code != !error.empty()) return api3 ? !error.empty() : has_code;
        return true;
    }

    /// Whether the fault supplies the whole reply (code, http_status, non_json, rate_limit): the
    /// request is then read and discarded, never processed (digits are not used up, no signature
    /// check), exactly like a gateway or a throttle in front of the real service.
    [[nodiscard]] bool replaces_reply() const noexcept {
        return kind == fault_kind::code || kind == fault_kind::http_status || kind == fault_kind::non_json ||
               kind == fault_kind::rate_limit;
    }
};

namespace fault_detail {

namespace json = boost::json;

inline std::optional<std::uint64_t> as_uint(const json::value& v) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
}

// Reads the integer member `key` in [lo, hi]; absent → nullopt without error.
inline bool read_uint(const json::object& o, std::string_view key, std::uint64_t lo, std::uint64_t hi,
                      std::optional<std::uint64_t>& out, std::string& error) {
    const auto* v = o.if_contains(key);
    if (!v) return true;
    const auto n = as_uint(*v);
    if (!n || *n < lo || *n > hi) {
        error = std::string(key) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
        return false;
    }
    out = *n;
    return true;
}

inline bool read_string(const json::object& o, std::string_view key, std::size_t max, std::optional<std::string>& out,
                        std::string& error) {
    const auto* v = o.if_contains(key);
    if (!v) return true;
    if (!v->is_string() || v->get_string().size() > max) {
        error = std::string(key) + " must be a string of at most " + std::to_string(max) + " bytes";
        return false;
    }
    out = std::string(v->get_string());
    return true;
}

// The optional `error` member (an API 3.0 code such as "RequestLimitExceeded"): letters, digits
// and dots, at most 128 of them.
inline bool read_error(const json::object& o, fault& f, std::string& error) {
    std::optional<std::string> e;
    if (!read_string(o, "error", 128, e, error)) return false;
    if (!e) return true;
    if (e->empty() ||
        e->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.") != std::string::npos) {
        error = "error must be an API 3.0 code: letters, digits and dots";
        return false;
    }
    f.error = *e;
    return true;
}

// The keys each kind accepts besides "fault", "count" and "path".
inline std::vector<std::string_view> keys_of(fault_kind k) {
    switch (k) {
    case fault_kind::code: return {"code", "error"};
    case fault_kind::http_status: return {"status", "code", "error", "body", "content_type"};
    case fault_kind::non_json: return {"body", "content_type"};
    case fault_kind::rate_limit: return {"per_second", "burst"};
    case fault_kind::delay: return {"ms"};
    case fault_kind::stall_after_body_bytes: return {"bytes", "ms"};
    case fault_kind::close_after_body_bytes: return {"bytes"};
    case fault_kind::close_after_body: return {};
    case fault_kind::reset: return {"when", "bytes"};
    case fault_kind::truncated_reply: return {"bytes"};
    case fault_kind::trickle_reply: return {"interval_ms", "bytes_per_write"};
    case fault_kind::huge_body: return {"bytes"};
    case fault_kind::huge_header: return {"bytes"};
    case fault_kind::keepalive_close: return {"ms"};
    }
    return {};
}

}  // namespace fault_detail

/// Parses one fault object of the control plane, e.g. `{"fault":"code","code":15,"count":2}`.
/// Strict: an unknown key, a missing or out-of-range parameter is an error (a typo in a test
/// fails loudly instead of silently injecting nothing).
inline std::optional<fault> parse_fault(const boost::json::object& o, std::string* error) {
    namespace json = boost::json;
    using namespace fault_detail;
    std::string why;
    auto fail = [&](std::string msg) -> std::optional<fault> {
        if (error) *error = std::move(msg);
        return std::nullopt;
    };
    const auto* name = o.if_contains("fault");
    if (!name || !name->is_string()) return fail("\"fault\" (a string) is required");
    const auto kind = fault_kind_named(name->get_string());
    if (!kind) return fail("unknown fault \"" + std::string(name->get_string()) + "\"");
    const std::string kname(fault_name(*kind));
    fault f;
    f.kind = *kind;
    const bool setting = *kind == fault_kind::keepalive_close;
    const auto allowed = keys_of(*kind);
    for (const auto& kv : o) {
        const std::string_view key = kv.key();
        if (key == "fault" || (!setting && (key == "count" || key == "path"))) continue;
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            return fail("fault " + kname + " takes no \"" + std::string(key) + "\"");
    }

    std::optional<std::uint64_t> count;
    if (*kind == fault_kind::rate_limit) f.count = 0;  // a rate limit stays until cleared
    if (!read_uint(o, "count", 0, UINT64_MAX, count, why)) return fail(why);
    if (count) f.count = *count;
    std::optional<std::string> path;
    if (!read_string(o, "path", 256, path, why)) return fail(why);
    if (path) {
        if (std::find(api_paths.begin(), api_paths.end(), *path) == api_paths.end())
            return fail("path must be one of /face/livegetfour, /face/livedetectfour, /face/idcardlivedetectfour, /");
        f.path = *path;
    }
    auto require = [&](std::string_view key, const std::optional<std::uint64_t>& v) {
        if (!v) why = "fault " + kname + " needs \"" + std::string(key) + "\"";
        return v.has_value();
    };

    switch (*kind) {
    case fault_kind::code: {
        const auto* c = o.if_contains("code");
        if (c && (!c->is_int64() || c->get_int64() < INT32_MIN || c->get_int64() > INT32_MAX))
            return fail("code must be an integer");
        if (c) {
            f.code = static_cast<int>(c->get_int64());
            f.has_code = true;
        }
        if (!read_error(o, f, why)) return fail(why);
        if (!c && f.error.empty())
            return fail("fault code needs an integer \"code\" (legacy) or a string \"error\" (API 3.0)");
        break;
    }
    case fault_kind::http_status: {
        std::optional<std::uint64_t> status;
        if (!read_uint(o, "status", 200, 599, status, why) || !require("status", status)) return fail(why);
        f.status = static_cast<unsigned>(*status);
        if (const auto* c = o.if_contains("code")) {
            if (!c->is_int64() || c->get_int64() < INT32_MIN || c->get_int64() > INT32_MAX)
                return fail("code must be an integer");
            f.code = static_cast<int>(c->get_int64());
            f.has_code = true;
        }
        if (!read_error(o, f, why)) return fail(why);
        [[fallthrough]];
    }
    case fault_kind::non_json: {
        std::optional<std::string> ct;
        if (!read_string(o, "body", fault_limits::max_text_body, f.body, why) ||
            !read_string(o, "content_type", 256, ct, why))
            return fail(why);
        if (ct) {
            if (ct->empty() || ct->find_first_of("\r\n") != std::string::npos) return fail("bad content_type");
            f.content_type = *ct;
        }
        if ((f.has_code || !f.error.empty()) && f.body)
            return fail("fault http_status takes \"code\"/\"error\" or \"body\", not both");
        break;
    }
    case fault_kind::rate_limit: {
        const auto* r = o.if_contains("per_second");
        if (!r || !r->is_number()) return fail("fault rate_limit needs a number \"per_second\"");
        f.per_second = r->to_number<double>();
        if (!(f.per_second > 0) || f.per_second > fault_limits::max_per_second)
            return fail("per_second must be in (0, 1000000]");
        std::optional<std::uint64_t> burst;
        if (!read_uint(o, "burst", 1, fault_limits::max_burst, burst, why)) return fail(why);
        f.burst = burst.value_or(std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(f.per_second))));
        break;
    }
    case fault_kind::delay:
        if (!read_uint(o, "ms", 0, fault_limits::max_ms, f.ms, why) || !require("ms", f.ms)) return fail(why);
        break;
    case fault_kind::keepalive_close:
        if (!read_uint(o, "ms", 1, fault_limits::max_ms, f.ms, why) || !require("ms", f.ms)) return fail(why);
        break;
    case fault_kind::stall_after_body_bytes:
        if (!read_uint(o, "bytes", 0, UINT64_MAX, f.bytes, why) ||
            !read_uint(o, "ms", 1, fault_limits::max_ms, f.ms, why))
            return fail(why);
        break;
    case fault_kind::close_after_body_bytes:
        if (!read_uint(o, "bytes", 0, UINT64_MAX, f.bytes, why) || !require("bytes", f.bytes)) return fail(why);
        break;
    case fault_kind::close_after_body: break;
    case fault_kind::reset: {
        if (!read_uint(o, "bytes", 0, UINT64_MAX, f.bytes, why)) return fail(why);
        std::optional<std::string> when;
        if (!read_string(o, "when", 32, when, why)) return fail(why);
        if (!when)
            f.when = f.bytes ? reset_point::after_body_bytes : reset_point::after_body;
        else if (*when == "before_body")
            f.when = reset_point::before_body;
        else if (*when == "after_body_bytes")
            f.when = reset_point::after_body_bytes;
        else if (*when == "after_body")
            f.when = reset_point::after_body;
        else
            return fail("when must be before_body, after_body_bytes or after_body");
        if ((f.when == reset_point::after_body_bytes) != f.bytes.has_value())
            return fail("fault reset takes \"bytes\" exactly when \"when\" is after_body_bytes");
        break;
    }
    case fault_kind::truncated_reply:
        if (!read_uint(o, "bytes", 0, fault_limits::max_huge_body, f.bytes, why)) return fail(why);
        break;
    case fault_kind::trickle_reply: {
        std::optional<std::uint64_t> interval, per_write;
        if (!read_uint(o, "interval_ms", 1, fault_limits::max_trickle_interval_ms, interval, why) ||
            !require("interval_ms", interval) ||
            !read_uint(o, "bytes_per_write", 1, fault_limits::max_trickle_bytes_per_write, per_write, why))
            return fail(why);
        f.interval_ms = *interval;
        f.bytes_per_write = per_write.value_or(1);
        break;
    }
    case fault_kind::huge_body:
        if (!read_uint(o, "bytes", 1, fault_limits::max_huge_body, f.bytes, why) || !require("bytes", f.bytes))
            return fail(why);
        break;
    case fault_kind::huge_header:
        if (!read_uint(o, "bytes", 1, fault_limits::max_huge_header, f.bytes, why) || !require("bytes", f.bytes))
            return fail(why);
        break;
    }
    return f;
}

/// Parses a control-plane body: one fault object, or an array of them (queued in array order,
/// all or nothing). nullopt with `error` set on any problem.
inline std::optional<std::vector<fault>> parse_faults(std::string_view text, std::string* error) {
    namespace json = boost::json;
    std::string why;
    auto fail = [&](std::string msg) -> std::optional<std::vector<fault>> {
        if (error) *error = std::move(msg);
        return std::nullopt;
    };
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    if (ec) return fail("body is not JSON");
    const bool many = v.is_array();
    const std::size_t n = many ? v.get_array().size() : 1;
    if (n == 0 || n > fault_limits::max_per_request)
        return fail("an array of 1.." + std::to_string(fault_limits::max_per_request) + " faults is expected");
    std::vector<fault> out;
    for (std::size_t i = 0; i < n; ++i) {
        const json::value& item = many ? v.get_array()[i] : v;
        const std::string where = many ? "fault #" + std::to_string(i) + ": " : "";
        if (!item.is_object()) return fail(where + "a fault must be a JSON object");
        auto f = parse_fault(item.get_object(), &why);
        if (!f) return fail(where + why);
        out.push_back(std::move(*f));
    }
    return out;
}

/// The fault as JSON, in the control plane's own vocabulary (GET /_emulator/faults).
inline boost::json::object fault_to_json(const fault& f) {
    boost::json::object o;
    o["fault"] = fault_name(f.kind);
    if (f.kind != fault_kind::keepalive_close) {
        o["count"] = f.count;
        o["path"] = f.path.empty() ? boost::json::value(nullptr) : boost::json::value(f.path);
    }
    if (f.has_code) o["code"] = f.code;
    if (!f.error.empty()) o["error"] = f.error;
    if (f.kind == fault_kind::http_status) o["status"] = f.status;
    if (f.body) o["body"] = *f.body;
    if (!f.content_type.empty()) o["content_type"] = f.content_type;
    if (f.ms) o["ms"] = *f.ms;
    if (f.bytes) o["bytes"] = *f.bytes;
    if (f.kind == fault_kind::reset) {
        constexpr std::array<std::string_view, 3> when{"before_body", "after_body_bytes", "after_body"};
        o["when"] = when[static_cast<std::size_t>(f.when)];
    }
    if (f.kind == fault_kind::trickle_reply) {
        o["interval_ms"] = f.interval_ms;
        o["bytes_per_write"] = f.bytes_per_write;
    }
    if (f.kind == fault_kind::rate_limit) {
        // A whole rate reads better as an integer than as boost.json's "5E0".
        if (std::floor(f.per_second) == f.per_second)
            o["per_second"] = static_cast<std::uint64_t>(f.per_second);
        else
            o["per_second"] = f.per_second;
        o["burst"] = f.burst;
    }
    return o;
}

/// Queued faults in FIFO order. A request takes at most one fault: the oldest entry whose path
/// matches it. An entry with count N is taken by the next N matching requests (count 0: by
/// every matching request until cleared), so an entry queued later waits until the ones before
/// it that match the same requests are used up.
class fault_queue {
public:
    /// A queued fault and how many more requests it applies to (0 = unlimited).
    struct entry {
        fault spec;
        std::uint64_t remaining = 1;
    };

    /// Appends `f`; false when the queue already holds fault_limits::max_pending entries.
    bool push(fault f) {
        if (entries_.size() >= fault_limits::max_pending) return false;
        const auto remaining = f.count;
        entries_.push_back({std::move(f), remaining});
        return true;
    }

    /// The fault for the next request to `path`, consuming one use of it.
    std::optional<fault> take(std::string_view path) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (!it->spec.applies_to(path)) continue;
            fault f = it->spec;
            if (it->remaining != 0 && --it->remaining == 0) entries_.erase(it);
            return f;
        }
        return std::nullopt;
    }

    /// Free room, for all-or-nothing batches.
    [[nodiscard]] std::size_t room() const noexcept { return fault_limits::max_pending - entries_.size(); }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] const std::deque<entry>& entries() const noexcept { return entries_; }
    /// Empties the queue and returns how many entries it held.
    std::size_t clear() noexcept {
        const auto n = entries_.size();
        entries_.clear();
        return n;
    }

private:
    std::deque<entry> entries_;
};

/// Classic token bucket: `capacity` tokens, refilled at `per_second`; it starts full. Each
/// request takes one token; a request that finds none is over the limit.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    token_bucket(double per_second, double capacity, clock::time_point now) noexcept
        : rate_(per_second), capacity_(capacity), tokens_(capacity), last_(now) {}

    /// Takes a token at time `now`; false when the bucket is empty (the request is refused).
    bool try_take(clock::time_point now) noexcept {
        if (now > last_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
            last_ = now;
        }
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

    [[nodiscard]] double tokens() const noexcept { return tokens_; }

private:
    double rate_;
    double capacity_;
    double tokens_;
    clock::time_point last_;
};

}  // namespace livefour::emulator
