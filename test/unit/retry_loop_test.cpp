// The generic retry loop (src/retry_loop.hpp) with a fake attempt and a fake sleeper: no socket,
// no emulator. Budget exhaustion, a deadline or a cancellation during the backoff, and the
// keep-alive resend made visible as an attempt of its own.
#include <doctest/doctest.h>

#include "../../src/retry_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

namespace asio = boost::asio;
using livefour::client_error;
using livefour::diagnostics;
using livefour::error_code;
using livefour::detail::attempt_outcome;
using kind = diagnostics::attempt_record::kind;
using std::chrono::milliseconds;

namespace {

/// A scripted attempt: returns the queued outcomes in order (success once they run out).
struct fake_attempts {
    std::deque<attempt_outcome> script;
    std::vector<int> numbers;  // the attempt number of each call
    asio::awaitable<attempt_outcome> operator()(int n) {
        numbers.push_back(n);
        if (script.empty()) co_return attempt_outcome{};
        auto a = script.front();
        script.pop_front();
        co_return a;
    }
};

/// A sleeper that records the delays and returns at once (or fails on the `fail_at`-th wait).
struct fake_sleeper {
    std::vector<milliseconds> delays;
    int fail_at = -1;
    asio::awaitable<error_code> operator()(milliseconds d) {
        delays.push_back(d);
        if (static_cast<int>(delays.size()) - 1 == fail_at) co_return asio::error::operation_aborted;
        co_return error_code{};
    }
};

attempt_outcome answered(error_code ec) {
    attempt_outcome a;
    a.ec = ec;
    a.http_status = 200;
    a.request_fully_sent = true;
    a.response_started = true;
    return a;
}

attempt_outcome reused_closed(bool fully_sent) {
    attempt_outcome a;
    a.ec = asio::error::eof;
    a.connection_reused = true;
    a.request_fully_sent = fully_sent;
    return a;
}

/// Runs the loop to completion on a fresh io_context. The fakes are taken by reference through
/// small forwarding lambdas so that the test can inspect them afterwards.
error_code run(const livefour::retry_policy& policy, livefour::retry_budget& budget, bool idempotent,
               fake_attempts& attempts, fake_sleeper& sleeper, diagnostics& diag) {
    asio::io_context ioc;
    std::optional<error_code> out;
    auto attempt = [&attempts](int n) { return attempts(n); };
    auto sleep = [&sleeper](milliseconds d) { return sleeper(d); };
    asio::co_spawn(ioc, livefour::detail::retry_loop(policy, budget, idempotent, attempt, sleep, diag),
                   [&](std::exception_ptr e, error_code ec) {
                       REQUIRE_FALSE(e);
                       out = ec;
                   });
    ioc.run();
    REQUIRE(out);
    return *out;
}

}  // namespace

TEST_CASE("retry loop: retryable codes are retried with their backoff, then succeed") {
    livefour::retry_policy policy;
    livefour::retry_budget budget;
    fake_attempts attempts;
    attempts.script = {answered(livefour::make_api_error(15)), answered(livefour::make_api_error(107))};
    fake_sleeper sleeper;
    diagnostics diag;
    CHECK_FALSE(run(policy, budget, false, attempts, sleeper, diag));
    CHECK(attempts.numbers == std::vector<int>{1, 2, 3});
    CHECK(diag.attempts() == 3);
    REQUIRE(diag.retries().size() == 2);
    REQUIRE(sleeper.delays.size() == 2);
    // 15 waits on the throttle bound (1 s), 107 on the ordinary one (100 ms * 2 for attempt 2).
    CHECK(sleeper.delays[0] <= policy.throttle_backoff);
    CHECK(sleeper.delays[1] <= milliseconds(200));
    REQUIRE(diag.attempt_log().size() == 3);
    CHECK(diag.attempt_log()[0].why == kind::first);
    CHECK(diag.attempt_log()[1].why == kind::retry);
    CHECK(diag.attempt_log()[2].why == kind::retry);
    CHECK_FALSE(diag.attempt_log()[2].error);
}

TEST_CASE("retry loop: max_attempts used up gives retries_exhausted; an answer is never retried") {
    livefour::retry_policy policy;
    livefour::retry_budget budget;
    diagnostics diag;
    SUBCASE("exhausted") {
        fake_attempts attempts;
        for (int i = 0; i < 5; ++i) attempts.script.push_back(answered(livefour::make_api_error(15)));
        fake_sleeper sleeper;
        CHECK(run(policy, budget, false, attempts, sleeper, diag) == client_error::retries_exhausted);
        CHECK(diag.attempts() == 3);
        CHECK(diag.client_message().find("gave up after 3 attempts") != std::string::npos);
    }
    SUBCASE("a signature error is an answer") {
        fake_attempts attempts;
        attempts.script = {answered(livefour::make_api_error(14))};
        fake_sleeper sleeper;
        CHECK(run(policy, budget, false, attempts, sleeper, diag) == livefour::make_api_error(14));
        CHECK(diag.attempts() == 1);
        CHECK(sleeper.delays.empty());
    }
    SUBCASE("retries off") {
        policy = livefour::retry_policy::no_retry();
        fake_attempts attempts;
        attempts.script = {answered(livefour::make_api_error(15))};
        fake_sleeper sleeper;
        CHECK(run(policy, budget, false, attempts, sleeper, diag) == livefour::make_api_error(15));
        CHECK(diag.attempts() == 1);
    }
}

TEST_CASE("retry loop: an exhausted budget stops retrying and says so") {
    livefour::retry_policy policy;
    policy.max_attempts = 10;
    // Two tokens, no refund: the first failure leaves one token, which is not more than half.
    livefour::retry_budget budget(2, 0);
    fake_attempts attempts;
    attempts.script = {answered(livefour::make_api_error(107)), answered(livefour::make_api_error(107))};
    fake_sleeper sleeper;
    diagnostics diag;
    CHECK(run(policy, budget, false, attempts, sleeper, diag) == livefour::make_api_error(107));
    CHECK(diag.attempts() == 1);
    CHECK(sleeper.delays.empty());
    CHECK(diag.client_message().find("retry budget is exhausted") != std::string::npos);
    CHECK(budget.tokens() == doctest::Approx(1.0));

    // Successes refill it: with a refund of 1 per success the budget allows retries again.
    livefour::retry_budget refilling(4, 1);
    refilling.record_failure();
    refilling.record_failure();
    CHECK_FALSE(refilling.allow_retry());
    refilling.record_success();
    refilling.record_success();
    fake_attempts later;
    later.script = {answered(livefour::make_api_error(107))};
    diagnostics d2;
    CHECK_FALSE(run(policy, refilling, false, later, sleeper, d2));
    CHECK(d2.attempts() == 2);
}

TEST_CASE("retry loop: a cancellation during the backoff ends the loop with operation_aborted") {
    livefour::retry_policy policy;
    livefour::retry_budget budget;
    fake_attempts attempts;
    attempts.script = {answered(livefour::make_api_error(107))};
    diagnostics diag;
    SUBCASE("the sleeper reports it") {
        fake_sleeper sleeper;
        sleeper.fail_at = 0;
        CHECK(run(policy, budget, false, attempts, sleeper, diag) == asio::error::operation_aborted);
        CHECK(attempts.numbers.size() == 1);
    }
    SUBCASE("a terminal cancellation while a real timer waits") {
        asio::io_context ioc;
        asio::cancellation_signal sig;
        policy.initial_backoff = milliseconds(60'000);
        policy.multiplier = 1;
        std::optional<error_code> out;
        auto attempt = [&attempts](int n) { return attempts(n); };
        // The backoff's full jitter may draw anything up to a minute: a real wait the cancellation cuts.
        auto sleep = [](milliseconds) -> asio::awaitable<error_code> {
            asio::steady_timer t(co_await asio::this_coro::executor, milliseconds(60'000));
            auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return ec;
        };
        asio::co_spawn(ioc, livefour::detail::retry_loop(policy, budget, false, attempt, sleep, diag),
                       asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr, error_code ec) { out = ec; }));
        asio::steady_timer cancel(ioc, milliseconds(20));
        cancel.async_wait([&](error_code) { sig.emit(asio::cancellation_type::terminal); });
        const auto t0 = std::chrono::steady_clock::now();
        ioc.run();
        REQUIRE(out);
        CHECK(*out == asio::error::operation_aborted);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
        CHECK(attempts.numbers.size() == 1);
    }
}

TEST_CASE("retry loop: a deadline during the backoff cuts the wait") {
    using namespace asio::experimental::awaitable_operators;
    livefour::retry_policy policy;
    livefour::retry_budget budget;
    fake_attempts attempts;
    attempts.script = {answered(livefour::make_api_error(15))};
    diagnostics diag;
    asio::io_context ioc;
    std::optional<std::size_t> winner;
    auto attempt = [&attempts](int n) { return attempts(n); };
    auto sleep = [](milliseconds) -> asio::awaitable<error_code> {
        asio::steady_timer t(co_await asio::this_coro::executor, milliseconds(60'000));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return ec;
    };
    auto race = [&]() -> asio::awaitable<void> {
        asio::steady_timer deadline(co_await asio::this_coro::executor, milliseconds(30));
        auto r = co_await (livefour::detail::retry_loop(policy, budget, false, attempt, sleep, diag) ||
                           deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
        winner = r.index();
    };
    const auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(ioc, race(), asio::detached);
    ioc.run();
    REQUIRE(winner);
    CHECK(*winner == 1);  // the deadline
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(attempts.numbers.size() == 1);
    CHECK(diag.retries().size() == 1);  // the retry had been decided; its wait was cut
}

TEST_CASE("retry loop: the keep-alive resend is an attempt of its own, at once, once") {
    livefour::retry_policy policy;
    livefour::retry_budget budget;
    diagnostics diag;
    SUBCASE("a reused connection closed before the request went out: resent at once") {
        fake_attempts attempts;
        attempts.script = {reused_closed(false)};
        fake_sleeper sleeper;
        CHECK_FALSE(run(policy, budget, false, attempts, sleeper, diag));
        CHECK(attempts.numbers == std::vector<int>{1, 1});
        CHECK(sleeper.delays.empty());  // no backoff
        CHECK(diag.attempts() == 1);    // not a retry of the policy
        REQUIRE(diag.attempt_log().size() == 2);
        CHECK(diag.attempt_log()[0].why == kind::first);
        CHECK(diag.attempt_log()[0].error == asio::error::eof);
        CHECK(diag.attempt_log()[0].connection_reused);
        CHECK(diag.attempt_log()[1].why == kind::keepalive_resend);
        CHECK(diag.attempt_log()[1].attempt == 1);
        CHECK_FALSE(diag.attempt_log()[1].error);
    }
    SUBCASE("sent in full on a billed call: not resent, not retried (it may have been processed)") {
        fake_attempts attempts;
        attempts.script = {reused_closed(true)};
        fake_sleeper sleeper;
        CHECK(run(policy, budget, false, attempts, sleeper, diag) == asio::error::eof);
        CHECK(attempts.numbers.size() == 1);
        CHECK(diag.attempt_log().size() == 1);
    }
    SUBCASE("sent in full on a free call: resent") {
        fake_attempts attempts;
        attempts.script = {reused_closed(true)};
        fake_sleeper sleeper;
        CHECK_FALSE(run(policy, budget, true, attempts, sleeper, diag));
        CHECK(attempts.numbers == std::vector<int>{1, 1});
    }
    SUBCASE("only once per attempt: a second race is an ordinary failure, retried by the policy") {
        fake_attempts attempts;
        attempts.script = {reused_closed(false), reused_closed(false)};
        fake_sleeper sleeper;
        CHECK_FALSE(run(policy, budget, false, attempts, sleeper, diag));
        CHECK(attempts.numbers == std::vector<int>{1, 1, 2});
        CHECK(sleeper.delays.size() == 1);
        REQUIRE(diag.attempt_log().size() == 3);
        CHECK(diag.attempt_log()[2].why == kind::retry);
    }
    SUBCASE("a fresh connection that closes is not the keep-alive race") {
        fake_attempts attempts;
        auto a = reused_closed(false);
        a.connection_reused = false;
        attempts.script = {a};
        fake_sleeper sleeper;
        CHECK_FALSE(run(policy, budget, false, attempts, sleeper, diag));
        CHECK(attempts.numbers == std::vector<int>{1, 2});
        CHECK(sleeper.delays.size() == 1);
    }
}
