// Retry decisions (docs/protocol.md §6), backoff with full jitter, and the per-client retry budget.
#include <livefour/retry.hpp>

#include "classify.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>

namespace livefour {
namespace {

using detail::failure_phase;
using detail::retry_class;

// The default rules for a failure that is not an answer from the server: its phase decides.
bool transport_rules(const attempt_info& info, failure_phase phase, bool retry_after_full_send) noexcept {
    switch (phase) {
    case failure_phase::never:
    case failure_phase::answered: return false;
    case failure_phase::before_request: return true;
    case failure_phase::during_exchange:
        // A reply that began and broke: the server has processed the request.
        if (info.response_started) return info.idempotent;
        // An incomplete request cannot have been acted upon (Content-Length or the final chunk
        // never arrived).
        if (!info.request_fully_sent) return true;
        // Sent in full, no reply: the server may or may not have processed it.
        return info.idempotent || retry_after_full_send;
    }
    return false;
}

bool default_rules(const retry_policy& policy, const attempt_info& info) {
    const auto& ec = info.ec;
    if (ec.category() == api_category()) {
        // The server answered with a code: only "refused before processing" codes are safe. The
        // policy's list replaces the default one (default_retryable_api_codes).
        return std::find(policy.retryable_codes.begin(), policy.retryable_codes.end(), ec.value()) !=
               policy.retryable_codes.end();
    }
    const auto c = detail::classify(ec);
    if (c.phase == failure_phase::answered) return c.retry != retry_class::never;
    return transport_rules(info, c.phase, policy.retry_after_full_send);
}

bool valid_duration(std::chrono::milliseconds d) noexcept { return d.count() >= 0; }

}  // namespace

retry_policy retry_policy::no_retry() {
    retry_policy p;
    p.max_attempts = 1;
    return p;
}

bool is_retryable_failure(const retry_policy& policy, const attempt_info& info) {
    if (!info.ec) return false;
    if (policy.predicate) {
        if (auto decision = policy.predicate(info)) return *decision;
    }
    return default_rules(policy, info);
}

// Declared in error.hpp. The retry loop's default rules for a neutral attempt: the first, with
// the default retryable codes, not idempotent, nothing sent yet, no response. A failure the loop
// retries in some phase is retryable; one it never retries is not.
bool is_retryable(const error_code& ec) noexcept {
    if (!ec) return false;
    const auto c = detail::classify(ec);
    if (c.phase == failure_phase::answered) return c.retry != retry_class::never;
    attempt_info neutral;
    neutral.ec = ec;
    return transport_rules(neutral, c.phase, false);
}

bool should_retry(const retry_policy& policy, const attempt_info& info) {
    return info.attempt < policy.max_attempts && is_retryable_failure(policy, info);
}

std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, const error_code& ec,
                                        double unit_random) {
    const bool throttled = detail::classify(ec).retry == retry_class::throttle;
    const auto base = throttled ? policy.throttle_backoff : policy.initial_backoff;
    const double cap_ms = static_cast<double>(std::max<std::int64_t>(policy.max_backoff.count(), 0));
    const double multiplier = std::isfinite(policy.multiplier) ? std::max(policy.multiplier, 1.0) : 1.0;
    const int exponent = std::max(attempt, 1) - 1;
    // In floating point the bound may reach infinity after many attempts; min() with the cap
    // brings it back before any conversion to an integer.
    const double grown = static_cast<double>(std::max<std::int64_t>(base.count(), 0)) * std::pow(multiplier, exponent);
    const double bound = std::min(cap_ms, grown);
    if (!(unit_random > 0.0)) unit_random = 0.0;  // also catches NaN
    if (unit_random > 1.0) unit_random = 1.0;
    return std::chrono::milliseconds{std::llround(bound * unit_random)};
}

std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, const error_code& ec) {
    // One generator per thread: no lock, and concurrent operations do not share a jitter sequence.
    thread_local std::mt19937_64 gen{std::random_device{}()};
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    return backoff_delay(policy, attempt, ec, dist(gen));
}

error_code validate(const retry_policy& policy) {
    if (policy.max_attempts < 1) return client_error::invalid_argument;
    if (!valid_duration(policy.initial_backoff) || !valid_duration(policy.max_backoff) ||
        !valid_duration(policy.throttle_backoff))
        return client_error::invalid_argument;
    if (!std::isfinite(policy.multiplier) || policy.multiplier < 1.0) return client_error::invalid_argument;
    if (std::find(policy.retryable_codes.begin(), policy.retryable_codes.end(), 0) != policy.retryable_codes.end())
        return client_error::invalid_argument;
    return {};
}

// ---- retry_budget ---------------------------------------------------------------------------

namespace {

std::int64_t to_milli(double tokens) { return std::llround(tokens * 1000.0); }

}  // namespace

retry_budget::retry_budget(double max_tokens, double token_ratio) : max_milli_(0), ratio_milli_(0), milli_(0) {
    // Negated comparisons so that NaN fails them.
    if (!(max_tokens > 0.0 && max_tokens <= 1e9) || !(token_ratio >= 0.0 && token_ratio <= max_tokens))
        throw boost::system::system_error(
            make_error_code(client_error::invalid_argument),
            "retry_budget: need 0 < max_tokens <= 1e9 and 0 <= token_ratio <= max_tokens");
    max_milli_ = std::max<std::int64_t>(to_milli(max_tokens), 1);
    ratio_milli_ = to_milli(token_ratio);
    milli_.store(max_milli_, std::memory_order_relaxed);
}

bool retry_budget::allow_retry() const noexcept {
    // tokens > max/2  <=>  2*tokens > max, kept in integers.
    return milli_.load(std::memory_order_relaxed) * 2 > max_milli_;
}

void retry_budget::record_failure() noexcept {
    auto cur = milli_.load(std::memory_order_relaxed);
    while (!milli_.compare_exchange_weak(cur, std::max<std::int64_t>(cur - 1000, 0), std::memory_order_relaxed)) {
    }
}

void retry_budget::record_success() noexcept {
    auto cur = milli_.load(std::memory_order_relaxed);
    while (!milli_.compare_exchange_weak(cur, std::min(cur + ratio_milli_, max_milli_), std::memory_order_relaxed)) {
    }
}

double retry_budget::tokens() const noexcept {
    return static_cast<double>(milli_.load(std::memory_order_relaxed)) / 1000.0;
}

}  // namespace livefour
