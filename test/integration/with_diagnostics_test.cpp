// The default completion token (with_diagnostics(deferred)): `co_await client.async_x(req)`
// without as_tuple throws an error_with_diagnostics that keeps the API code, the server's message,
// the request id and the reply; tokens that receive the error_code are unaffected.
#include "fixtures.hpp"

#include <livefour/faceid/client.hpp>
#include <livefour/with_diagnostics.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace asio = boost::asio;
using livefour::error_with_diagnostics;

namespace {

/// What a coroutine caught: the exception's code and a copy of its diagnostics.
struct caught {
    bool thrown = false;
    bool was_system_error = false;
    livefour::error_code ec;
    std::string what;
    livefour::diagnostics diag;
};

template <class Start>
caught catch_from(asio::io_context& ioc, Start start) {
    return test::run_bounded(ioc, [&]() -> asio::awaitable<caught> {
        caught c;
        try {
            co_await start();
        } catch (const error_with_diagnostics& e) {
            c.thrown = true, c.ec = e.code(), c.what = e.what(), c.diag = e.get_diagnostics();
            // Also catchable as what it was before the default token changed.
            try {
                throw;
            } catch (const boost::system::system_error& s) {
                c.was_system_error = s.code() == e.code();
            }
        }
        co_return c;
    }());
}

}  // namespace

TEST_CASE("with_diagnostics: the default token throws the API code with the server's message and reply") {
    test::emulator emu;
    auto o = emu.options();
    o.creds.secret_key = livefour::secret_string("not-the-key");
    asio::io_context ioc;
    livefour::client c(ioc.get_executor(), o);

    SUBCASE("without a diagnostics argument: the operation supplies one") {
        const auto got = catch_from(ioc, [&] { return c.async_get_digits(); });
        REQUIRE(got.thrown);
        CHECK(got.was_system_error);
        CHECK(got.ec == livefour::api_error::signature_check_failed);
        CHECK_FALSE(got.diag.server_message().empty());
        CHECK(got.diag.reply_body().find("\"code\"") != std::string::npos);
        CHECK(got.diag.attempts() == 1);
        CHECK(got.what.find(got.ec.message()) != std::string::npos);
        CHECK(got.what.find("not-the-key") == std::string::npos);
    }
    SUBCASE("with the caller's diagnostics: the exception carries the same record") {
        livefour::diagnostics diag;
        const auto got = catch_from(ioc, [&] { return c.async_get_digits({}, diag); });
        REQUIRE(got.thrown);
        CHECK(got.diag.server_message() == diag.server_message());
        CHECK(got.diag.reply_body() == diag.reply_body());
        CHECK_FALSE(diag.reply_body().empty());
    }
    SUBCASE("with_diagnostics(use_future): future::get() throws it") {
        auto f = c.async_get_digits({}, livefour::with_diagnostics(asio::use_future));
        std::thread t([&] { ioc.run(); });
        bool thrown = false;
        try {
            f.get();
        } catch (const error_with_diagnostics& e) {
            thrown = true;
            CHECK(e.code() == livefour::api_error::signature_check_failed);
            CHECK_FALSE(e.get_diagnostics().server_message().empty());
        }
        t.join();
        CHECK(thrown);
    }
    SUBCASE("as_tuple still receives the error_code and the reply") {
        auto [ec, r] = test::run_bounded(ioc, c.async_get_digits({}, asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == livefour::api_error::signature_check_failed);
        CHECK(r.code == 14);
    }
}

TEST_CASE("with_diagnostics: success returns the result; faceid errors keep their code string and request id") {
    test::emulator emu;
    asio::io_context ioc;
    livefour::client c(ioc.get_executor(), emu.options());
    const auto digits = test::run_bounded(
        ioc, [&]() -> asio::awaitable<livefour::digits_result> { co_return co_await c.async_get_digits(); }());
    CHECK(digits.validate_data.size() == 4);

    livefour::faceid::client_options fo;
    fo.endpoint = emu.url();
    fo.tls.ca_file = emu.ca_path().string();
    fo.creds.secret_id = test::secret_id;
    fo.creds.secret_key = livefour::secret_string("not-the-key");
    fo.thread_safe = test::thread_safe();
    livefour::faceid::client f(ioc.get_executor(), fo);
    const auto got = catch_from(ioc, [&] { return f.async_get_live_code(); });
    REQUIRE(got.thrown);
    CHECK(got.ec == livefour::faceid::errc::auth_failure_signature_failure);
    CHECK(got.diag.server_code() == "AuthFailure.SignatureFailure");
    CHECK_FALSE(got.diag.request_id().empty());
    CHECK_FALSE(got.diag.server_message().empty());
}
