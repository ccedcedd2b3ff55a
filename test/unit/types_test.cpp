// Reply parsing (spec §1, §3, §4), the accept/reject decision, JSON output.
#include <doctest/doctest.h>

#include <livefour/detail/crypto.hpp>
#include <livefour/types.hpp>

#include <string>

using namespace livefour;

namespace {

// The livegetfour sample of the provider's page, with its stray trailing comma (research §2).
constexpr std::string_view provider_digits_sample = R"({
    "data":{
        "validate_data": "9532",
    },
    "code":0,
    "message":"OK"
})";

// Observed livedetectfour replies (research §3.1): failures inside `data` with code 0.
constexpr std::string_view observed_audio_failure =
    R"({"code":0,"message":"OK","data":{"live_msg":"VIDEO_AUDIO_RECOG_FAILED","live_status":-5008}})";
constexpr std::string_view observed_wrong_digits =
    R"({"code":0,"message":"OK","data":{"compare_msg":"VIDEO_FACE_GETIMAGE_FAILED","compare_status":-5005,)"
    R"("live_status":-5008,"live_msg":"VIDEO_AUDIO_RECOG_FAILED"}})";

const std::string jpeg_bytes = std::string("\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11);

std::string success_reply(std::string_view photo_field = "photo") {
    return R"({"data":{"live_status":0,"live_msg":"LIVE_SUCCESS","compare_status":0,"compare_msg":"COMPARE_SUCCESS",)"
           R"("sim":87,")" +
           std::string(photo_field) + R"(":")" + detail::base64_encode(jpeg_bytes) + R"("},"code":0,"message":"OK"})";
}

detect_result detect(std::optional<int> live, std::optional<int> compare, std::optional<int> sim, int code = 0) {
    detect_result r;
    r.code = code;
    r.live_status = live;
    r.compare_status = compare;
    r.sim = sim;
    return r;
}

}  // namespace

TEST_CASE("types: provider's livegetfour sample, trailing comma included") {
    digits_result r;
    diagnostics d;
    const error_code ec = parse_digits_response(provider_digits_sample, 200, r, d);
    CHECK_FALSE(ec);
    CHECK(r.code == 0);
    CHECK(r.message == "OK");
    CHECK(r.validate_data == "9532");
    CHECK(d.http_status() == 200);
    CHECK(d.server_message() == "OK");
    CHECK(d.client_message().empty());
    // spec §3 form, keys in another order
    CHECK_FALSE(parse_digits_response(R"({"code":0,"message":"OK","data":{"validate_data":"1234"}})", 200, r, d));
    CHECK(r.validate_data == "1234");
}

TEST_CASE("types: observed livedetectfour replies") {
    detect_result r;
    diagnostics d;
    CHECK_FALSE(parse_detect_response(observed_audio_failure, 200, r, d));
    CHECK(r.live_status == -5008);
    CHECK(r.live_msg == "VIDEO_AUDIO_RECOG_FAILED");
    CHECK_FALSE(r.compare_status);
    CHECK_FALSE(r.sim);
    CHECK(r.photo.empty());

    CHECK_FALSE(parse_detect_response(observed_wrong_digits, 200, r, d));
    CHECK(r.live_status == -5008);
    CHECK(r.compare_status == -5005);
    CHECK(r.compare_msg == "VIDEO_FACE_GETIMAGE_FAILED");
    const verdict v = decide(r);
    CHECK(v.kind == verdict_kind::not_live);
    CHECK(v.reason == api_error::speech_recognition_failed);
}

TEST_CASE("types: successful comparison, photo or video_photo") {
    for (std::string_view field : {"photo", "video_photo"}) {
        CAPTURE(field);
        detect_result r;
        diagnostics d;
        CHECK_FALSE(parse_detect_response(success_reply(field), 200, r, d));
        CHECK(r.live_status == 0);
        CHECK(r.compare_status == 0);
        CHECK(r.sim == 87);
        CHECK(r.decode_photo() == jpeg_bytes);
        CHECK(decide(r).accepted());
        CHECK(decide(r).sim == 87);
    }
}

TEST_CASE("types: error envelope with HTTP 400") {
    detect_result r;
    diagnostics d;
    const error_code ec = parse_detect_response(R"({"code":3,"message":"invalid request"})", 400, r, d);
    CHECK(ec == api_error::bad_request);
    CHECK(ec == condition::bad_request);
    CHECK(r.code == 3);
    CHECK(r.message == "invalid request");
    CHECK(d.http_status() == 400);
    CHECK(d.server_message() == "invalid request");
    CHECK(d.client_message().find("HTTP 400") != std::string::npos);
    CHECK(d.client_message().find("API error 3") != std::string::npos);

    digits_result g;
    CHECK(parse_digits_response(R"({"code":15,"message":"too frequent"})", 200, g, d) == api_error::rate_limited);
    CHECK(g.code == 15);
    CHECK(g.message == "too frequent");
    CHECK(d.http_status() == 200);
}

TEST_CASE("types: non-JSON bodies keep the HTTP status") {
    const std::string html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\x1b[31m" +
                             std::string(500, 'x') + "</body></html>";
    detect_result r;
    diagnostics d;
    CHECK(parse_detect_response(html, 502, r, d) == client_error::non_json_response);
    CHECK(d.http_status() == 502);
    CHECK(d.client_message().find("HTTP 502") != std::string::npos);
    CHECK(d.client_message().find("not a JSON object") != std::string::npos);
    // an excerpt of the body, bounded and without control characters
    CHECK(d.server_message().find("502 Bad Gateway") != std::string::npos);
    CHECK(d.server_message().size() <= 210);
    CHECK(d.server_message().find('\x1b') == std::string::npos);
    CHECK(d.server_message().find('\n') == std::string::npos);

    digits_result g;
    for (std::string_view body : {"", "   ", "[1,2]", "\"OK\"", "42", "{\"code\":0", "{'code':0}", "null"}) {
        CAPTURE(body);
        CHECK(parse_digits_response(body, 200, g, d) == client_error::non_json_response);
        CHECK(d.http_status() == 200);
    }
}

TEST_CASE("types: wrong types are malformed_response") {
    struct bad {
        std::string_view body;
        std::string_view field;
    };
    const bad detect_cases[] = {
        {R"({"code":"0","message":"OK","data":{"live_status":0}})", "\"code\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"compare_status":0,"sim":"80"}})", "\"data.sim\""},
        {R"({"code":0,"message":"OK","data":{"live_status":"0"}})", "\"data.live_status\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0.5}})", "\"data.live_status\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"compare_status":true}})", "\"data.compare_status\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"live_msg":7}})", "\"data.live_msg\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"photo":[]}})", "\"data.photo\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"compare_status":0,"sim":101}})", "\"data.sim\""},
        {R"({"code":0,"message":"OK","data":{"live_status":0,"compare_status":0,"sim":-1}})", "\"data.sim\""},
        {R"({"code":0,"message":"OK","data":{"live_status":4294967296}})", "\"data.live_status\""},
        {R"({"code":0,"message":"OK","data":"live"})", "\"data\""},
        {R"({"code":0,"message":{},"data":{"live_status":0}})", "\"message\""},
        {R"({"code":0,"message":"OK"})", "\"data.live_status\" missing"},
        {R"({"message":"OK","data":{"live_status":0}})", "\"code\" missing"},
        {R"({"code":null,"message":"OK"})", "\"code\" missing"},
    };
    for (const auto& c : detect_cases) {
        CAPTURE(c.body);
        detect_result r;
        diagnostics d;
        CHECK(parse_detect_response(c.body, 200, r, d) == client_error::malformed_response);
        CHECK(d.client_message().find(c.field) != std::string::npos);
        CHECK(d.http_status() == 200);
    }
    const bad digits_cases[] = {
        {R"({"code":0,"message":"OK","data":{"validate_data":9532}})", "\"data.validate_data\""},
        {R"({"code":0,"message":"OK","data":{}})", "\"data.validate_data\" missing"},
        {R"({"code":0,"message":"OK"})", "\"data.validate_data\" missing"},
        {R"({"code":"0","message":"OK","data":{"validate_data":"9532"}})", "\"code\""},
    };
    for (const auto& c : digits_cases) {
        CAPTURE(c.body);
        digits_result r;
        diagnostics d;
        CHECK(parse_digits_response(c.body, 200, r, d) == client_error::malformed_response);
        CHECK(d.client_message().find(c.field) != std::string::npos);
    }
}

TEST_CASE("types: the API error wins over type problems in data; out still filled") {
    detect_result r;
    diagnostics d;
    const error_code ec =
        parse_detect_response(R"({"code":14,"message":"sign check failed","data":{"live_status":"x"}})", 401, r, d);
    CHECK(ec == api_error::signature_check_failed);
    CHECK(r.code == 14);
    CHECK(r.message == "sign check failed");
    CHECK(d.http_status() == 401);
}

TEST_CASE("types: unknown fields ignored, null read as absent") {
    detect_result r;
    diagnostics d;
    const std::string_view body =
        R"({"code":0,"message":"OK","request_id":"abc","extra":{"nested":[1,2,{"x":null}]},)"
        R"("data":{"live_status":0,"live_msg":"OK","compare_status":null,"sim":null,"photo":null,"future":1.5,},})";
    CHECK_FALSE(parse_detect_response(body, 200, r, d));
    CHECK(r.live_status == 0);
    CHECK_FALSE(r.compare_status);
    CHECK_FALSE(r.sim);
    CHECK(r.photo.empty());

    digits_result g;
    CHECK_FALSE(
        parse_digits_response(R"({"code":0,"data":{"validate_data":"0042","seq":"s1"},"bucket":"b"})", 200, g, d));
    CHECK(g.validate_data == "0042");
    CHECK(g.message.empty());
    CHECK(d.server_message().empty());
}

TEST_CASE("types: a parse resets the previous result and diagnostics") {
    detect_result r;
    diagnostics d;
    CHECK_FALSE(parse_detect_response(success_reply(), 200, r, d));
    CHECK(parse_detect_response(R"({"code":9,"message":"expired"})", 403, r, d) == api_error::signature_expired);
    CHECK_FALSE(r.sim);
    CHECK_FALSE(r.live_status);
    CHECK(r.photo.empty());
    CHECK_FALSE(parse_detect_response(observed_audio_failure, 200, r, d));
    CHECK(d.client_message().empty());
    CHECK(d.http_status() == 200);
}

TEST_CASE("types: decode_photo") {
    detect_result r;
    CHECK_FALSE(r.decode_photo());
    r.photo = "not base64!";
    CHECK_FALSE(r.decode_photo());
    r.photo = detail::base64_encode(jpeg_bytes);
    CHECK(r.decode_photo() == jpeg_bytes);
}

TEST_CASE("types: decide() — every branch in the provider's order") {
    SUBCASE("code first, even if data looks fine") {
        const verdict v = decide(detect(0, 0, 99, 14));
        CHECK(v.kind == verdict_kind::api_error);
        CHECK(v.reason == api_error::signature_check_failed);
        CHECK_FALSE(v.accepted());
    }
    SUBCASE("live_status before compare_status") {
        const verdict v = decide(detect(-5016, -4007, std::nullopt));
        CHECK(v.kind == verdict_kind::not_live);
        CHECK(v.reason == api_error::not_live);
    }
    SUBCASE("missing live_status is not live") {
        const verdict v = decide(detect(std::nullopt, std::nullopt, std::nullopt));
        CHECK(v.kind == verdict_kind::not_live);
        CHECK(v.reason == client_error::malformed_response);
    }
    SUBCASE("compare_status before sim") {
        const verdict v = decide(detect(0, -4009, 95));
        CHECK(v.kind == verdict_kind::compare_failed);
        CHECK(v.reason == api_error::card_feature_failed);
        CHECK(v.sim == 95);
    }
    SUBCASE("comparison succeeded without sim") {
        const verdict v = decide(detect(0, 0, std::nullopt));
        CHECK(v.kind == verdict_kind::compare_failed);
        CHECK(v.reason == client_error::malformed_response);
    }
    SUBCASE("liveness only") {
        const verdict v = decide(detect(0, std::nullopt, std::nullopt));
        CHECK(v.accepted());
        CHECK_FALSE(v.reason);
        CHECK(v.sim == -1);
        const verdict strict = decide(detect(0, std::nullopt, std::nullopt), {70, true});
        CHECK(strict.kind == verdict_kind::no_comparison);
        CHECK(strict.reason == client_error::comparison_missing);
    }
    SUBCASE("threshold 70 (default) boundaries") {
        CHECK(decide(detect(0, 0, 70)).accepted());
        CHECK(decide(detect(0, 0, 100)).accepted());
        const verdict below = decide(detect(0, 0, 69));
        CHECK(below.kind == verdict_kind::below_threshold);
        CHECK(below.reason == client_error::similarity_below_threshold);
        CHECK(below.reason == condition::verdict);
        CHECK(below.sim == 69);
        CHECK(decide(detect(0, 0, 0)).kind == verdict_kind::below_threshold);
    }
    SUBCASE("threshold 80 boundaries") {
        const decision_policy p{80, false};
        CHECK(decide(detect(0, 0, 80), p).accepted());
        CHECK(decide(detect(0, 0, 79), p).kind == verdict_kind::below_threshold);
        CHECK(decide(detect(0, 0, 70), p).kind == verdict_kind::below_threshold);
    }
}

TEST_CASE("types: to_json mirrors the wire reply and parses back") {
    detect_result r;
    diagnostics d;
    REQUIRE_FALSE(parse_detect_response(success_reply(), 200, r, d));
    detect_result back;
    REQUIRE_FALSE(parse_detect_response(to_json(r), 200, back, d));
    CHECK(back.live_status == r.live_status);
    CHECK(back.live_msg == r.live_msg);
    CHECK(back.compare_status == r.compare_status);
    CHECK(back.compare_msg == r.compare_msg);
    CHECK(back.sim == r.sim);
    CHECK(back.photo == r.photo);

    REQUIRE_FALSE(parse_detect_response(observed_audio_failure, 200, r, d));
    const std::string liveness_only = to_json(r);
    CHECK(liveness_only.find("compare_status") == std::string::npos);
    CHECK(liveness_only.find("sim") == std::string::npos);
    CHECK(liveness_only.find("photo") == std::string::npos);

    digits_result g;
    g.message = "OK";
    g.validate_data = "9532";
    CHECK(to_json(g) == R"({"code":0,"message":"OK","data":{"validate_data":"9532"}})");
    // strings are escaped, not pasted
    g.message = "a\"b\n";
    digits_result g2;
    REQUIRE_FALSE(parse_digits_response(to_json(g), 200, g2, d));
    CHECK(g2.message == "a\"b\n");
}
