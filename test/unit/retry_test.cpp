// Retry policy (spec §6): what may be resent, backoff with full jitter, the per-client budget.
#include <doctest/doctest.h>

#include <livefour/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace livefour;
using namespace std::chrono_literals;
namespace ae = boost::asio::error;
namespace http = boost::beast::http;

namespace {

/// How far the failed attempt got.
enum class phase { not_sent, sent_no_reply, reply_started };

/// The two kinds of operation spec §6 distinguishes.
enum class op { digits, detect };

attempt_info info_for(error_code ec, op o, phase p, int attempt = 1) {
    attempt_info i;
    i.ec = ec;
    i.attempt = attempt;
    i.idempotent = o == op::digits;
    i.request_fully_sent = p != phase::not_sent;
    i.response_started = p == phase::reply_started;
    return i;
}

constexpr std::array all_ops{op::digits, op::detect};
constexpr std::array all_phases{phase::not_sent, phase::sent_no_reply, phase::reply_started};

error_code ssl_error(int reason) {
    return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), ae::get_ssl_category()};
}

// Every API code of spec §5 (request level and verdicts).
constexpr int spec_codes[] = {3,     4,     5,     6,     9,     10,    11,    12,    13,    14,    15,    16,
                              21,    23,    24,    107,   108,   213,   -4006, -4007, -4009, -4010, -4011, -4012,
                              -4015, -4016, -4017, -4018, -5001, -5002, -5005, -5007, -5008, -5009, -5010, -5011,
                              -5012, -5013, -5014, -5015, -5016, -5801, -5802, -5803, -5804, -5805};

}  // namespace

TEST_CASE("retry: API codes — only 15, 107, 108 by default, whatever the request and phase") {
    const retry_policy p;
    for (int code : spec_codes) {
        const bool expected = code == 15 || code == 107 || code == 108;
        for (auto o : all_ops)
            for (auto ph : all_phases) {
                CAPTURE(code);
                CAPTURE(static_cast<int>(o));
                CAPTURE(static_cast<int>(ph));
                CHECK(should_retry(p, info_for(make_api_error(code), o, ph)) == expected);
            }
    }
    // Unknown codes are kept as numbers and not retried.
    CHECK_FALSE(should_retry(p, info_for(make_api_error(999), op::digits, phase::reply_started)));
}

TEST_CASE("retry: a configured code set replaces the default") {
    retry_policy p;
    p.retryable_codes = {213, -5802};
    CHECK(should_retry(p, info_for(make_api_error(213), op::detect, phase::reply_started)));
    CHECK(should_retry(p, info_for(make_api_error(-5802), op::detect, phase::reply_started)));
    CHECK_FALSE(should_retry(p, info_for(make_api_error(15), op::detect, phase::reply_started)));
    CHECK_FALSE(should_retry(p, info_for(make_api_error(107), op::digits, phase::reply_started)));
    p.retryable_codes.clear();
    CHECK_FALSE(should_retry(p, info_for(make_api_error(15), op::digits, phase::reply_started)));
}

TEST_CASE("retry: connect-phase failures are always retried") {
    const retry_policy p;
    const error_code connect_phase[] = {client_error::resolve_timeout,
                                        client_error::connect_timeout,
                                        client_error::handshake_timeout,
                                        ae::connection_refused,
                                        ae::host_unreachable,
                                        ae::network_unreachable,
                                        ae::host_not_found_try_again,
                                        ssl_error(SSL_R_WRONG_VERSION_NUMBER)};
    for (const auto& ec : connect_phase)
        for (auto o : all_ops) {
            CAPTURE(ec.message());
            CAPTURE(static_cast<int>(o));
            CHECK(should_retry(p, info_for(ec, o, phase::not_sent)));
        }
    // Timeouts named after a connect phase cannot have happened later: the flags do not matter.
    CHECK(should_retry(p, info_for(client_error::connect_timeout, op::detect, phase::sent_no_reply)));
}

TEST_CASE("retry: exchange failures depend on how far the request got") {
    const error_code exchange_failures[] = {ae::connection_reset,
                                            ae::broken_pipe,
                                            ae::eof,
                                            ae::connection_aborted,
                                            ae::timed_out,
                                            ae::network_reset,
                                            client_error::stall_timeout,
                                            client_error::connection_closed,
                                            boost::asio::ssl::error::stream_truncated,
                                            http::error::end_of_stream,
                                            http::error::partial_message,
                                            boost::beast::error::timeout,
                                            ssl_error(SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC)};
    struct row {
        op o;
        phase ph;
        bool opt_in;  // retry_after_full_send
        bool expected;
    };
    constexpr row rows[] = {
        // not fully sent: the server cannot have acted on it
        {op::digits, phase::not_sent, false, true},
        {op::detect, phase::not_sent, false, true},
        // sent in full, no reply: free request yes, billed request only on opt-in
        {op::digits, phase::sent_no_reply, false, true},
        {op::detect, phase::sent_no_reply, false, false},
        {op::detect, phase::sent_no_reply, true, true},
        // reply started then broke: processed; only the idempotent request
        {op::digits, phase::reply_started, false, true},
        {op::detect, phase::reply_started, false, false},
        {op::detect, phase::reply_started, true, false},
    };
    for (const auto& ec : exchange_failures)
        for (const auto& r : rows) {
            retry_policy p;
            p.retry_after_full_send = r.opt_in;
            CAPTURE(ec.message());
            CAPTURE(static_cast<int>(r.o));
            CAPTURE(static_cast<int>(r.ph));
            CAPTURE(r.opt_in);
            CHECK(should_retry(p, info_for(ec, r.o, r.ph)) == r.expected);
        }
}

TEST_CASE("retry: never for cancellation, deadlines, closed pools, TLS verification, input, unusable replies") {
    const error_code never[] = {
        error_code{},  // success
        ae::operation_aborted,
        client_error::deadline_exceeded,
        client_error::pool_closed,
        client_error::pool_wait_timeout,
        client_error::retries_exhausted,
        client_error::tls_verification_failed,
        client_error::tls_certificate_expired,
        client_error::tls_hostname_mismatch,
        client_error::tls_untrusted_certificate,
        ssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED),
        client_error::bad_endpoint,
        client_error::insecure_http_refused,
        client_error::missing_credentials,
        client_error::invalid_argument,
        client_error::invalid_field,
        client_error::file_not_found,
        client_error::file_unreadable,
        client_error::file_changed_size,
        client_error::source_failed,
        client_error::upload_too_large,
        client_error::invalid_signature_validity,
        client_error::response_too_large,
        client_error::header_too_large,
        client_error::non_json_response,
        client_error::malformed_response,
        client_error::similarity_below_threshold,
        client_error::comparison_missing,
        http::error::bad_version,                                                     // the server sent garbage
        ae::host_not_found,                                                           // authoritative: no such host
        boost::system::errc::make_error_code(boost::system::errc::invalid_argument),  // unclassified
    };
    for (const auto& ec : never)
        for (auto o : all_ops)
            for (auto ph : all_phases)
                for (bool opt_in : {false, true}) {
                    retry_policy p;
                    p.retry_after_full_send = opt_in;
                    auto info = info_for(ec, o, ph);
                    info.http_status = 503;  // a 5xx status does not make an unusable reply retryable
                    CAPTURE(ec.message());
                    CAPTURE(static_cast<int>(o));
                    CAPTURE(static_cast<int>(ph));
                    CHECK_FALSE(should_retry(p, info));
                }
}

TEST_CASE("retry: max_attempts bounds every decision, the predicate included") {
    retry_policy p;  // 3 attempts
    const auto ec = make_api_error(15);
    CHECK(should_retry(p, info_for(ec, op::detect, phase::reply_started, 1)));
    CHECK(should_retry(p, info_for(ec, op::detect, phase::reply_started, 2)));
    CHECK_FALSE(should_retry(p, info_for(ec, op::detect, phase::reply_started, 3)));
    CHECK_FALSE(should_retry(p, info_for(ec, op::detect, phase::reply_started, 4)));

    const auto none = retry_policy::no_retry();
    CHECK(none.max_attempts == 1);
    CHECK_FALSE(should_retry(none, info_for(ec, op::digits, phase::not_sent, 1)));

    p.predicate = [](const attempt_info&) { return std::optional<bool>{true}; };
    CHECK(should_retry(p, info_for(client_error::invalid_argument, op::detect, phase::not_sent, 2)));
    CHECK_FALSE(should_retry(p, info_for(client_error::invalid_argument, op::detect, phase::not_sent, 3)));
    CHECK_FALSE(should_retry(p, info_for(error_code{}, op::detect, phase::not_sent, 1)));  // success stays success
}

TEST_CASE("retry: is_retryable_failure is should_retry without the attempt bound") {
    retry_policy p;  // 3 attempts
    CHECK(is_retryable_failure(p, info_for(make_api_error(15), op::detect, phase::reply_started, 3)));
    CHECK(is_retryable_failure(p, info_for(make_api_error(15), op::detect, phase::reply_started, 99)));
    CHECK_FALSE(is_retryable_failure(p, info_for(make_api_error(21), op::digits, phase::not_sent, 1)));
    CHECK_FALSE(is_retryable_failure(p, info_for(ae::eof, op::detect, phase::sent_no_reply, 3)));
    CHECK(is_retryable_failure(p, info_for(ae::eof, op::digits, phase::sent_no_reply, 3)));
    CHECK_FALSE(is_retryable_failure(p, info_for(error_code{}, op::digits, phase::not_sent, 1)));
    CHECK(is_retryable_failure(retry_policy::no_retry(), info_for(make_api_error(108), op::detect, phase::not_sent)));
    p.predicate = [](const attempt_info& i) -> std::optional<bool> {
        if (i.ec == client_error::malformed_response) return true;
        return std::nullopt;
    };
    CHECK(is_retryable_failure(p, info_for(client_error::malformed_response, op::detect, phase::reply_started, 7)));
    CHECK_FALSE(should_retry(p, info_for(client_error::malformed_response, op::detect, phase::reply_started, 3)));
}

TEST_CASE("retry: the predicate decides first, nullopt falls back to the default rules") {
    retry_policy p;
    std::vector<attempt_info> seen;
    p.predicate = [&](const attempt_info& i) -> std::optional<bool> {
        seen.push_back(i);
        if (i.ec == client_error::non_json_response && i.http_status == 503) return true;
        if (i.ec == make_api_error(15)) return false;
        return std::nullopt;
    };
    auto non_json = info_for(client_error::non_json_response, op::detect, phase::reply_started, 2);
    non_json.http_status = 503;
    non_json.connection_reused = true;
    CHECK(should_retry(p, non_json));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].attempt == 2);
    CHECK(seen[0].http_status == 503);
    CHECK(seen[0].connection_reused);
    CHECK(seen[0].response_started);
    CHECK_FALSE(seen[0].idempotent);

    CHECK_FALSE(should_retry(p, info_for(make_api_error(15), op::digits, phase::reply_started)));
    CHECK(should_retry(p, info_for(make_api_error(107), op::digits, phase::reply_started)));  // default
    CHECK_FALSE(should_retry(p, info_for(ae::eof, op::detect, phase::sent_no_reply)));        // default
    CHECK(seen.size() == 4);
}

TEST_CASE("backoff: bounds grow by the multiplier up to the cap") {
    const retry_policy p;  // 100 ms, x2, cap 5000 ms, throttle 1000 ms
    const error_code reset = ae::connection_reset;
    const std::pair<int, long> expected[] = {{1, 100},  {2, 200},  {3, 400},  {4, 800},   {5, 1600},
                                             {6, 3200}, {7, 5000}, {8, 5000}, {60, 5000}, {100000, 5000}};
    for (auto [attempt, bound] : expected) {
        CAPTURE(attempt);
        CHECK(backoff_delay(p, attempt, reset, 0.0) == 0ms);
        CHECK(backoff_delay(p, attempt, reset, 1.0) == std::chrono::milliseconds{bound});
        CHECK(backoff_delay(p, attempt, reset, std::nextafter(1.0, 0.0)) == std::chrono::milliseconds{bound});
        CHECK(backoff_delay(p, attempt, reset, 0.5) == std::chrono::milliseconds{bound / 2});
    }
    // Non-positive attempt numbers behave like the first attempt.
    CHECK(backoff_delay(p, 0, reset, 1.0) == 100ms);
    CHECK(backoff_delay(p, -5, reset, 1.0) == 100ms);
}

TEST_CASE("backoff: code 15 starts from throttle_backoff, other codes from initial_backoff") {
    const retry_policy p;
    const auto throttled = make_api_error(15);
    CHECK(backoff_delay(p, 1, throttled, 1.0) == 1000ms);
    CHECK(backoff_delay(p, 2, throttled, 1.0) == 2000ms);
    CHECK(backoff_delay(p, 3, throttled, 1.0) == 4000ms);
    CHECK(backoff_delay(p, 4, throttled, 1.0) == 5000ms);
    CHECK(backoff_delay(p, 1, make_api_error(107), 1.0) == 100ms);
    CHECK(backoff_delay(p, 1, make_api_error(108), 1.0) == 100ms);

    retry_policy q;
    q.throttle_backoff = 7000ms;  // above the cap: the cap still wins
    CHECK(backoff_delay(q, 1, throttled, 1.0) == 5000ms);
    q.multiplier = 1.0;
    q.initial_backoff = 250ms;
    CHECK(backoff_delay(q, 1, client_error::connect_timeout, 1.0) == 250ms);
    CHECK(backoff_delay(q, 9, client_error::connect_timeout, 1.0) == 250ms);
}

TEST_CASE("backoff: out-of-range random samples are clamped") {
    const retry_policy p;
    CHECK(backoff_delay(p, 1, {}, -0.5) == 0ms);
    CHECK(backoff_delay(p, 1, {}, 7.0) == 100ms);
    CHECK(backoff_delay(p, 1, {}, std::numeric_limits<double>::quiet_NaN()) == 0ms);
    CHECK(backoff_delay(p, 1, {}, std::numeric_limits<double>::infinity()) == 100ms);
}

TEST_CASE("backoff: full jitter is uniform over [0, bound]") {
    const retry_policy p;
    const error_code ec = ae::connection_reset;
    // The mapping itself: evenly spaced samples give evenly spaced delays.
    for (int i = 0; i <= 10; ++i) CHECK(backoff_delay(p, 3, ec, i / 10.0) == std::chrono::milliseconds{40 * i});

    // The random overload: 20000 draws for a 400 ms bound.
    constexpr int n = 20000;
    std::array<int, 4> quartiles{};
    double sum = 0;
    long lo = 400, hi = 0;
    for (int i = 0; i < n; ++i) {
        const auto d = backoff_delay(p, 3, ec).count();
        REQUIRE(d >= 0);
        REQUIRE(d <= 400);
        lo = std::min<long>(lo, d);
        hi = std::max<long>(hi, d);
        sum += static_cast<double>(d);
        ++quartiles[static_cast<std::size_t>(std::min<long>(d / 100, 3))];
    }
    CHECK(sum / n == doctest::Approx(200.0).epsilon(0.05));  // standard error ~0.8 ms
    for (int q : quartiles) CHECK(q == doctest::Approx(n / 4.0).epsilon(0.12));
    CHECK(lo <= 5);
    CHECK(hi >= 395);
}

TEST_CASE("retry: validate") {
    CHECK_FALSE(validate(retry_policy{}));
    CHECK_FALSE(validate(retry_policy::no_retry()));
    auto bad = [](auto mutate) {
        retry_policy p;
        mutate(p);
        return validate(p);
    };
    CHECK(bad([](retry_policy& p) { p.max_attempts = 0; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.max_attempts = -1; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.initial_backoff = -1ms; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.max_backoff = -1ms; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.throttle_backoff = -1ms; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.multiplier = 0.5; }) == client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.multiplier = std::numeric_limits<double>::quiet_NaN(); }) ==
          client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.multiplier = std::numeric_limits<double>::infinity(); }) ==
          client_error::invalid_argument);
    CHECK(bad([](retry_policy& p) { p.retryable_codes.push_back(0); }) == client_error::invalid_argument);
    // Legal edge values.
    CHECK_FALSE(bad([](retry_policy& p) {
        p.initial_backoff = 0ms;
        p.max_backoff = 0ms;
        p.multiplier = 1.0;
        p.retryable_codes.clear();
    }));
}

TEST_CASE("budget: exhausts after max/2 failures and recovers with successes") {
    retry_budget b;  // 100 tokens, 0.1 per success
    CHECK(b.max_tokens() == 100.0);
    CHECK(b.token_ratio() == doctest::Approx(0.1));
    CHECK(b.tokens() == 100.0);
    for (int i = 0; i < 49; ++i) b.record_failure();
    CHECK(b.tokens() == 51.0);
    CHECK(b.allow_retry());
    b.record_failure();
    CHECK(b.tokens() == 50.0);
    CHECK_FALSE(b.allow_retry());  // exactly half is not enough
    b.record_success();
    CHECK(b.tokens() == doctest::Approx(50.1));
    CHECK(b.allow_retry());
    // Floor at zero, then ten successes per lost token.
    for (int i = 0; i < 1000; ++i) b.record_failure();
    CHECK(b.tokens() == 0.0);
    for (int i = 0; i < 500; ++i) b.record_success();
    CHECK(b.tokens() == doctest::Approx(50.0));
    CHECK_FALSE(b.allow_retry());
    b.record_success();
    CHECK(b.allow_retry());
    // Cap at max_tokens.
    for (int i = 0; i < 10000; ++i) b.record_success();
    CHECK(b.tokens() == 100.0);
}

TEST_CASE("budget: gRPC's worked example (max 4, ratio 1.6)") {
    retry_budget b(4, 1.6);
    b.record_failure();
    CHECK(b.tokens() == doctest::Approx(3.0));
    CHECK(b.allow_retry());
    b.record_success();
    CHECK(b.tokens() == doctest::Approx(4.0));  // not beyond max
    b.record_failure();
    b.record_failure();
    CHECK(b.tokens() == doctest::Approx(2.0));
    CHECK_FALSE(b.allow_retry());  // at the threshold
    b.record_success();
    CHECK(b.tokens() == doctest::Approx(3.6));
    CHECK(b.allow_retry());
}

TEST_CASE("budget: invalid construction arguments") {
    auto throws_invalid = [](double max, double ratio) {
        try {
            retry_budget b(max, ratio);
        } catch (const boost::system::system_error& e) {
            return e.code() == client_error::invalid_argument;
        }
        return false;
    };
    CHECK(throws_invalid(0, 0.1));
    CHECK(throws_invalid(-1, 0.1));
    CHECK(throws_invalid(std::numeric_limits<double>::quiet_NaN(), 0.1));
    CHECK(throws_invalid(std::numeric_limits<double>::infinity(), 0.1));
    CHECK(throws_invalid(10, -0.1));
    CHECK(throws_invalid(10, 11));
    CHECK(throws_invalid(10, std::numeric_limits<double>::quiet_NaN()));
    CHECK_FALSE(throws_invalid(10, 0));
    CHECK_FALSE(throws_invalid(0.5, 0.5));
}

TEST_CASE("budget: concurrent use from 4 threads loses no update") {
    // Large enough that neither the floor nor the cap is reached, so the result is exact.
    retry_budget b(100000, 1.0);
    constexpr int per_thread = 10000;
    auto run = [&](auto body) {
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < per_thread; ++i) body();
            });
        for (auto& th : threads) th.join();
    };
    run([&] {
        b.record_failure();
        (void)b.allow_retry();
    });
    CHECK(b.tokens() == 60000.0);
    run([&] {
        b.record_failure();
        b.record_success();
    });
    CHECK(b.tokens() == 60000.0);
    run([&] { b.record_success(); });
    CHECK(b.tokens() == 100000.0);
    CHECK(b.allow_retry());
}

TEST_CASE("retry: is_retryable(ec) agrees with the retry loop for every code it may meet") {
    // is_retryable() is the loop's answer for a neutral attempt (the first, billed, not completely
    // sent, no response byte) with the default policy. Every code below must agree both ways:
    // retryable <=> the loop retries the neutral attempt, and not retryable => the loop retries it
    // in no phase, for no kind of request, whatever retry_after_full_send says.
    std::vector<error_code> codes;
    for (int v = 0; v < 1000; ++v) {  // every client_error (values past the last are unknown codes)
        const error_code ec(v, client_category());
        if (ec.message().rfind("unknown client error", 0) != 0) codes.push_back(ec);
    }
    CHECK(codes.size() >= static_cast<std::size_t>(client_error::comparison_missing));
    for (int v = -6000; v <= 1000; ++v) codes.push_back(make_api_error(v));  // 0 is success: skipped below
    for (int v = 0; v < 256; ++v) {
        codes.emplace_back(v, boost::system::system_category());  // errno values: the asio::error basics
        codes.emplace_back(v, ae::get_netdb_category());
        codes.emplace_back(v, ae::get_addrinfo_category());
        codes.emplace_back(v, ae::get_misc_category());
        codes.push_back(http::make_error_code(static_cast<http::error>(v)));
        codes.push_back(boost::beast::make_error_code(static_cast<boost::beast::error>(v)));
        codes.push_back(
            boost::asio::ssl::error::make_error_code(static_cast<boost::asio::ssl::error::stream_errors>(v)));
    }
    codes.push_back(ssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED));
    codes.push_back(ssl_error(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE));
    codes.push_back(ssl_error(SSL_R_WRONG_VERSION_NUMBER));
    codes.push_back(ae::operation_aborted);
    codes.push_back(ae::host_not_found_try_again);
    codes.push_back(boost::system::errc::make_error_code(boost::system::errc::invalid_argument));

    const retry_policy defaults;
    std::size_t retryable = 0;
    for (const auto& ec : codes) {
        if (!ec) continue;
        CAPTURE(ec.category().name());
        CAPTURE(ec.value());
        CAPTURE(ec.message());
        const bool neutral = should_retry(defaults, info_for(ec, op::detect, phase::not_sent));
        CHECK(is_retryable(ec) == neutral);
        CHECK(is_retryable(ec) == is_retryable_failure(defaults, info_for(ec, op::detect, phase::not_sent)));
        if (!is_retryable(ec)) {
            for (auto o : all_ops)
                for (auto ph : all_phases)
                    for (bool opt_in : {false, true}) {
                        retry_policy p;
                        p.retry_after_full_send = opt_in;
                        CHECK_FALSE(should_retry(p, info_for(ec, o, ph)));
                    }
        } else {
            ++retryable;
        }
    }
    // The three places that disagreed before is_retryable() was defined through the loop's rules.
    CHECK(is_retryable(client_error::stall_timeout));
    CHECK(is_retryable(http::error::end_of_stream));
    CHECK(is_retryable(http::error::partial_message));
    CHECK(is_retryable(ae::host_not_found_try_again));
    CHECK(retryable > 10);
    // The default policy's codes are what is_retryable() treats as retryable API codes.
    for (int code : defaults.retryable_codes) CHECK(is_retryable(make_api_error(code)));
}
