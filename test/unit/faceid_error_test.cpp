// The faceid (API 3.0) error table: every row round-trips, unknown strings stay unknown, the
// category and conditions behave like livefour's other categories.
#include <doctest/doctest.h>

#include <livefour/error.hpp>
#include <livefour/faceid/error.hpp>

#include <set>
#include <string>

namespace fe = livefour::faceid;
using fe::errc;
using livefour::condition;

TEST_CASE("faceid table: every row round-trips wire -> errc -> wire, with a message") {
    const auto rows = fe::codes();
    REQUIRE(rows.size() >= 100);  // api3.md §3–4 list over a hundred codes
    std::set<std::string_view> wires;
    std::set<int> values;
    for (const auto& row : rows) {
        CAPTURE(row.wire);
        CHECK(!row.wire.empty());
        CHECK(wires.insert(row.wire).second);                     // no duplicate wire strings
        CHECK(values.insert(static_cast<int>(row.code)).second);  // no duplicate enumerators
        CHECK(fe::error_for(row.wire) == row.code);
        CHECK(fe::wire_code(row.code) == row.wire);
        CHECK(&fe::info(row.code) == &row);
        CHECK(&fe::classify(row.wire) == &row);
        CHECK(!row.message.empty());
        CHECK(row.cond.has_value());
        const livefour::error_code ec = fe::make_error_code(row.code);
        CHECK(ec);
        CHECK(ec.message() == row.message);
        CHECK(livefour::condition_of(ec) == row.cond);
        CHECK(ec == *row.cond);
    }
    CHECK(values.count(static_cast<int>(errc::unknown)) == 0);
}

TEST_CASE("faceid codes named by api3.md are in the table, exactly as spelled") {
    // A sample from each list of api3.md, typos of the service included.
    for (std::string_view w :
         {"AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound", "RequestLimitExceeded.IPLimitExceeded",
          "InternalError.UnKnown", "FailedOperation.UnKnown", "FailedOperation.LipVideoQuaility",
          "FailedOperation.LivessSystemError", "FailedOperation.IdNameMisMatch", "FailedOperation.StsUnAuthErrError",
          "InvalidParameter.UnsupportEncryptField", "UnauthorizedOperation.Nonactivated", "ResponseSizeLimitExceeded",
          "FailedOperation.CompareLowSimilarity", "FailedOperation.SilentTooShort",
          "FailedOperation.ActionOpenMouth"}) {
        CAPTURE(w);
        CHECK(fe::error_for(w) != errc::unknown);
    }
    CHECK(fe::error_for("AuthFailure.SignatureExpire") == errc::auth_failure_signature_expire);
    CHECK(fe::error_for("FailedOperation.LipVoiceLow") == errc::failed_operation_lip_voice_low);
}

TEST_CASE("faceid unknown strings map to unknown; Success to a clear code") {
    for (std::string_view w : {"", "NoSuchCode", "authfailure.signatureexpire", "AuthFailure.SignatureExpire ",
                               "FailedOperation.LipVoiceLo", "Success.", "success"}) {
        CAPTURE(w);
        CHECK(fe::error_for(w) == errc::unknown);
    }
    CHECK(fe::error_for("Success") == errc{});
    CHECK(!fe::make_error_code(fe::error_for("Success")));
    CHECK(fe::wire_code(errc{}) == "Success");
    CHECK(fe::wire_code(errc::unknown).empty());
    CHECK(fe::wire_code(static_cast<errc>(100000)).empty());
    const livefour::error_code unknown = errc::unknown;
    CHECK(unknown.message() == "faceid code not in livefour's table");
    CHECK(!livefour::condition_of(unknown));
    CHECK(fe::info(static_cast<errc>(-3)).code == errc::unknown);
}

TEST_CASE("faceid classify(): a new code of a known family is treated like its family") {
    CHECK(fe::classify("RequestLimitExceeded.SomeNewLimit").retry == fe::retry_class::throttle);
    CHECK(fe::classify("InternalError.Whatever").retry == fe::retry_class::retry);
    CHECK(fe::classify("InternalError.Whatever").code == errc::internal_error);
    CHECK(fe::classify("UnauthorizedOperation.NewReason").cond == condition::auth);
    CHECK(fe::classify("AuthFailure.Brand.New").code == errc::unknown);  // no "AuthFailure" row
    CHECK(fe::classify("Nothing").code == errc::unknown);
    CHECK(fe::classify("").code == errc::unknown);
}

TEST_CASE("faceid retry classes and billing: the decisions docs/errors.md justifies") {
    using rc = fe::retry_class;
    CHECK(fe::info(errc::auth_failure_signature_expire).retry == rc::resign_once);
    CHECK(fe::info(errc::request_limit_exceeded).retry == rc::throttle);
    CHECK(fe::info(errc::request_limit_exceeded_uin_limit_exceeded).retry == rc::throttle);
    CHECK(fe::info(errc::internal_error).retry == rc::retry);
    CHECK(fe::info(errc::service_unavailable).retry == rc::retry);
    CHECK(fe::info(errc::failed_operation_detect_engine_system_error).retry == rc::retry);
    CHECK(fe::info(errc::auth_failure_signature_failure).retry == rc::never);
    CHECK(fe::info(errc::failed_operation_request_limit_exceeded).retry == rc::never);  // a quota
    CHECK(fe::info(errc::request_size_limit_exceeded).retry == rc::never);
    std::set<std::string_view> billed, resign;
    for (const auto& row : fe::codes()) {
        if (row.billed) billed.insert(row.wire);
        if (row.retry == rc::resign_once) resign.insert(row.wire);
        if (row.billed) CHECK(row.retry == rc::never);  // a billed outcome is never resent
        if (row.retry == rc::throttle) CHECK(row.cond == condition::rate_limit);
    }
    CHECK(billed ==
          std::set<std::string_view>{"FailedOperation.CompareLowSimilarity", "FailedOperation.IdNameMisMatch"});
    CHECK(resign == std::set<std::string_view>{"AuthFailure.SignatureExpire"});
}

TEST_CASE("faceid category: name, id-based equality, no clash with the other categories") {
    CHECK(std::string(fe::category().name()) == "livefour.faceid");
    const livefour::error_code a = errc::internal_error;
    const livefour::error_code legacy = livefour::api_error::internal_error;
    CHECK(a != legacy);
    CHECK(a.category() != livefour::api_category());
    CHECK(a.category() != livefour::client_category());
    CHECK(a == errc::internal_error);
    CHECK(fe::make_error_code(errc{}).message() == "success");
}
