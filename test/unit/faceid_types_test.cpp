// API 3.0 replies (src/faceid_types.cpp): the `Response` envelope whatever the HTTP status, every
// error shape, hostile fields, and decide().
#include <doctest/doctest.h>

#include <livefour/faceid/types.hpp>

using livefour::client_error;
using livefour::diagnostics;
using livefour::error_code;
namespace faceid = livefour::faceid;

TEST_CASE("faceid replies: success, Response.Error (known, family, unknown), and unusable replies") {
    diagnostics d;
    faceid::live_code_result code;
    CHECK_FALSE(
        faceid::parse_live_code_response(R"({"Response":{"LiveCode":"4392","RequestId":"r-1"}})", 200, code, d));
    CHECK(code.live_code == "4392");
    CHECK(code.request_id == "r-1");
    CHECK(d.request_id() == "r-1");

    struct err {
        const char* code;
        error_code expected;
    };
    const err errors[] = {
        {"AuthFailure.SignatureFailure", faceid::errc::auth_failure_signature_failure},
        {"RequestLimitExceeded.BrandNew", faceid::errc::request_limit_exceeded},  // its family
        {"NeverHeardOf.This", faceid::errc::unknown},
    };
    for (const auto& e : errors) {
        CAPTURE(e.code);
        diagnostics dd;
        faceid::live_code_result r;
        const std::string body = std::string(R"({"Response":{"Error":{"Code":")") + e.code +
                                 R"(","Message":"m\u0001sg"},"RequestId":"r-2"}})";
        CHECK(faceid::parse_live_code_response(body, 200, r, dd) == e.expected);
        CHECK(dd.server_code() == e.code);
        CHECK(dd.request_id() == "r-2");
        CHECK(dd.server_message() == "m sg");  // control characters do not reach a log
        CHECK(dd.http_status() == 200);
    }

    struct bad {
        const char* body;
        int status;
        error_code expected;
    };
    const bad bads[] = {
        {"<html>502 Bad Gateway</html>", 502, client_error::non_json_response},
        {"[1,2]", 200, client_error::non_json_response},
        {R"({"code":0})", 200, client_error::malformed_response},
        {R"({"Response":[]})", 200, client_error::malformed_response},
        {R"({"Response":{"Error":"x"}})", 200, client_error::malformed_response},
        {R"({"Response":{"Error":{"Message":"no code"}}})", 200, client_error::malformed_response},
        {R"({"Response":{"RequestId":"r"}})", 200, client_error::malformed_response},  // no LiveCode
        {R"({"Response":{"LiveCode":4392}})", 200, client_error::malformed_response},
        {R"({"Response":{"LiveCode":""}})", 200, client_error::malformed_response},
        {R"({"Response":{"LiveCode":"4392"}})", 500, client_error::malformed_response},
    };
    for (const auto& b : bads) {
        CAPTURE(b.body);
        diagnostics dd;
        faceid::live_code_result r;
        CHECK(faceid::parse_live_code_response(b.body, b.status, r, dd) == b.expected);
        CHECK_FALSE(dd.client_message().empty());
    }
    // An error envelope is an error whatever the status.
    faceid::live_code_result r;
    diagnostics dd;
    CHECK(faceid::parse_live_code_response(R"({"Response":{"Error":{"Code":"InternalError"}}})", 500, r, dd) ==
          faceid::errc::internal_error);
}

TEST_CASE("faceid replies: liveness results and decide()") {
    auto parse = [](const std::string& body) {
        diagnostics d;
        faceid::liveness_result r;
        const auto ec = faceid::parse_liveness_response(body, 200, r, d);
        REQUIRE_MESSAGE(!ec, d.client_message());
        return r;
    };
    const auto ok = parse(
        R"({"Response":{"Result":"Success","Description":"成功","Sim":88.27,"BestFrameBase64":"/9j/4A==","BestFrameList":["AA==","AQ=="],"RequestId":"r"}})");
    CHECK(ok.sim == doctest::Approx(88.27));
    CHECK(ok.best_frames.size() == 2);
    CHECK(ok.decode_best_frame().value() == std::string("\xff\xd8\xff\xe0", 4));
    CHECK(faceid::decide(ok).accepted());
    CHECK(faceid::decide(ok, {.threshold = 90}).kind == livefour::verdict_kind::below_threshold);
    CHECK(faceid::decide(ok, {.threshold = 90}).reason == client_error::similarity_below_threshold);

    const auto lip = parse(R"({"Response":{"Result":"FailedOperation.LipVoiceLow","Description":"x","Sim":0}})");
    CHECK_FALSE(lip.sim);  // Sim 0 with a failed Result: nothing was compared
    CHECK(lip.outcome() == faceid::errc::failed_operation_lip_voice_low);
    CHECK(faceid::decide(lip).kind == livefour::verdict_kind::not_live);
    CHECK(faceid::decide(lip).reason == faceid::errc::failed_operation_lip_voice_low);

    const auto low = parse(R"({"Response":{"Result":"FailedOperation.CompareLowSimilarity","Sim":55.5}})");
    CHECK(faceid::decide(low).kind == livefour::verdict_kind::compare_failed);
    CHECK(faceid::decide(low).sim == doctest::Approx(55.5));

    const auto id = parse(R"({"Response":{"Result":"FailedOperation.IdNameMisMatch"}})");
    CHECK(faceid::decide(id).kind == livefour::verdict_kind::compare_failed);

    const auto unknown = parse(R"({"Response":{"Result":"FailedOperation.NewThing"}})");
    CHECK(unknown.outcome() == faceid::errc::unknown);
    CHECK_FALSE(faceid::decide(unknown).accepted());

    const auto nosim = parse(R"({"Response":{"Result":"Success"}})");
    CHECK(faceid::decide(nosim).kind == livefour::verdict_kind::no_comparison);

    for (const char* body :
         {R"({"Response":{"Result":"Success","Sim":"88"}})", R"({"Response":{"Result":"Success","Sim":100.5}})",
          R"({"Response":{"Result":"Success","Sim":-1}})", R"({"Response":{"Result":"Success","BestFrameList":[1]}})",
          R"({"Response":{"Result":7}})", R"({"Response":{"Sim":80}})"}) {
        CAPTURE(body);
        diagnostics d;
        faceid::liveness_result r;
        CHECK(faceid::parse_liveness_response(body, 200, r, d) == client_error::malformed_response);
    }
}
