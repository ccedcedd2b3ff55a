// Retry decisions (spec §6), backoff with full jitter, and the per-client retry budget.
#include <livefour/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>

namespace livefour {
namespace {

namespace ae = boost::asio::error;
namespace http = boost::beast::http;

/// How a failure relates to the request's progress.
enum class failure_kind {
    never,            ///< retrying cannot help or is not ours to decide (input, cancellation, verdicts...)
    before_request,   ///< happened while connecting: the server has not seen a byte of the request
    during_exchange,  ///< a transport failure whose safety depends on how far the exchange got
};

bool is_tls_verification_failure(const error_code& ec) noexcept {
    // The transport maps these to tls_* client errors; a raw one may still reach us from elsewhere.
    return ec.category() == ae::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

failure_kind classify_client_error(client_error e) noexcept {
    switch (e) {
    case client_error::resolve_timeout:
    case client_error::connect_timeout:
    case client_error::handshake_timeout: return failure_kind::before_request;
    case client_error::stall_timeout:
    case client_error::connection_closed: return failure_kind::during_exchange;
    // Waiting for a connection again would only repeat a wait the caller already bounded; a
    // saturated pool is relieved by fewer requests, not more.
    case client_error::pool_wait_timeout:
    // Closed, out of time, or already given up: the caller's decision, not the backend's state.
    case client_error::pool_closed:
    case client_error::deadline_exceeded:
    case client_error::retries_exhausted:
    // A certificate that failed verification will fail again; retrying hides an attack or a misconfiguration.
    case client_error::tls_verification_failed:
    case client_error::tls_certificate_expired:
    case client_error::tls_hostname_mismatch:
    case client_error::tls_untrusted_certificate:
    // Bad input fails identically every time.
    case client_error::bad_endpoint:
    case client_error::insecure_http_refused:
    case client_error::missing_credentials:
    case client_error::invalid_argument:
    case client_error::invalid_field:
    case client_error::file_not_found:
    case client_error::file_unreadable:
    case client_error::file_changed_size:
    case client_error::source_failed:
    case client_error::upload_too_large:
    case client_error::invalid_signature_validity:
    // The server answered, and the answer was unusable: it was processed (maybe billed).
    case client_error::response_too_large:
    case client_error::header_too_large:
    case client_error::non_json_response:
    case client_error::malformed_response:
    // Verdicts are answers, not failures of the call.
    case client_error::similarity_below_threshold:
    case client_error::comparison_missing: return failure_kind::never;
    }
    return failure_kind::never;
}

failure_kind classify_foreign_error(const error_code& ec) noexcept {
    if (ec == ae::operation_aborted) return failure_kind::never;  // cancellation is the caller's word

    // Only possible while connecting: nothing was sent.
    if (ec == ae::connection_refused || ec == ae::host_unreachable || ec == ae::network_unreachable ||
        ec == ae::host_not_found_try_again)
        return failure_kind::before_request;

    // A dead or dying connection: its phase decides.
    if (ec == ae::connection_reset || ec == ae::connection_aborted || ec == ae::broken_pipe || ec == ae::eof ||
        ec == ae::timed_out || ec == ae::network_down || ec == ae::network_reset ||
        ec == boost::asio::ssl::error::stream_truncated || ec == boost::beast::error::timeout ||
        ec == http::error::end_of_stream || ec == http::error::partial_message)
        return failure_kind::during_exchange;

    // TLS protocol errors (a handshake alert, a bad record): transient unless the certificate was
    // rejected. The phase flags tell a handshake failure (nothing sent) from a broken session.
    if (ec.category() == ae::get_ssl_category())
        return is_tls_verification_failure(ec) ? failure_kind::never : failure_kind::during_exchange;

    // Everything else: authoritative resolver answers (no such host), Beast parse errors (the
    // server sent garbage), and errors of categories we do not know. Resending is not known to help.
    return failure_kind::never;
}

// The default rules for a failure that is not an API code.
bool transport_rules(const attempt_info& info, bool retry_after_full_send) noexcept {
    const auto& ec = info.ec;
    const auto kind = ec.category() == client_category() ? classify_client_error(static_cast<client_error>(ec.value()))
                                                         : classify_foreign_error(ec);
    switch (kind) {
    case failure_kind::never: return false;
    case failure_kind::before_request: return true;
    case failure_kind::during_exchange:
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
        // The server answered with a code: only "refused before processing" codes are safe.
        return std::find(policy.retryable_codes.begin(), policy.retryable_codes.end(), ec.value()) !=
               policy.retryable_codes.end();
    }
    return transport_rules(info, policy.retry_after_full_send);
}

// retry_policy::retryable_codes' default (spec §6): refused before processing.
constexpr int default_retryable_codes[] = {15, 107, 108};

bool is_rate_limited(const error_code& ec) noexcept {
    return ec.category() == api_category() && ec.value() == static_cast<int>(api_error::rate_limited);
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
    if (ec.category() == api_category())
        return std::find(std::begin(default_retryable_codes), std::end(default_retryable_codes), ec.value()) !=
               std::end(default_retryable_codes);
    attempt_info neutral;
    neutral.ec = ec;
    return transport_rules(neutral, false);
}

bool should_retry(const retry_policy& policy, const attempt_info& info) {
    return info.attempt < policy.max_attempts && is_retryable_failure(policy, info);
}

std::chrono::milliseconds backoff_delay(const retry_policy& policy, int attempt, const error_code& ec,
                                        double unit_random) {
    const auto base = is_rate_limited(ec) ? policy.throttle_backoff : policy.initial_backoff;
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
