// livefour — retry policy: which failed attempts may be resent (docs/protocol.md §6), how long to wait before
// the next one, and a per-client retry budget that keeps a struggling backend from a retry storm.
//
// These are pure pieces: no I/O, no clock, no hidden randomness except in the one overload that
// says so. The client's retry loop asks should_retry(), waits backoff_delay(), and consults a
// retry_budget shared by all of its operations.
#pragma once

#include <livefour/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <vector>

namespace livefour {

/// Why an attempt failed, as the retry loop sees it. Spec §6's safety rules need every field:
/// the same error is safe to retry before the request was fully sent and unsafe after it.
struct attempt_info {
    /// The attempt's error: an api_error for a non-zero `code`, a client_error, or an Asio/Beast/SSL error.
    error_code ec;
    /// 1-based number of the attempt that failed.
    int attempt = 1;
    /// Resending cannot cause a second side effect: true for livegetfour (free), false for
    /// livedetectfour / idcardlivedetectfour (billed).
    bool idempotent = false;
    /// Every byte of the request (headers and body) was handed to the transport.
    bool request_fully_sent = false;
    /// At least one byte of the response arrived.
    bool response_started = false;
    /// The attempt ran on a kept-alive connection reused from the pool. The default rules ignore
    /// it (a reply-less failure after a full send stays ambiguous, docs/protocol.md §6); a predicate may use it.
    bool connection_reused = false;
    /// HTTP status of the reply, 0 when none was parsed. Informational, for predicates.
    int http_status = 0;
};

/// What the retry loop reports to retry_policy::on_retry before it waits.
struct retry_event {
    int attempt;                      ///< the attempt that failed (1-based); the next one is attempt + 1
    error_code error;                 ///< why it failed
    std::chrono::milliseconds delay;  ///< how long the loop waits before the next attempt
};

/// The legacy API codes that mean "refused before processing" (docs/protocol.md §6): 15 rate limited (retried
/// with retry_policy::throttle_backoff), 107 and 108 authentication service unavailable. The
/// default of retry_policy::retryable_codes, and what is_retryable() answers for API codes.
inline constexpr int default_retryable_api_codes[] = {15, 107, 108};

/// How an operation retries. A plain value; the defaults follow docs/protocol.md §6. validate() checks it.
struct retry_policy {
    /// Total attempts, the first included; 1 disables retries. Must be >= 1.
    int max_attempts = 3;
    /// Upper bound of the first backoff (full jitter: the wait is uniform in [0, bound]).
    std::chrono::milliseconds initial_backoff{100};
    /// No backoff bound grows beyond this.
    std::chrono::milliseconds max_backoff{5000};
    /// Growth of the bound per attempt. Must be >= 1 (and finite).
    double multiplier = 2.0;
    /// Base bound after API code 15 (rate limited) instead of initial_backoff: a throttled backend
    /// needs more air than one that dropped a connection.
    std::chrono::milliseconds throttle_backoff{1000};
    /// API codes that mean "refused before processing" (docs/protocol.md §6). Assigning replaces the default.
    std::vector<int> retryable_codes{std::begin(default_retryable_api_codes), std::end(default_retryable_api_codes)};
    /// Opt-in: also retry a non-idempotent request that was sent in full and got no reply at all.
    /// The server may have processed (and billed) it; only the caller can accept that risk.
    bool retry_after_full_send = false;
    /// User override, asked first for every failed attempt that still has attempts left: a value
    /// decides, std::nullopt falls back to the default rules. It never lifts max_attempts.
    std::function<std::optional<bool>(const attempt_info&)> predicate;
    /// Called before each retry's wait (not for the final failure). Runs on the operation's
    /// executor; must not block.
    std::function<void(const retry_event&)> on_retry;

    /// A policy that never retries (max_attempts = 1).
    static retry_policy no_retry();
};

/// Whether the attempt described by `info` should be followed by another one:
/// false when `info.ec` is clear or `info.attempt >= max_attempts`; otherwise the predicate's
/// answer if it gives one, else the default rules (docs/protocol.md §6):
///  * API codes: retry exactly those in `retryable_codes` (verdicts and all others: never);
///  * connect-phase failures — resolution (transient), refused/unreachable, connect/handshake
///    errors and their timeouts, TLS errors other than certificate verification: always;
///  * transport failures of the exchange (reset, EOF, broken pipe, connection_closed, stall,
///    truncated TLS): before the request was fully sent, always; after a full send with no
///    response byte, only if `idempotent` or `retry_after_full_send`; once the response has
///    started, only if `idempotent`;
///  * never: cancellation (operation_aborted), deadline_exceeded, pool_closed, pool_wait_timeout,
///    retries_exhausted, TLS certificate verification failures, bad input (invalid_argument,
///    invalid_field, file_*, source_failed, upload_too_large, ...), response_too_large,
///    header_too_large, non-JSON or malformed replies (whatever their HTTP status), decide()
///    rejections, and errors livefour does not classify.
bool should_retry(const retry_policy& policy, const attempt_info& info);

/// The same decision without the max_attempts bound: is this failure of a kind that a further
/// attempt may cure and may safely resend (predicate first, then the default rules)? A retry loop
/// uses it to tell "give up: not retryable" (return the error as is) from "give up: attempts used
/// up" (client_error::retries_exhausted). False when `info.ec` is clear.
bool is_retryable_failure(const retry_policy& policy, const attempt_info& info);

/// The wait before the attempt after `attempt` (1-based number of the attempt that failed), with
/// full jitter: `unit_random * min(max_backoff, base * multiplier^(attempt-1))`, rounded to the
/// nearest millisecond, where base is throttle_backoff when `ec` is API code 15 and
/// initial_backoff otherwise. `unit_random` is a uniform sample of [0, 1) (values outside [0, 1]
/// are clamped), injected so tests are deterministic.
std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, const error_code& ec,
                                        double unit_random);

/// Same, drawing `unit_random` from a per-thread generator seeded from std::random_device.
std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, const error_code& ec);

/// Checks a policy: client_error::invalid_argument for max_attempts < 1, negative durations,
/// a multiplier below 1 or not finite, or 0 in retryable_codes (0 is success, not an error).
error_code validate(const retry_policy& policy);

/// Per-client retry budget, a token bucket in the manner of gRPC retry throttling: it starts full
/// at `max_tokens`; every failed attempt that the loop would retry costs one token; every
/// successful attempt refunds `token_ratio` (capped at max_tokens). Retries are allowed only while
/// tokens > max_tokens / 2, so when most calls fail — a throttled or down backend — thousands of
/// concurrent operations stop multiplying the load, and retries resume as successes return.
/// The first attempt of an operation is never subject to the budget. Thread-safe and lock-free.
class retry_budget {
public:
    /// Throws boost::system::system_error(client_error::invalid_argument) unless
    /// 0 < max_tokens <= 1e9 and 0 <= token_ratio <= max_tokens.
    explicit retry_budget(double max_tokens = 100, double token_ratio = 0.1);
    retry_budget(const retry_budget&) = delete;
    retry_budget& operator=(const retry_budget&) = delete;

    /// True while tokens > max_tokens / 2.
    bool allow_retry() const noexcept;
    /// A failed attempt (one the policy would retry): one token less, never below zero.
    void record_failure() noexcept;
    /// A successful attempt: token_ratio tokens more, never above max_tokens.
    void record_success() noexcept;
    /// Current token count (a snapshot; other threads may change it at once).
    double tokens() const noexcept;
    /// The bucket's capacity.
    double max_tokens() const noexcept { return static_cast<double>(max_milli_) / 1000.0; }
    /// Tokens refunded per success.
    double token_ratio() const noexcept { return static_cast<double>(ratio_milli_) / 1000.0; }

private:
    // Milli-tokens in an integer atomic: exact arithmetic without a lock, and a fractional
    // token_ratio (0.1) still adds up exactly.
    std::int64_t max_milli_;
    std::int64_t ratio_milli_;
    std::atomic<std::int64_t> milli_;
};

}  // namespace livefour
