// Internal: the generic retry loop, in the manner of google-cloud-cpp's RetryLoopImpl. No HTTP
// inside: the attempt, the policy and its classification (retry.hpp, classify.hpp), the budget
// and the timer are parameters, so test/unit/retry_loop_test.cpp drives it with a fake attempt and
// a fake sleeper — budget exhaustion, the deadline or a cancellation during a backoff, and the
// keep-alive resend — without a socket.
#pragma once

#include "classify.hpp"

#include <livefour/attempt_event.hpp>
#include <livefour/diagnostics.hpp>
#include <livefour/retry.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace livefour::detail {

/// How one attempt ended, as the loop needs to know it.
struct attempt_outcome {
    /// The transport's error, or the reply's (an API code, an unusable reply); clear on success.
    error_code ec;
    int http_status = 0;
    bool request_fully_sent = false;
    bool response_started = false;
    bool connection_reused = false;
    /// False when the body cannot be sent again (a one-shot source already read from).
    bool resendable = true;
};

/// The keep-alive race: a connection reused from the pool was found closed by the server before
/// any reply byte. The server cannot have acted on a request it did not receive in full; one that
/// went out in full is resent only when a second copy is harmless (idempotent, or the caller's
/// retry_after_full_send). The pool's liveness probe before reuse keeps that window to microseconds.
inline bool is_keepalive_race(const retry_policy& policy, bool idempotent, const attempt_outcome& a) noexcept {
    if (!a.connection_reused || a.response_started) return false;
    if (a.request_fully_sent && !(idempotent || policy.retry_after_full_send)) return false;
    return classify(a.ec).peer_closed;
}

/// What the loop decided after an attempt, for the attempt's observer.
struct attempt_decision {
    attempt_event::decision next = attempt_event::decision::done;
    std::string_view reason;  ///< static text
    std::chrono::milliseconds delay{0};
};

/// The default observer: nothing to report to.
struct no_observer {
    void operator()(int, diagnostics::attempt_record::kind, const attempt_outcome&, const attempt_decision&) const {}
};

/// Runs attempts until one succeeds, one fails in a way the policy does not retry, the attempts
/// or the budget run out, or the sleeper reports that the wait was cut short (cancellation).
///  - attempt(int n): awaitable<attempt_outcome>, the n-th attempt (1-based);
///  - sleep(delay): awaitable<error_code>, the backoff; an error ends the loop with operation_aborted;
///  - observe(n, why, outcome, decision): after every attempt, once its fate is decided.
/// A keep-alive race is resent at once, once per attempt, and logged as an attempt of its own
/// (it does not count against max_attempts). A refused timestamp (retry_class::resign_once) is
/// retried once, at once. An attempt whose body cannot be sent again (resendable false) is not
/// retried: its failure is returned with its cause. Gives up with client_error::retries_exhausted
/// when max_attempts failed (the last reply stays with the caller); otherwise with the attempt's
/// error.
template <class Attempt, class Sleeper, class Observer = no_observer>
boost::asio::awaitable<error_code> retry_loop(const retry_policy& policy, retry_budget& budget, bool idempotent,
                                              Attempt attempt, Sleeper sleep, diagnostics& diag,
                                              Observer observe = {}) {
    namespace asio = boost::asio;
    using kind = diagnostics::attempt_record::kind;
    using next = attempt_event::decision;
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    bool resigned = false;  // a refused timestamp was retried already (at most once per operation)
    for (int n = 1;; ++n) {
        diag.count_attempt();
        attempt_outcome a;
        auto why = n == 1 ? kind::first : kind::retry;
        for (;;) {
            diag.clear_response();
            a = co_await attempt(n);
            diag.add_attempt(
                {n, why, a.ec, a.http_status, a.connection_reused, a.request_fully_sent, a.response_started});
            if (why == kind::keepalive_resend || !a.resendable || !is_keepalive_race(policy, idempotent, a)) break;
            observe(n, why, a,
                    {next::keepalive_resend, "the reused connection was closed by the server before any reply byte"});
            why = kind::keepalive_resend;
        }
        const error_code ec = a.ec;
        auto give_up = [&](std::string_view reason) { observe(n, why, a, {next::done, reason}); };
        if (!ec) {
            budget.record_success();
            give_up({});
            co_return ec;
        }
        attempt_info info;
        info.ec = ec;
        info.attempt = n;
        info.idempotent = idempotent;
        info.request_fully_sent = a.request_fully_sent;
        info.response_started = a.response_started;
        info.connection_reused = a.connection_reused;
        info.http_status = a.http_status;
        // A refused timestamp (clock skew) is retried once, at once, freshly signed: not a sign of
        // a struggling backend, so it neither waits nor costs budget.
        const bool resign = classify(ec).retry == retry_class::resign_once;
        if (resign && resigned) {
            give_up("the timestamp was refused again");
            co_return ec;
        }
        if (!is_retryable_failure(policy, info)) {
            give_up("not retryable");
            co_return ec;
        }
        if (!a.resendable) {
            // A source read once cannot be read again: the failure is returned with its cause,
            // never followed by a partial resend.
            diag.set_client_message("not retried: the body's source was read and cannot be read again; " +
                                    ec.message());
            give_up("the body's source cannot be read again");
            co_return ec;
        }
        if (!resign) budget.record_failure();
        if (!should_retry(policy, info)) {  // retryable, but this was the last attempt allowed
            if (policy.max_attempts == 1) {
                give_up("retries are off (max_attempts 1)");
                co_return ec;
            }
            diag.set_client_message("gave up after " + std::to_string(n) + " attempts; last error: " + ec.message() +
                                    " [" + ec.category().name() + ":" + std::to_string(ec.value()) + "]");
            give_up("attempts used up");
            co_return client_error::retries_exhausted;
        }
        if (!resign && !budget.allow_retry()) {
            diag.set_client_message(
                "not retried: the client's retry budget is exhausted (most recent attempts failed); last error: " +
                ec.message());
            give_up("the client's retry budget is exhausted");
            co_return ec;
        }
        resigned = resigned || resign;
        const auto delay = resign ? std::chrono::milliseconds(0) : backoff_delay(policy, n, ec);
        observe(n, why, a,
                {resign ? next::resign : next::retry, resign ? "the timestamp was refused (clock skew)" : "retryable",
                 delay});
        if (policy.on_retry) policy.on_retry(retry_event{n, ec, delay});
        diag.add_retry(ec, delay);
        const error_code wait_ec = co_await sleep(delay);
        if (wait_ec || cs.cancelled() != asio::cancellation_type::none) co_return asio::error::operation_aborted;
    }
}

}  // namespace livefour::detail
