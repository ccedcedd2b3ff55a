// Error categories, messages and classification (spec §5, §6).
#include <doctest/doctest.h>

#include <livefour/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <set>
#include <string>
#include <string_view>

using namespace livefour;

namespace {

struct expected_class {
    int code;
    condition cond;
    bool retryable;
};

// Every code of spec §5 with the classification the design asks for.
constexpr expected_class spec_codes[] = {
    {3, condition::bad_request, false},  {4, condition::auth, false},         {5, condition::auth, false},
    {6, condition::auth, false},         {9, condition::auth, false},         {10, condition::auth, false},
    {11, condition::auth, false},        {12, condition::auth, false},        {13, condition::auth, false},
    {14, condition::auth, false},        {15, condition::rate_limit, true},   {16, condition::auth, false},
    {21, condition::bad_request, false}, {23, condition::bad_request, false}, {24, condition::auth, false},
    {107, condition::server, true},      {108, condition::server, true},      {213, condition::server, false},
    {-4006, condition::verdict, false},  {-4007, condition::verdict, false},  {-4009, condition::verdict, false},
    {-4010, condition::verdict, false},  {-4011, condition::verdict, false},  {-4012, condition::verdict, false},
    {-4015, condition::verdict, false},  {-4016, condition::verdict, false},  {-4017, condition::verdict, false},
    {-4018, condition::verdict, false},  {-5001, condition::verdict, false},  {-5002, condition::verdict, false},
    {-5005, condition::verdict, false},  {-5007, condition::verdict, false},  {-5008, condition::verdict, false},
    {-5009, condition::verdict, false},  {-5010, condition::verdict, false},  {-5011, condition::verdict, false},
    {-5012, condition::verdict, false},  {-5013, condition::verdict, false},  {-5014, condition::verdict, false},
    {-5015, condition::verdict, false},  {-5016, condition::verdict, false},  {-5801, condition::identity, false},
    {-5802, condition::server, false},   {-5803, condition::identity, false}, {-5804, condition::identity, false},
    {-5805, condition::identity, false},
};

// The provider's general list (research notes §5.1) and the -5806/-5807 additions.
constexpr int general_codes[] = {-1101, -1102, -1103, -1104, -1105, -1106, -1107, -1108, -1109, -1200,
                                 -1300, -1301, -1302, -1303, -1304, -1305, -1306, -1307, -1308, -1309,
                                 -1310, -1311, -1312, -1313, -1400, -1403, -5806, -5807};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

TEST_CASE("errors: category names") {
    CHECK(std::string_view(api_category().name()) == "livefour.api");
    CHECK(std::string_view(client_category().name()) == "livefour.client");
    CHECK(std::string_view(condition_category().name()) == "livefour.condition");
}

TEST_CASE("errors: every code of spec §5 has a message and the right classification") {
    for (const auto& e : spec_codes) {
        CAPTURE(e.code);
        const error_code ec = make_api_error(e.code);
        CHECK(ec.category() == api_category());
        CHECK_FALSE(starts_with(api_message(e.code), "unknown"));
        CHECK(ec.message() == api_message(e.code));
        CHECK(condition_of(ec) == e.cond);
        CHECK(ec == e.cond);  // through the condition category's equivalent()
        CHECK(is_retryable(ec) == e.retryable);
        CHECK_FALSE(is_fatal_for_connection(ec));  // a complete reply: the connection is fine
        for (int other = static_cast<int>(condition::auth); other <= static_cast<int>(condition::transport); ++other)
            if (other != static_cast<int>(e.cond)) CHECK(ec != static_cast<condition>(other));
    }
    // The enumerators are the wire values.
    CHECK(make_error_code(api_error::rate_limited) == make_api_error(15));
    CHECK(make_error_code(api_error::not_live) == make_api_error(-5016));
    CHECK(make_error_code(api_error::no_image) == make_api_error(-5805));
    CHECK(api_message(3).find("arrears") != std::string::npos);
    CHECK(api_message(-5008).find("wrong digits") != std::string::npos);
}

TEST_CASE("errors: the general list (-1101..-1403) has messages too") {
    for (int code : general_codes) {
        CAPTURE(code);
        CHECK_FALSE(starts_with(api_message(code), "unknown"));
        CHECK_FALSE(is_retryable(make_api_error(code)));
        CHECK(condition_of(make_api_error(code)).has_value());
    }
    CHECK(make_api_error(-1101) == condition::verdict);
    CHECK(make_api_error(-1300) == condition::bad_request);
    CHECK(make_api_error(-1200) == condition::server);
    CHECK(make_api_error(-5806) == condition::identity);
}

TEST_CASE("errors: unknown API codes are kept as numbers") {
    CHECK(api_message(999) == "unknown API code 999");
    CHECK(api_message(-7777) == "unknown API code -7777");
    const error_code ec = make_api_error(999);
    CHECK(ec.value() == 999);
    CHECK(ec.message() == "unknown API code 999");
    CHECK_FALSE(condition_of(ec).has_value());
    CHECK_FALSE(is_retryable(ec));
    // Unlisted codes inside a documented range still get that range's condition.
    CHECK(condition_of(make_api_error(-5099)) == condition::verdict);
    CHECK(condition_of(make_api_error(-4999)) == condition::verdict);
    CHECK(condition_of(make_api_error(-5899)) == condition::identity);
    CHECK_FALSE(make_api_error(0));
    CHECK_FALSE(condition_of(error_code{}).has_value());
    CHECK_FALSE(is_retryable(error_code{}));
    CHECK_FALSE(is_fatal_for_connection(error_code{}));
}

TEST_CASE("errors: every client_error has its own message and a condition") {
    std::set<std::string> messages;
    const int first = static_cast<int>(client_error::bad_endpoint);
    const int last = static_cast<int>(client_error::proxy_bad_response);
    for (int v = first; v <= last; ++v) {
        CAPTURE(v);
        const error_code ec = make_error_code(static_cast<client_error>(v));
        CHECK(ec.category() == client_category());
        CHECK_FALSE(starts_with(ec.message(), "unknown"));
        CHECK(messages.insert(ec.message()).second);
        CHECK(condition_of(ec).has_value());
    }
    CHECK(starts_with(make_error_code(static_cast<client_error>(last + 1)).message(), "unknown client error"));

    CHECK(error_code(client_error::missing_credentials) == condition::auth);
    CHECK(error_code(client_error::upload_too_large) == condition::bad_request);
    CHECK(error_code(client_error::non_json_response) == condition::server);
    CHECK(error_code(client_error::malformed_response) == condition::server);
    CHECK(error_code(client_error::connect_timeout) == condition::transport);
    CHECK(error_code(client_error::tls_hostname_mismatch) == condition::transport);
    CHECK(error_code(client_error::similarity_below_threshold) == condition::verdict);
}

TEST_CASE("errors: retryable client errors and transport errors") {
    for (auto e : {client_error::resolve_timeout, client_error::connect_timeout, client_error::handshake_timeout,
                   client_error::connection_closed, client_error::stall_timeout}) {
        CAPTURE(static_cast<int>(e));
        CHECK(is_retryable(e));
        CHECK(is_fatal_for_connection(e));
    }
    for (auto e :
         {client_error::deadline_exceeded, client_error::upload_too_large, client_error::non_json_response,
          client_error::tls_verification_failed, client_error::missing_credentials, client_error::retries_exhausted}) {
        CAPTURE(static_cast<int>(e));
        CHECK_FALSE(is_retryable(e));
    }

    namespace ae = boost::asio::error;
    const error_code transient[] = {
        ae::connection_refused,
        ae::connection_reset,
        ae::broken_pipe,
        ae::eof,
        ae::timed_out,
        ae::host_unreachable,
        ae::network_unreachable,
        make_error_code(boost::beast::error::timeout),
        make_error_code(boost::asio::ssl::error::stream_truncated),
    };
    for (const auto& ec : transient) {
        CAPTURE(ec.message());
        CHECK(is_retryable(ec));
        CHECK(is_fatal_for_connection(ec));
        CHECK(ec == condition::transport);  // foreign categories classify too
    }

    const error_code aborted = ae::operation_aborted;
    CHECK_FALSE(is_retryable(aborted));
    CHECK(is_fatal_for_connection(aborted));  // a cancelled exchange leaves the stream mid-message
    CHECK_FALSE(condition_of(aborted).has_value());

    const error_code bad_reply = boost::beast::http::error::bad_status;
    CHECK(bad_reply == condition::server);
    CHECK_FALSE(is_retryable(bad_reply));
    CHECK(is_fatal_for_connection(bad_reply));
    CHECK(error_code(boost::beast::http::error::end_of_stream) == condition::transport);
    CHECK(error_code(ae::host_not_found) == condition::transport);
}

TEST_CASE("errors: connection reuse after client errors") {
    // Decided before a byte was written, or on a complete reply: the connection stays usable.
    for (auto e : {client_error::bad_endpoint, client_error::insecure_http_refused, client_error::missing_credentials,
                   client_error::invalid_argument, client_error::invalid_field, client_error::upload_too_large,
                   client_error::invalid_signature_validity, client_error::similarity_below_threshold}) {
        CAPTURE(static_cast<int>(e));
        CHECK_FALSE(is_fatal_for_connection(e));
    }
    // Mid-exchange: half-sent body, unread or unparsable reply.
    for (auto e :
         {client_error::file_changed_size, client_error::source_failed, client_error::response_too_large,
          client_error::header_too_large, client_error::non_json_response, client_error::malformed_response,
          client_error::stall_timeout, client_error::deadline_exceeded, client_error::tls_verification_failed}) {
        CAPTURE(static_cast<int>(e));
        CHECK(is_fatal_for_connection(e));
    }
}

TEST_CASE("errors: conditions compare with error_code of both categories") {
    const error_code rate = api_error::rate_limited;
    CHECK(rate == condition::rate_limit);
    CHECK(condition::rate_limit == rate);
    CHECK(rate != condition::auth);
    CHECK(error_code(api_error::signature_expired) == condition::auth);
    CHECK(error_code(client_error::connect_timeout) != condition::rate_limit);
    const boost::system::error_condition cond = condition::identity;
    CHECK(cond.category() == condition_category());
    CHECK(cond.message() == "identity check failed");
    // std::error_code interoperability (Boost.System converts)
    const std::error_code std_ec = rate;
    CHECK(std_ec.value() == 15);
    CHECK(std::string(std_ec.category().name()) == "livefour.api");
}
