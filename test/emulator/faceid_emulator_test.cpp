// The emulator's API 3.0 logic without sockets: the streaming JSON/base64 scanner, TC3
// verification (including the published faceid vector of api3.md §1.4, independent of our
// signer), the actions and verdicts, the X-Emulator-Force switches, faults and stats.
#include <doctest/doctest.h>

#include "faults.hpp"
#include "json_stream.hpp"
#include "options.hpp"
#include "service.hpp"
#include "tc3_auth.hpp"

#include <livefour/detail/crypto.hpp>
#include <livefour/detail/tc3.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <random>
#include <string>
#include <vector>

using namespace livefour::emulator;
namespace json = boost::json;
namespace t3 = livefour::detail::tc3;

namespace {

std::string sha_hex(std::string_view s) { return livefour::detail::to_hex(livefour::detail::sha256(s)); }
std::string b64(std::string_view s) { return livefour::detail::base64_encode(s); }

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

const std::string mp4_video = std::string("\0\0\0\x20", 4) + "ftypisom" + random_bytes(5000, 1);
const std::string jpeg_image = "\xFF\xD8\xFF\xE0" + random_bytes(700, 2);

json_body_scanner scan(std::string_view body, std::size_t slice = 0) {
    json_body_scanner s;
    if (slice == 0) {
        s.feed(body);
    } else {
        for (std::size_t i = 0; i < body.size(); i += slice) s.feed(body.substr(i, slice));
    }
    s.finish();
    return s;
}

auth_config keys() {
    auth_config a;
    a.credentials = {{"1250000000", "AKIDEXAMPLE", "SECRETKEYEXAMPLE"}};
    return a;
}

// A request as a client would send it, signed with detail::tc3 at time `ts`.
struct request {
    tc3_head head;
    std::string body;
};

request make_request(std::string action, std::string body, std::int64_t ts, std::string_view key = "SECRETKEYEXAMPLE",
                     bool unsigned_payload = false, std::vector<std::pair<std::string, std::string>> extra = {}) {
    request r;
    r.body = std::move(body);
    r.head.method = "POST";
    r.head.headers = {{"host", "faceid.tencentcloudapi.com"},
                      {"content-type", "application/json"},
                      {"x-tc-action", std::move(action)},
                      {"x-tc-version", "2018-03-01"},
                      {"x-tc-timestamp", std::to_string(ts)}};
    for (auto& h : extra) r.head.headers.push_back(std::move(h));
    if (unsigned_payload) r.head.headers.emplace_back("x-tc-content-sha256", "UNSIGNED-PAYLOAD");
    const std::vector<t3::header> signed_headers = {{"content-type", "application/json"},
                                                    {"host", "faceid.tencentcloudapi.com"}};
    const std::string hash = sha_hex(r.body);
    t3::sign_input in;
    in.headers = signed_headers;
    in.payload_hash = unsigned_payload ? t3::unsigned_payload : std::string_view(hash);
    in.secret_id = "AKIDEXAMPLE";
    in.secret_key = key;
    in.service = "faceid";
    in.timestamp = ts;
    r.head.headers.emplace_back("authorization", t3::sign(in).authorization);
    return r;
}

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// What the session does with a complete request: header check, body through the scanner and
// the payload hash, then the action.
json::object run(service& svc, const request& r) {
    auto check = svc.authenticate_tc3(r.head, now());
    const auto scanner = scan(r.body);
    check_body(check, r.head, svc.tc3(), sha_hex(r.body));
    const auto reply = svc.faceid(r.head, check, scanner);
    CHECK(reply.http_status == 200);
    const auto v = json::parse(reply.body);
    const auto& response = v.at("Response").as_object();
    CHECK(response.at("RequestId").as_string().size() == 36);
    return response;
}

std::string error_code_of(const json::object& response) {
    const auto* e = response.if_contains("Error");
    return e ? std::string(e->at("Code").as_string()) : std::string{};
}

std::string compare_body(std::string_view code, std::string_view type = "LIP") {
    return R"({"LivenessType":")" + std::string(type) + R"(","ValidateData":")" + std::string(code) +
           R"(","ImageBase64":")" + b64(jpeg_image) + R"(","VideoBase64":")" + b64(mp4_video) + R"("})";
}

}  // namespace

TEST_CASE("json scanner: small members kept, media decoded and hashed, in any slicing") {
    const std::string body = R"( { "LivenessType" : "LIP", "Name":"\u5f20\u4e09 \ud83d\ude00", "n": -1.5e3,
        "ok": true, "none": null, "Encryption": {"EncryptList": ["IdCard"], "Iv": "x}]"}, "VideoBase64": ")" +
                             b64(mp4_video) + R"(", "ImageBase64":")" + b64(jpeg_image) + "\"}\n";
    for (std::size_t slice : {0, 1, 2, 3, 7, 4096}) {
        CAPTURE(slice);
        const auto s = scan(body, slice);
        INFO(s.error());
        REQUIRE(s.failed() == json_body_scanner::failure::none);
        CHECK(s.members().at("LivenessType").text == "LIP");
        CHECK(s.members().at("Name").text == "张三 😀");
        CHECK(s.members().at("n").type == json_member::kind::number);
        CHECK(s.members().at("ok").type == json_member::kind::boolean);
        CHECK(s.members().at("none").type == json_member::kind::null);
        CHECK(s.members().at("Encryption").type == json_member::kind::object);
        const auto& v = s.media().at("VideoBase64");
        CHECK(v.size == mp4_video.size());
        CHECK(v.base64_chars == b64(mp4_video).size());
        CHECK(v.sha256_hex == sha_hex(mp4_video));
        CHECK(v.head == mp4_video.substr(0, 256));
        CHECK(s.media().at("ImageBase64").sha256_hex == sha_hex(jpeg_image));
    }
}

TEST_CASE("json scanner: every padding length, and an escaped '/' inside base64") {
    for (std::size_t n = 1; n <= 7; ++n) {
        const std::string data = random_bytes(n, static_cast<unsigned>(n));
        const auto s = scan(R"({"VideoBase64":")" + b64(data) + "\"}", 1);
        CAPTURE(n);
        REQUIRE(s.failed() == json_body_scanner::failure::none);
        CHECK(s.media().at("VideoBase64").sha256_hex == sha_hex(data));
    }
    std::string escaped = b64("\xff\xff\xff\xfe");  // "/////g=="
    REQUIRE(escaped.find('/') != std::string::npos);
    std::string json_escaped;
    for (char c : escaped) json_escaped += c == '/' ? std::string("\\/") : std::string(1, c);
    const auto s = scan(R"({"VideoBase64":")" + json_escaped + "\"}");
    REQUIRE(s.failed() == json_body_scanner::failure::none);
    CHECK(s.media().at("VideoBase64").sha256_hex == sha_hex("\xff\xff\xff\xfe"));
}

TEST_CASE("json scanner: malformed JSON and invalid base64 are told apart") {
    using f = json_body_scanner::failure;
    const std::pair<std::string, f> cases[] = {
        {"[]", f::syntax},
        {"{\"a\":1,}", f::syntax},
        {"{\"a\":1 \"b\":2}", f::syntax},
        {"{\"a\":1,\"a\":2}", f::syntax},
        {"{\"a\":\"x\ny\"}", f::syntax},
        {"{\"a\":01}", f::syntax},
        {"{\"a\":tru}", f::syntax},
        {"{\"a\":\"\\ud800\"}", f::syntax},
        {"{\"a\":1}x", f::syntax},
        {"{\"a\":1", f::syntax},
        {"{\"VideoBase64\":\"QR==\"}", f::base64},      // unused bits set
        {"{\"VideoBase64\":\"QUJ\"}", f::base64},       // not a multiple of 4
        {"{\"VideoBase64\":\"Q===\"}", f::base64},      // misplaced padding
        {"{\"VideoBase64\":\"QQ==QUJD\"}", f::base64},  // data after the padding
        {"{\"VideoBase64\":\"QU JD\"}", f::base64},     // whitespace
        {"{\"VideoBase64\":\"QUJ-\"}", f::base64},      // URL-safe alphabet
        {"{\"VideoBase64\":\"\"}", f::base64},
        {"{\"VideoBase64\":12}", f::base64},
        {"{\"VideoBase64\":\"\\u00e9AAA\"}", f::base64},
        {"{\"a\":\"" + std::string(70000, 'x') + "\"}", f::limit},
    };
    for (const auto& [body, expected] : cases) {
        CAPTURE(body.substr(0, 60));
        const auto s = scan(body, 3);
        CHECK(s.failed() == expected);
        CHECK(!s.error().empty());
    }
    CHECK(scan("{}").failed() == f::none);
    CHECK(scan(" {\"a\":[1,{\"b\":\"]\"}]} ").failed() == f::none);
}

TEST_CASE("tc3 verification accepts the published faceid vector (api3.md §1.4), no signer of ours involved") {
    auth_config k;
    k.credentials = {{"", "AKIDEXAMPLE", "********************************"}};
    tc3_settings settings;
    tc3_head head;
    head.method = "POST";
    head.headers = {{"content-type", "application/json"},
                    {"host", "faceid.tencentcloudapi.com"},
                    {"x-tc-timestamp", "1551113065"},
                    {"authorization",
                     "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/faceid/tc3_request, "
                     "SignedHeaders=content-type;host, "
                     "Signature=a56268830cd4952fe9d34b681830fc1eac11dc70168edc354c0df3b5aa599018"}};
    const std::string body =
        R"({"LivenessType": "LIP", "ValidateData": "4392", "ImageBase64": "/9j/4AAQSkZJRg==", "VideoBase64": "AAAAIGZ0eXBpc29t"})";
    auto c = check_head(head, k, settings, 1551113065 + 299);
    REQUIRE(!c.failed());
    check_body(c, head, settings, sha_hex(body));
    CHECK(!c.failed());
    CHECK(c.verified);
    auto tampered = check_head(head, k, settings, 1551113065);
    check_body(tampered, head, settings, sha_hex(body + " "));
    CHECK(tampered.code == "AuthFailure.SignatureFailure");
    // The UNSIGNED-PAYLOAD vector of the same section.
    head.headers.emplace_back("x-tc-content-sha256", "UNSIGNED-PAYLOAD");
    head.headers[3].second =
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/faceid/tc3_request, SignedHeaders=content-type;host, "
        "Signature=b8eb747b6c4cf3dc2c729d6e1333429810e0486f3c8450124d989faea1f88b99";
    const auto u = check_head(head, k, settings, 1551113065);
    CHECK(!u.failed());
    CHECK(u.unsigned_payload);
    CHECK(u.verified);  // decided on the header alone
}

TEST_CASE("tc3 verification: each failure has its API 3.0 code") {
    const auto k = keys();
    tc3_settings settings;
    const auto t = now();
    auto head_code = [&](const request& r, std::int64_t at) { return check_head(r.head, k, settings, at).code; };
    const auto good = make_request("GetLiveCode", "{}", t);
    CHECK(head_code(good, t).empty());
    CHECK(head_code(good, t + 300).empty());
    CHECK(head_code(good, t + 301) == "AuthFailure.SignatureExpire");
    CHECK(head_code(good, t - 301) == "AuthFailure.SignatureExpire");
    auto c = check_head(make_request("GetLiveCode", "{}", t, "WRONGKEY").head, k, settings, t);
    check_body(c, good.head, settings, sha_hex("{}"));
    CHECK(c.code == "AuthFailure.SignatureFailure");

    auto edit = [&](std::string name, std::string value) {
        request r = good;
        for (auto& [n, v] : r.head.headers)
            if (n == name) v = value;
        return r;
    };
    CHECK(head_code(edit("authorization", "TC3-HMAC-SHA1 x"), t) == "AuthFailure.InvalidAuthorization");
    const std::string auth = good.head.find("authorization")->c_str();
    std::string other_id = auth;
    other_id.replace(other_id.find("AKIDEXAMPLE"), 11, "AKIDUNKNOWN");
    CHECK(head_code(edit("authorization", other_id), t) == "AuthFailure.SecretIdNotFound");
    std::string no_host = auth;
    no_host.replace(no_host.find("content-type;host"), 17, "content-type");
    CHECK(head_code(edit("authorization", no_host), t) == "AuthFailure.SignatureFailure");
    std::string other_service = auth;
    other_service.replace(other_service.find("/faceid/"), 8, "/cvm/");
    CHECK(head_code(edit("authorization", other_service), t) == "AuthFailure.SignatureFailure");
    CHECK(head_code(edit("x-tc-timestamp", "12x"), t) == "MissingParameter");
    CHECK(head_code(edit("x-tc-timestamp", std::to_string(t - 86400 * 3)), t - 86400 * 3) ==
          "AuthFailure.SignatureFailure");  // the scope's date no longer matches

    auto with_body = [&](const request& r, std::string_view body) {
        auto chk = check_head(r.head, k, settings, t);
        check_body(chk, r.head, settings, sha_hex(body));
        return chk.code;
    };
    CHECK(with_body(good, "{}").empty());
    CHECK(with_body(good, "{} ") == "AuthFailure.SignatureFailure");
    const auto unsigned_request = make_request("GetLiveCode", "{}", t, "SECRETKEYEXAMPLE", true);
    CHECK(with_body(unsigned_request, "{\"anything\":1}").empty());  // the body is not signed
    const auto declared =
        make_request("GetLiveCode", "{}", t, "SECRETKEYEXAMPLE", false, {{"x-tc-content-sha256", sha_hex("other")}});
    CHECK(with_body(declared, "{}") == "AuthFailure.SignatureFailure");

    const auto with_token = make_request("GetLiveCode", "{}", t, "SECRETKEYEXAMPLE", false, {{"x-tc-token", "tok"}});
    CHECK(head_code(with_token, t) == "AuthFailure.TokenFailure");  // a token with a long-term key
    settings.token = "tok";
    CHECK(head_code(with_token, t).empty());
    CHECK(head_code(good, t) == "AuthFailure.TokenFailure");
    CHECK(head_code(make_request("GetLiveCode", "{}", t, "SECRETKEYEXAMPLE", false, {{"x-tc-token", "other"}}), t) ==
          "AuthFailure.TokenFailure");
}

TEST_CASE("faceid service: GetLiveCode, then LIP LivenessCompare with that code, once") {
    service_config cfg;
    cfg.auth = keys();
    service svc(cfg);
    const auto t = now();
    const auto code_reply = run(svc, make_request("GetLiveCode", "{}", t));
    const std::string code(code_reply.at("LiveCode").as_string());
    CHECK(code.size() == 4);
    auto out = run(svc, make_request("LivenessCompare", compare_body(code), t));
    CHECK(out.at("Result").as_string() == "Success");
    CHECK(out.at("Description").as_string() == "成功");
    const double sim = out.at("Sim").to_number<double>();
    CHECK(sim >= 70.0);
    CHECK(sim < 100.0);
    CHECK(!out.at("BestFrameBase64").as_string().empty());
    CHECK(out.at("BestFrameList").as_array().empty());
    // The same uploads give the same score; the code is used up.
    out = run(svc, make_request("LivenessCompare", compare_body(code), t));
    CHECK(out.at("Result").as_string() == "FailedOperation.LipVoiceRecognize");
    CHECK(out.at("Sim").to_number<double>() == 0.0);

    const auto stats = json::parse(svc.stats_json()).at("faceid").as_object();
    CHECK(stats.at("codes").at("Success").to_number<std::uint64_t>() == 2);
    CHECK(stats.at("codes").at("FailedOperation.LipVoiceRecognize").to_number<std::uint64_t>() == 1);
    CHECK(stats.at("last").at("action").as_string() == "LivenessCompare");
    CHECK(stats.at("last").at("video").at("sha256").as_string() == sha_hex(mp4_video));
    CHECK(stats.at("last").at("image").at("size").to_number<std::uint64_t>() == jpeg_image.size());
    CHECK(stats.at("last").at("fields").at("ValidateData").as_string() == code);
}

TEST_CASE("faceid service: verdict rules, Optional, LivenessRecognition, GetActionSequence") {
    service_config cfg;
    cfg.auth = keys();
    cfg.fixed_digits = "1234";
    service svc(cfg);
    const auto t = now();
    const std::string bad_video = R"({"LivenessType":"SILENT","ImageBase64":")" + b64(jpeg_image) +
                                  R"(","VideoBase64":")" + b64("not a video at all") + R"("})";
    CHECK(run(svc, make_request("LivenessCompare", bad_video, t)).at("Result").as_string() ==
          "FailedOperation.LivessDetectFail");
    const std::string bad_image = R"({"LivenessType":"SILENT","ImageBase64":")" + b64("GIF89a......") +
                                  R"(","VideoBase64":")" + b64(mp4_video) + R"("})";
    CHECK(run(svc, make_request("LivenessCompare", bad_image, t)).at("Result").as_string() ==
          "FailedOperation.ImageDecodeFailed");
    const std::string frames = R"({"LivenessType":"ACTION","ValidateData":"2,1","Optional":"{\"BestFrameNum\":3}",)"
                               R"("ImageBase64":")" +
                               b64(jpeg_image) + R"(","VideoBase64":")" + b64(mp4_video) + R"("})";
    CHECK(run(svc, make_request("LivenessCompare", frames, t)).at("BestFrameList").as_array().size() == 3);
    const std::string bad_optional = R"({"LivenessType":"SILENT","Optional":"{\"BestFrameNum\":11}","ImageBase64":")" +
                                     b64(jpeg_image) + R"(","VideoBase64":")" + b64(mp4_video) + R"("})";
    CHECK(error_code_of(run(svc, make_request("LivenessCompare", bad_optional, t))) == "InvalidParameterValue");

    const auto recognize = [&](std::string id, std::string name) {
        const std::string body = R"({"LivenessType":"SILENT","IdCard":")" + id + R"(","Name":")" + name +
                                 R"(","VideoBase64":")" + b64(mp4_video) + R"("})";
        return run(svc, make_request("LivenessRecognition", body, t));
    };
    CHECK(recognize("11010519491231002X", "\\u5f20\\u4e09").at("Result").as_string() == "Success");
    CHECK(recognize("110105194912310021", "x").at("Result").as_string() == "FailedOperation.IdFormatError");
    CHECK(error_code_of(recognize("11010519491231002X", "")) == "MissingParameter");

    const auto seq = run(svc, make_request("GetActionSequence", "{}", t)).at("ActionSequence").as_string();
    CHECK((seq == "1,2" || seq == "2,1"));
    const auto stats = json::parse(svc.stats_json()).at("faceid").as_object();
    CHECK(stats.at("codes").at("FailedOperation.LivessDetectFail").to_number<std::uint64_t>() == 1);
}

TEST_CASE("faceid service: request errors: version, action, content type, fields, limits, base64") {
    service_config cfg;
    cfg.auth = keys();
    cfg.tc3.max_video_base64 = 100;
    service svc(cfg);
    const auto t = now();
    auto code = [&](const request& r) { return error_code_of(run(svc, r)); };
    auto r = make_request("GetLiveCode", "{}", t);
    r.head.headers[3].second = "2017-03-12";
    CHECK(code(r) == "NoSuchVersion");
    CHECK(code(make_request("Liveness", "{}", t)) == "InvalidAction");
    r = make_request("GetLiveCode", "{}", t);
    r.head.headers[1].second = "text/plain";  // unsigned change? no: content-type is signed
    CHECK(code(r) == "AuthFailure.SignatureFailure");
    CHECK(code(make_request("LivenessCompare", "{\"LivenessType\":\"LIP\"", t)) == "InvalidParameter");
    CHECK(code(make_request("LivenessCompare", "{}", t)) == "MissingParameter");
    CHECK(code(make_request("LivenessCompare", R"({"LivenessType":"lip"})", t)) == "InvalidParameterValue");
    CHECK(code(make_request("LivenessCompare", R"({"LivenessType":"LIP","VideoBase64":"QUJD"})", t)) ==
          "MissingParameter");  // no image
    CHECK(code(make_request("LivenessCompare", R"({"LivenessType":"LIP","VideoBase64":"QR=="})", t)) ==
          "InvalidParameterValue");
    CHECK(code(make_request("LivenessCompare", compare_body("1234"), t)) == "InvalidParameterValue");  // video > 100
    CHECK(code(make_request("LivenessCompare", R"({"LivenessType":"ACTION","VideoBase64":"QUJD","ImageBase64":"QUJD"})",
                            t)) == "InvalidParameterValue");  // ACTION without a sequence
}

TEST_CASE("faceid service: X-Emulator-Force switches") {
    service_config cfg;
    cfg.auth = keys();
    cfg.fixed_digits = "4321";
    service svc(cfg);
    const auto t = now();
    auto forced = [&](std::string spec, std::string body = {}) {
        if (body.empty()) body = compare_body("4321");
        return run(svc,
                   make_request("LivenessCompare", body, t, "SECRETKEYEXAMPLE", false, {{"x-emulator-force", spec}}));
    };
    run(svc, make_request("GetLiveCode", "{}", t));
    CHECK(error_code_of(forced("error=InternalError")) == "InternalError");
    // An Error does not use the live code up; a forced Result does.
    CHECK(forced("result=FailedOperation.LipVoiceLow").at("Result").as_string() == "FailedOperation.LipVoiceLow");
    CHECK(forced("").at("Result").as_string() == "FailedOperation.LipVoiceRecognize");
    run(svc, make_request("GetLiveCode", "{}", t));
    const auto low = forced("sim=55.5");
    CHECK(low.at("Result").as_string() == "FailedOperation.CompareLowSimilarity");
    CHECK(low.at("Sim").to_number<double>() == 55.5);
    CHECK(error_code_of(forced("colour=red")) == "InvalidParameter");
    CHECK(error_code_of(forced("sim=101")) == "InvalidParameter");
    CHECK(error_code_of(forced("error=Not A Code")) == "InvalidParameter");

    const auto sw = parse_faceid_switches("error=RequestLimitExceeded, delay_ms=250,drop");
    REQUIRE(sw);
    CHECK(*sw->error == "RequestLimitExceeded");
    CHECK(*sw->delay_ms == 250);
    CHECK(sw->drop);
    auto check = svc.authenticate_tc3(make_request("GetLiveCode", "{}", t).head, t);
    auto req =
        make_request("GetLiveCode", "{}", t, "SECRETKEYEXAMPLE", false, {{"x-emulator-force", "delay_ms=250,drop"}});
    check = svc.authenticate_tc3(req.head, t);
    check_body(check, req.head, svc.tc3(), sha_hex(req.body));
    const auto rep = svc.faceid(req.head, check, scan(req.body));
    CHECK(rep.delay == std::chrono::milliseconds(250));
    CHECK(rep.drop);
}

TEST_CASE("faults speak API 3.0 on POST /: error strings, rate limit, protocol matching") {
    std::string why;
    auto f = parse_faults(R"([{"fault":"code","error":"InternalError","count":2},{"fault":"code","code":15}])", &why);
    REQUIRE_MESSAGE(f, why);
    CHECK((*f)[0].applies_to("/"));
    CHECK(!(*f)[0].applies_to("/face/livegetfour"));  // an API 3.0 code cannot answer a legacy request
    CHECK(!(*f)[1].applies_to("/"));
    CHECK((*f)[1].applies_to("/face/livedetectfour"));
    CHECK(!parse_faults(R"({"fault":"code"})", &why));
    CHECK(!parse_faults(R"({"fault":"code","error":"Bad Code"})", &why));
    CHECK(parse_faults(R"({"fault":"delay","ms":10,"path":"/"})", &why));
    CHECK(fault_to_json((*f)[0]).at("error").as_string() == "InternalError");

    service_config cfg;
    cfg.auth = keys();
    cfg.faults = *f;
    service svc(cfg);
    const auto clock = std::chrono::steady_clock::now();
    const auto legacy = svc.take_fault(endpoint::livegetfour, clock);
    REQUIRE(legacy);
    CHECK(legacy->code == 15);  // the legacy request skipped the API 3.0 entry
    const auto api3 = svc.take_fault(endpoint::faceid, clock);
    REQUIRE(api3);
    const auto rep = svc.fault_reply(*api3, endpoint::faceid);
    CHECK(json::parse(rep.body).at("Response").at("Error").at("Code").as_string() == "InternalError");
    fault rate;
    rate.kind = fault_kind::rate_limit;
    rate.per_second = 1;
    CHECK(json::parse(svc.fault_reply(rate, endpoint::faceid).body).at("Response").at("Error").at("Code").as_string() ==
          "RequestLimitExceeded");
    const auto stats = json::parse(svc.stats_json()).at("faceid").at("codes").as_object();
    CHECK(stats.at("InternalError").to_number<std::uint64_t>() == 1);
}

TEST_CASE("emulator options: --tls-name and the API 3.0 flags") {
    const auto r = parse_options({"--tls-name", "faceid.tencentcloudapi.com", "--tc3-token", "tok", "--tc3-max-skew",
                                  "60", "--tc3-max-video-base64", "1000"},
                                 [](const char*) -> const char* { return nullptr; });
    REQUIRE(r.error.empty());
    CHECK(r.opts.tls_names == std::vector<std::string>{"faceid.tencentcloudapi.com"});
    CHECK(*r.opts.service.tc3.token == "tok");
    CHECK(r.opts.service.tc3.max_skew_s == 60);
    CHECK(r.opts.service.tc3.max_video_base64 == 1000);
    CHECK(r.opts.service.tc3.max_body_bytes == 10485760);
    CHECK(!parse_options({"--tls-name", "a,b"}, [](const char*) -> const char* { return nullptr; }).error.empty());
}
