// Unit tests of livefour-emulator's pure logic (no sockets): multipart streaming parser,
// signature verification, verdict rules, the service state machine, option parsing, and fault
// injection (control-plane JSON, FIFO queue, token bucket, counters).
// Built from tools/emulator/{multipart_stream,auth,verdict,service,options}.cpp and faults.hpp.
#include <doctest/doctest.h>

#include "auth.hpp"
#include "faults.hpp"
#include "multipart_stream.hpp"
#include "options.hpp"
#include "service.hpp"
#include "verdict.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <random>
#include <string>
#include <vector>

using namespace livefour::emulator;
namespace json = boost::json;

namespace {

std::string sha_hex(std::string_view s) { return livefour::detail::to_hex(livefour::detail::sha256(s)); }

std::string text_part(std::string_view boundary, std::string_view name, std::string_view value) {
    return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) +
           "\"\r\n\r\n" + std::string(value) + "\r\n";
}

std::string file_part(std::string_view boundary, std::string_view name, std::string_view filename,
                      std::string_view content) {
    return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) +
           "\"; filename=\"" + std::string(filename) + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
           std::string(content) + "\r\n";
}

std::vector<part_info> parse_all(std::string_view boundary, std::string_view body) {
    multipart_stream_parser p(boundary);
    REQUIRE(p.feed(body));
    REQUIRE(p.finish());
    return p.parts();
}

std::string sign(std::string_view plain, std::string_view key) {
    const auto mac = livefour::detail::hmac_sha1(key, plain);
    return livefour::detail::base64_encode(std::string(reinterpret_cast<const char*>(mac.data()), mac.size()) +
                                           std::string(plain));
}

auth_config default_auth() {
    auth_config a;
    a.credentials = {{"1250000000", "AKIDEXAMPLE", "SECRETKEYEXAMPLE"}};
    return a;
}

const std::string mp4_head = std::string(
    "\0\0\0\x18"
    "ftypisom",
    12);

}  // namespace

TEST_CASE("emulator multipart: random bodies fed in random slices keep every byte") {
    std::mt19937 rng(7);
    for (int iter = 0; iter < 400; ++iter) {
        const std::string boundary = "b" + std::to_string(rng() % 100000) + "--xY";
        std::vector<std::string> contents;
        std::string body = rng() % 3 == 0 ? "preamble\r\n" : "";
        const int nparts = 1 + static_cast<int>(rng() % 5);
        while (static_cast<int>(contents.size()) < nparts) {
            std::string c;
            const int len = static_cast<int>(rng() % 3000);
            for (int k = 0; k < len; ++k) {
                switch (rng() % 20) {
                case 0: c += "\r\n--" + boundary.substr(0, rng() % boundary.size()); break;  // near-delimiters
                case 1: c += "\r\n-"; break;
                case 2: c += '\r'; break;
                default: c += static_cast<char>(rng() % 256);
                }
            }
            if (c.find("\r\n--" + boundary) != std::string::npos) continue;  // not a legal body
            const bool file = contents.size() % 2 == 1;
            body += file ? file_part(boundary, "f" + std::to_string(contents.size()), "a.bin", c)
                         : text_part(boundary, "f" + std::to_string(contents.size()), c);
            contents.push_back(std::move(c));
        }
        body += "--" + boundary + "--\r\nepilogue";

        multipart_stream_parser p(boundary);
        for (std::size_t pos = 0; pos < body.size();) {
            const std::size_t n = std::min<std::size_t>(rng() % 4 == 0 ? 1 : 1 + rng() % 100000, body.size() - pos);
            p.feed(std::string_view(body).substr(pos, n));
            pos += n;
        }
        REQUIRE_MESSAGE(p.finish(), p.error());
        REQUIRE(p.parts().size() == contents.size());
        for (std::size_t i = 0; i < contents.size(); ++i) {
            const auto& part = p.parts()[i];
            CHECK(part.size == contents[i].size());
            CHECK(part.sha256_hex == sha_hex(contents[i]));
            if (i % 2 == 1) {
                CHECK(part.filename == "a.bin");
                CHECK(part.head == contents[i].substr(0, 256));
            } else {
                CHECK(!part.filename);
                CHECK(part.head == contents[i]);
            }
        }
    }
}

TEST_CASE("emulator multipart: headers, escapes and malformed bodies") {
    const auto parts = parse_all("zz",
                                 "--zz\r\ncontent-disposition: form-data; name=\"v\"; filename=\"a\\\"b.mp4\"\r\n"
                                 "Content-Type: video/mp4\r\n\r\nDATA\r\n--zz--");
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].name == "v");
    CHECK(parts[0].filename == "a\"b.mp4");
    CHECK(parts[0].content_type == "video/mp4");
    CHECK(parts[0].head == "DATA");

    auto fails = [](std::string_view boundary, std::string_view body) {
        multipart_stream_parser p(boundary);
        p.feed(body);
        return !p.finish() && p.failed() && !p.error().empty();
    };
    CHECK(fails("abc", "--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nhello"));  // no closing
    CHECK(fails("abc", "--abcdef\r\n"));                                                      // boundary prefix
    CHECK(fails("abc", "--abc\r\nContent-Type: x\r\n\r\nhello\r\n--abc--"));                  // no disposition
    CHECK(fails("abc", "--abc\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\n\r\n--abc--"));
    CHECK(fails("abc", "--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + std::string(70000, 'a')));
    CHECK(fails("abc", "--abc\r\nX: " + std::string(9000, 'a')));
    CHECK(fails("abc", std::string(70000, 'p')));
    CHECK(fails("", "--\r\n"));

    const auto empty = parse_all("abc", "--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--abc--");
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].size == 0);
    CHECK(empty[0].sha256_hex == sha_hex(""));
}

TEST_CASE("emulator multipart: boundary from Content-Type") {
    CHECK(form_data_boundary("multipart/form-data; boundary=\"a b\"") == "a b");
    CHECK(form_data_boundary("Multipart/Form-Data;boundary=xyz;charset=utf-8") == "xyz");
    CHECK(!form_data_boundary("application/json"));
    CHECK(!form_data_boundary("multipart/form-data"));
    CHECK(!form_data_boundary("multipart/mixed; boundary=x"));
    CHECK(!form_data_boundary("multipart/form-data; boundary=" + std::string(201, 'x')));
}

TEST_CASE("emulator auth: every code of spec §2 is produced") {
    const auto cfg = default_auth();
    const std::string golden =
        "jKRTbdGcAB6DUqNB3Vu9heBcPYhhPTEyNTAwMDAwMDAmYj0maz1BS0lERVhBTVBMRSZlPTE1MDAwMDAzMDAmdD0xNTAwMDAwMDAwJnI9MTIzND"
        "U2Nzg5MCZmPQ==";
    CHECK(verify_signature(golden, cfg, 1500000000).code == 0);
    CHECK(verify_signature(golden, cfg, 1500000000).appid == "1250000000");
    CHECK(verify_signature(golden, cfg, 1500000300).code == 9);
    CHECK(verify_signature("", cfg, 0).code == 4);
    CHECK(verify_signature("not base64!", cfg, 0).code == 5);
    CHECK(verify_signature(livefour::detail::base64_encode("short"), cfg, 0).code == 5);
    CHECK(verify_signature(sign("a=1250000000&k=AKIDEXAMPLE", "SECRETKEYEXAMPLE"), cfg, 0).code == 5);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE&e=x&t=1&r=1&f=", "SECRETKEYEXAMPLE"), cfg, 0).code == 5);

    const std::string tail = "&e=1500000300&t=1500000000&r=1&f=";
    CHECK(verify_signature(sign("a=1&b=&k=AKIDEXAMPLE" + tail, "SECRETKEYEXAMPLE"), cfg, 1500000000).code == 10);
    CHECK(verify_signature(sign("a=1250000000&b=&k=OTHER" + tail, "SECRETKEYEXAMPLE"), cfg, 1500000000).code == 11);
    CHECK(verify_signature(sign("a=1250000000&b=x&k=AKIDEXAMPLE" + tail, "SECRETKEYEXAMPLE"), cfg, 1500000000).code ==
          6);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE" + tail, "WRONG"), cfg, 1500000000).code == 14);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE&e=1600000000&t=1500000000&r=1&f=", "SECRETKEYEXAMPLE"),
                           cfg, 1500000000)
              .code == 9);  // more than 90 days

    auto two = cfg;
    two.credentials.push_back({"1250000001", "AKIDOTHER", "K2"});
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDOTHER" + tail, "K2"), two, 1500000000).code == 12);

    // Java-SDK field order (t before e) and a bucket.
    auto bucketed = cfg;
    bucketed.bucket = "tencentyun";
    const std::string golden_bucket =
        "KVhpT2xy8e+8FKQxpSGj/"
        "eR1u5hhPTEyNTAwMDAwMDAmYj10ZW5jZW50eXVuJms9QUtJREVYQU1QTEUmZT0xNTAwMDAwMzAwJnQ9MTUwMDAwMDAwMCZyPTEyMzQ1Njc4OTA"
        "mZj0=";
    CHECK(verify_signature(golden_bucket, bucketed, 1500000000).code == 0);
    CHECK(verify_signature(golden_bucket, cfg, 1500000000).code == 6);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE&t=1500000000&e=1500000300&r=7", "SECRETKEYEXAMPLE"), cfg,
                           1500000000)
              .code == 0);
}

TEST_CASE("emulator verdict: magic bytes, switches, rules") {
    CHECK(detect_video(mp4_head) == video_kind::mp4);
    CHECK(detect_video(std::string("\0\0\0\x14"
                                   "ftypqt  ",
                                   12)) == video_kind::mov);
    CHECK(detect_video(std::string("\0\0\0\x14"
                                   "ftyp3gp4",
                                   12)) == video_kind::threegp);
    CHECK(detect_video("FLV\x01") == video_kind::flv);
    CHECK(detect_video("\x1A\x45\xDF\xA3") == video_kind::matroska_webm);
    CHECK(detect_video(std::string("RIFF\x10\0\0\0AVI LIST", 16)) == video_kind::avi);
    CHECK(detect_video(std::string("RIFF\x10\0\0\0WAVEfmt ", 16)) == video_kind::unknown);
    CHECK(detect_video("") == video_kind::unknown);
    CHECK(detect_image("\xFF\xD8\xFF\xE0") == image_kind::jpeg);
    CHECK(detect_image("\x89PNG\r\n\x1A\n") == image_kind::png);
    CHECK(detect_image("BM") == image_kind::bmp);
    CHECK(detect_image("GIF89a") == image_kind::unknown);

    const auto s = parse_switches("force:code=15,force:sim=80,live_status=-5002,drop,delay_ms=5");
    REQUIRE(s);
    CHECK(s->code == 15);
    CHECK(s->sim == 80);
    CHECK(s->live_status == -5002);
    CHECK(s->delay_ms == 5);
    CHECK(s->drop);
    std::string why;
    CHECK(!parse_switches("force:bogus=1", &why));
    CHECK(why.find("bogus") != std::string::npos);
    // An unknown key is named as unknown whatever its value (it once read "needs an integer value").
    CHECK(!parse_switches("force:colour=red", &why));
    CHECK(why.find("unknown force switch 'colour'") != std::string::npos);
    CHECK(!parse_switches("force:sim=101", &why));
    CHECK(why == "force:sim must be 0..100");
    CHECK(!parse_switches("force:delay_ms=-1", &why));
    CHECK(why == "force:delay_ms must be 0..600000");
    CHECK(!parse_switches("force:code=x", &why));
    CHECK(why == "force switch 'code' needs an integer value");
    CHECK(!parse_switches("plain seq")->code);

    detect_input in;
    in.video = video_kind::mp4;
    in.digits_ok = true;
    CHECK(decide(in).live_status == 0);
    CHECK(!decide(in).compare_status);
    in.digits_ok = false;
    CHECK(decide(in).live_status == -5008);
    CHECK(decide(in).live_msg == "VIDEO_AUDIO_RECOG_FAILED");
    in.video = video_kind::unknown;
    CHECK(decide(in).live_status == -5001);

    in = {};
    in.video = video_kind::mp4;
    in.digits_ok = true;
    in.compare = true;
    in.card = image_kind::png;
    in.video_sha256_hex = "v";
    in.reference_sha256_hex = "c";
    const auto ok = decide(in);
    CHECK(ok.compare_status == 0);
    REQUIRE(ok.sim);
    CHECK(*ok.sim >= 60);
    CHECK(*ok.sim <= 99);
    CHECK(decide(in).sim == ok.sim);  // deterministic
    CHECK(ok.photo);
    in.card = image_kind::unknown;
    CHECK(decide(in).compare_status == -4018);
    CHECK(!decide(in).sim);
    in.digits_ok = false;
    CHECK(decide(in).compare_status == -5005);  // as observed from the real service
    in.force.compare_status = -4010;
    CHECK(decide(in).compare_status == -4010);

    CHECK(valid_idcard_number("11010519491231002X"));
    CHECK(valid_idcard_number("11010519491231002x"));
    CHECK(!valid_idcard_number("110105194912310021"));
    CHECK(!valid_idcard_number("1101051949123100"));
    CHECK(http_status_for_code(21) == 400);
    CHECK(http_status_for_code(14) == 200);
}

TEST_CASE("emulator service: getfour, detect, single use, switches, stats") {
    service_config cfg;
    cfg.auth = default_auth();
    service svc(cfg);
    signature_check auth;
    auth.appid = "1250000000";

    auto r = svc.livegetfour(auth, R"({"appid":"1250000000","seq":"s"})");
    auto v = json::parse(r.body).as_object();
    CHECK(r.http_status == 200);
    CHECK(v.at("code").as_int64() == 0);
    CHECK(v.at("seq").as_string() == "s");
    const std::string digits(v.at("data").at("validate_data").as_string());
    CHECK(digits.size() == 4);

    CHECK(svc.livegetfour(auth, "{}").code == 21);
    CHECK(svc.livegetfour(auth, "{}").http_status == 400);
    CHECK(svc.livegetfour(auth, "[1]").code == 3);
    CHECK(svc.livegetfour(auth, R"({"appid":"1"})").code == 6);
    CHECK(svc.livegetfour(auth, R"({"appid":"1250000000","seq":"force:code=107"})").code == 107);

    const std::string video = mp4_head + "rest of the video";
    const std::string b = "B";
    auto body = [&](std::string_view d, std::string_view flag, bool card, std::string_view seq = {}) {
        std::string s = text_part(b, "appid", "1250000000") + text_part(b, "validate_data", d) +
                        text_part(b, "compare_flag", flag) + file_part(b, "video", "v.mp4", video);
        if (card) s += file_part(b, "card", "c.jpg", "\xFF\xD8\xFF\xE0 jpeg");
        if (!seq.empty()) s += text_part(b, "seq", seq);
        return s + "--" + b + "--\r\n";
    };

    r = svc.detect(endpoint::livedetectfour, auth, parse_all(b, body(digits, "true", true)));
    v = json::parse(r.body).as_object();
    CHECK(v.at("code").as_int64() == 0);
    const auto& data = v.at("data").as_object();
    CHECK(data.at("live_status").as_int64() == 0);
    CHECK(data.at("compare_status").as_int64() == 0);
    CHECK(data.contains("sim"));
    CHECK(data.at("photo").as_string().starts_with("/9j/"));

    r = svc.detect(endpoint::livedetectfour, auth, parse_all(b, body(digits, "false", false)));
    CHECK(json::parse(r.body).at("data").at("live_status").as_int64() == -5008);  // single use

    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "maybe", false))).code == 21);
    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "true", false))).code == 21);
    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:code=15"))).code ==
          15);
    r = svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:live_status=-5015")));
    CHECK(json::parse(r.body).at("data").at("live_msg").as_string() == "VIDEO_RESOLUTION_TOO_LOW");
    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:drop"))).drop);
    signature_check other = auth;
    other.appid = "42";
    CHECK(svc.detect(endpoint::livedetectfour, other, parse_all(b, body("1", "false", false))).code == 6);

    const std::string id_body = text_part(b, "appid", "1250000000") + text_part(b, "validate_data", "1") +
                                text_part(b, "idcard_number", "11010519491231002X") +
                                text_part(b, "idcard_name", "张三") + file_part(b, "video", "v.mp4", video) +
                                text_part(b, "seq", "force:live_status=0") + "--" + b + "--";
    r = svc.detect(endpoint::idcardlivedetectfour, auth, parse_all(b, id_body));
    const auto id_data = json::parse(r.body).at("data").as_object();
    CHECK(id_data.at("compare_status").as_int64() == 0);
    CHECK(id_data.contains("video_photo"));
    CHECK(!id_data.contains("photo"));

    svc.on_request_complete(endpoint::livegetfour);
    svc.on_connection();
    svc.on_body_bytes(10);
    auto stats = json::parse(svc.stats_json()).as_object();
    CHECK(stats.at("requests").as_int64() == 1);
    CHECK(stats.at("connections_accepted").as_int64() == 1);
    CHECK(stats.at("bytes_received").as_int64() == 10);
    const auto& last = stats.at("last_parts").as_array();
    REQUIRE(last.size() == 6);
    CHECK(last[4].at("name").as_string() == "video");
    CHECK(last[4].at("filename").as_string() == "v.mp4");
    CHECK(last[4].at("size").as_int64() == static_cast<std::int64_t>(video.size()));
    CHECK(last[4].at("sha256").as_string() == sha_hex(video));
    CHECK(last[0].at("filename").is_null());
    svc.reset_stats();
    stats = json::parse(svc.stats_json()).as_object();
    CHECK(stats.at("requests").as_int64() == 0);
    CHECK(stats.at("last_parts").as_array().empty());
}

TEST_CASE("emulator service: command-line switches for the first N requests only") {
    service_config cfg;
    cfg.auth = default_auth();
    cfg.force.code = 15;
    cfg.force_count = 2;
    cfg.fixed_digits = "4321";
    service svc(cfg);
    signature_check auth;
    auth.appid = "1250000000";
    const std::string body = R"({"appid":"1250000000"})";
    CHECK(svc.livegetfour(auth, body).code == 15);
    CHECK(svc.livegetfour(auth, body).code == 15);
    const auto r = svc.livegetfour(auth, body);
    CHECK(r.code == 0);
    CHECK(json::parse(r.body).at("data").at("validate_data").as_string() == "4321");
}

TEST_CASE("emulator options") {
    auto no_env = [](const char*) -> const char* { return nullptr; };
    auto r = parse_options({}, no_env);
    CHECK(r.error.empty());
    CHECK(r.opts.host == "127.0.0.1");
    CHECK(r.opts.max_body_bytes == 6291456);
    REQUIRE(r.opts.service.auth.credentials.size() == 1);
    CHECK(r.opts.service.auth.credentials[0].secret_id == "AKIDEXAMPLE");

    auto env = [](const char* n) -> const char* { return std::string_view(n) == "LIVEFOUR_APPID" ? "77" : nullptr; };
    CHECK(parse_options({}, env).opts.service.auth.credentials[0].appid == "77");
    CHECK(parse_options({"--appid", "88"}, env).opts.service.auth.credentials[0].appid == "88");

    r = parse_options({"--port=8443", "--plain", "--max-body-bytes", "0", "--force-sim", "55", "--digits", "0123"},
                      no_env);
    CHECK(r.error.empty());
    CHECK(r.opts.port == 8443);
    CHECK(r.opts.plain);
    CHECK(r.opts.max_body_bytes == 0);
    CHECK(r.opts.service.force.sim == 55);
    CHECK(r.opts.service.fixed_digits == "0123");
    CHECK(parse_options({"--help"}, no_env).help);
    CHECK(!parse_options({"--bogus"}, no_env).error.empty());
    CHECK(!parse_options({"--port", "70000"}, no_env).error.empty());
    CHECK(!parse_options({"--cert", "a.pem"}, no_env).error.empty());
    CHECK(!parse_options({"--digits", "12345"}, no_env).error.empty());
    CHECK(!parse_options({"--plain", "--write-ca", "x"}, no_env).error.empty());
    CHECK(!parse_options({"--host"}, no_env).error.empty());
}

// --- fault injection ----------------------------------------------------------------------------

namespace {

fault parse_one(std::string_view text) {
    std::string why;
    auto list = parse_faults(text, &why);
    INFO(why);
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    return list->front();
}

std::string parse_error(std::string_view text) {
    std::string why;
    const auto list = parse_faults(text, &why);
    CHECK_FALSE(list);
    CHECK_FALSE(why.empty());
    return why;
}

fault make(fault_kind k, std::string path = {}, std::uint64_t count = 1) {
    fault f;
    f.kind = k;
    f.path = std::move(path);
    f.count = count;
    return f;
}

using clock_type = std::chrono::steady_clock;

}  // namespace

TEST_CASE("emulator faults: names round-trip") {
    for (std::size_t i = 0; i < fault_names.size(); ++i) {
        const auto k = static_cast<fault_kind>(i);
        CHECK(fault_kind_named(fault_name(k)) == k);
    }
    CHECK_FALSE(fault_kind_named("drop"));
    CHECK(fault_name(fault_kind::keepalive_close) == "keepalive_close");
}

TEST_CASE("emulator faults: every documented example parses") {
    auto f = parse_one(R"({"fault":"code","code":15,"count":2,"path":"/face/livedetectfour"})");
    CHECK(f.kind == fault_kind::code);
    CHECK(f.code == 15);
    CHECK(f.count == 2);
    CHECK(f.path == "/face/livedetectfour");
    CHECK(f.replaces_reply());
    CHECK_FALSE(f.body_threshold());

    f = parse_one(R"({"fault":"close_after_body_bytes","bytes":1048576,"count":1})");
    CHECK(f.kind == fault_kind::close_after_body_bytes);
    CHECK(f.body_threshold() == 1048576u);
    CHECK(f.path.empty());

    f = parse_one(R"({"fault":"stall_after_body_bytes","bytes":0,"ms":5000,"count":1})");
    CHECK(f.body_threshold() == 0u);
    CHECK(f.ms == 5000u);
    CHECK_FALSE(parse_one(R"({"fault":"stall_after_body_bytes"})").ms);  // "forever"

    f = parse_one(R"({"fault":"delay","ms":300,"count":1})");
    CHECK(f.ms == 300u);
    CHECK_FALSE(f.replaces_reply());

    f = parse_one(R"({"fault":"http_status","status":502,"body":"<html>bad gateway</html>","count":1})");
    CHECK(f.status == 502u);
    CHECK(f.body == "<html>bad gateway</html>");
    CHECK_FALSE(f.has_code);
    f = parse_one(R"({"fault":"http_status","status":500,"code":213})");
    CHECK(f.has_code);
    CHECK(f.code == 213);
    CHECK(f.count == 1);  // the default

    f = parse_one(R"({"fault":"reset","when":"after_body","count":1})");
    CHECK(f.when == reset_point::after_body);
    CHECK_FALSE(f.body_threshold());
    f = parse_one(R"({"fault":"reset","when":"before_body"})");
    CHECK(f.when == reset_point::before_body);
    f = parse_one(R"({"fault":"reset","bytes":10})");
    CHECK(f.when == reset_point::after_body_bytes);
    CHECK(f.body_threshold() == 10u);
    CHECK(parse_one(R"({"fault":"reset"})").when == reset_point::after_body);

    CHECK_FALSE(parse_one(R"({"fault":"truncated_reply","count":1})").bytes);
    f = parse_one(R"({"fault":"trickle_reply","interval_ms":200,"count":1})");
    CHECK(f.interval_ms == 200u);
    CHECK(f.bytes_per_write == 1u);
    CHECK(parse_one(R"({"fault":"huge_body","bytes":10485760,"count":1})").bytes == 10485760u);
    CHECK(parse_one(R"({"fault":"huge_header","bytes":65536,"count":1})").bytes == 65536u);
    CHECK(parse_one(R"({"fault":"non_json","count":1})").replaces_reply());
    CHECK(parse_one(R"({"fault":"close_after_body"})").kind == fault_kind::close_after_body);

    f = parse_one(R"({"fault":"rate_limit","per_second":5})");
    CHECK(f.per_second == 5.0);
    CHECK(f.burst == 5u);
    CHECK(f.count == 0u);  // until cleared
    CHECK(parse_one(R"({"fault":"rate_limit","per_second":0.5})").burst == 1u);
    CHECK(parse_one(R"({"fault":"rate_limit","per_second":2.5,"burst":7,"count":3})").burst == 7u);

    f = parse_one(R"({"fault":"keepalive_close","ms":100})");
    CHECK(f.ms == 100u);

    std::string why;
    const auto many = parse_faults(R"([{"fault":"code","code":15,"count":2},{"fault":"delay","ms":1}])", &why);
    REQUIRE(many);
    REQUIRE(many->size() == 2);
    CHECK((*many)[1].kind == fault_kind::delay);

    // fault_to_json speaks the same vocabulary: what it writes parses back to the same fault.
    for (const char* text : {R"({"fault":"http_status","status":503,"body":"x","content_type":"text/plain","count":0})",
                             R"({"fault":"reset","bytes":7,"path":"/face/livegetfour"})",
                             R"({"fault":"trickle_reply","interval_ms":3,"bytes_per_write":2})"}) {
        const auto a = parse_one(text);
        auto j = fault_to_json(a);
        if (j.at("path").is_null()) j.erase("path");
        const auto b = parse_one(json::serialize(j));
        CHECK(b.kind == a.kind);
        CHECK(b.count == a.count);
        CHECK(b.path == a.path);
        CHECK(b.body == a.body);
        CHECK(b.content_type == a.content_type);
        CHECK(b.bytes == a.bytes);
        CHECK(b.when == a.when);
        CHECK(b.bytes_per_write == a.bytes_per_write);
    }
}

TEST_CASE("emulator faults: bad control bodies are refused with a reason") {
    CHECK(parse_error("not json") == "body is not JSON");
    CHECK(parse_error("[]").find("array") != std::string::npos);
    CHECK(parse_error("42").find("object") != std::string::npos);
    CHECK(parse_error(R"({"code":15})").find("\"fault\"") != std::string::npos);
    CHECK(parse_error(R"({"fault":"explode"})").find("unknown fault") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code","code":15,"cuont":2})").find("cuont") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code"})").find("code") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code","code":"15"})").find("code") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code","code":15,"count":-1})").find("count") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code","code":15,"path":"/face/livedetectfor"})").find("path") != std::string::npos);
    CHECK(parse_error(R"({"fault":"code","code":15,"path":"/_emulator/stats"})").find("path") != std::string::npos);
    CHECK(parse_error(R"({"fault":"delay"})").find("ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"delay","ms":600001})").find("ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"delay","ms":1.5})").find("ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"http_status"})").find("status") != std::string::npos);
    CHECK(parse_error(R"({"fault":"http_status","status":99})").find("status") != std::string::npos);
    CHECK(parse_error(R"({"fault":"http_status","status":500,"code":1,"body":"x"})").find("not both") !=
          std::string::npos);
    CHECK(parse_error(R"({"fault":"non_json","content_type":"a\r\nX-Evil: 1"})").find("content_type") !=
          std::string::npos);
    CHECK(parse_error(R"({"fault":"non_json","body":")" + std::string(64 * 1024 + 1, 'x') + "\"}").find("body") !=
          std::string::npos);
    CHECK(parse_error(R"({"fault":"reset","when":"later"})").find("when") != std::string::npos);
    CHECK(parse_error(R"({"fault":"reset","when":"after_body_bytes"})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"reset","when":"before_body","bytes":3})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"close_after_body_bytes"})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"huge_body","bytes":1073741825})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"huge_body","bytes":0})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"huge_header","bytes":1048577})").find("bytes") != std::string::npos);
    CHECK(parse_error(R"({"fault":"trickle_reply"})").find("interval_ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"trickle_reply","interval_ms":0})").find("interval_ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"rate_limit"})").find("per_second") != std::string::npos);
    CHECK(parse_error(R"({"fault":"rate_limit","per_second":0})").find("per_second") != std::string::npos);
    CHECK(parse_error(R"({"fault":"rate_limit","per_second":1,"burst":0})").find("burst") != std::string::npos);
    CHECK(parse_error(R"({"fault":"keepalive_close","ms":100,"count":1})").find("count") != std::string::npos);
    CHECK(parse_error(R"({"fault":"keepalive_close","ms":0})").find("ms") != std::string::npos);
    CHECK(parse_error(R"({"fault":"close_after_body","bytes":1})").find("bytes") != std::string::npos);
    // In an array, the message names the culprit.
    CHECK(parse_error(R"([{"fault":"delay","ms":1},{"fault":"delay"}])").starts_with("fault #1: "));
    std::string big = "[";
    for (int i = 0; i < 101; ++i) big += std::string(i ? "," : "") + R"({"fault":"close_after_body"})";
    CHECK(parse_error(big + "]").find("array") != std::string::npos);
}

TEST_CASE("emulator faults: FIFO queue, counts, paths") {
    fault_queue q;
    CHECK_FALSE(q.take("/face/livegetfour"));

    auto code15 = make(fault_kind::code, "", 2);
    code15.code = 15;
    REQUIRE(q.push(code15));
    REQUIRE(q.push(make(fault_kind::delay)));
    CHECK(q.size() == 2);
    // "code 15 twice, then the delay, then nothing"
    CHECK(q.take("/face/livegetfour")->kind == fault_kind::code);
    CHECK(q.size() == 2);
    CHECK(q.entries().front().remaining == 1);
    CHECK(q.take("/face/livedetectfour")->code == 15);
    CHECK(q.size() == 1);
    CHECK(q.take("/face/livegetfour")->kind == fault_kind::delay);
    CHECK(q.size() == 0);
    CHECK_FALSE(q.take("/face/livegetfour"));

    // An entry limited to a path is skipped by other paths; a later entry serves those first.
    REQUIRE(q.push(make(fault_kind::reset, "/face/livedetectfour")));
    REQUIRE(q.push(make(fault_kind::huge_body)));
    CHECK(q.take("/face/livegetfour")->kind == fault_kind::huge_body);
    CHECK_FALSE(q.take("/face/livegetfour"));
    CHECK(q.take("/face/livedetectfour")->kind == fault_kind::reset);
    CHECK(q.size() == 0);

    // count 0: stays until cleared, and holds back later entries for the same requests.
    REQUIRE(q.push(make(fault_kind::non_json, "", 0)));
    REQUIRE(q.push(make(fault_kind::delay)));
    for (int i = 0; i < 5; ++i) CHECK(q.take("/face/idcardlivedetectfour")->kind == fault_kind::non_json);
    CHECK(q.size() == 2);
    CHECK(q.clear() == 2);
    CHECK(q.size() == 0);

    // Bounded.
    for (std::size_t i = 0; i < fault_limits::max_pending; ++i) REQUIRE(q.push(make(fault_kind::delay)));
    CHECK(q.room() == 0);
    CHECK_FALSE(q.push(make(fault_kind::delay)));
    CHECK(q.size() == fault_limits::max_pending);
}

TEST_CASE("emulator faults: token bucket") {
    const auto t0 = clock_type::time_point{} + std::chrono::hours(1);
    token_bucket b(2.0, 3.0, t0);  // 2/s, burst 3, starts full
    CHECK(b.try_take(t0));
    CHECK(b.try_take(t0));
    CHECK(b.try_take(t0));
    CHECK_FALSE(b.try_take(t0));
    CHECK_FALSE(b.try_take(t0 + std::chrono::milliseconds(499)));  // 0.998 of a token
    CHECK(b.try_take(t0 + std::chrono::milliseconds(500)));
    CHECK_FALSE(b.try_take(t0 + std::chrono::milliseconds(500)));
    // A long pause refills up to the capacity only.
    const auto t1 = t0 + std::chrono::hours(1);
    int granted = 0;
    while (b.try_take(t1)) ++granted;
    CHECK(granted == 3);
    // A clock that goes backwards adds nothing.
    CHECK_FALSE(b.try_take(t0));

    token_bucket slow(0.5, 1.0, t0);  // one request every 2 s
    CHECK(slow.try_take(t0));
    CHECK_FALSE(slow.try_take(t0 + std::chrono::milliseconds(1999)));
    CHECK(slow.try_take(t0 + std::chrono::milliseconds(2000)));
}

TEST_CASE("emulator service: control plane, fault taking and counters") {
    service_config cfg;
    cfg.auth = default_auth();
    service svc(cfg);
    const auto now = clock_type::now();

    auto r = svc.add_faults(R"([{"fault":"code","code":15,"count":2,"path":"/face/livedetectfour"},
                                {"fault":"delay","ms":300}])",
                            now);
    CHECK(r.http_status == 200);
    auto v = json::parse(r.body).as_object();
    CHECK(v.at("code").as_int64() == 0);
    CHECK(v.at("installed").as_int64() == 2);
    CHECK(v.at("faults_pending").as_int64() == 2);

    // Refused bodies install nothing (all or nothing) and are not API replies.
    r = svc.add_faults(R"([{"fault":"delay","ms":1},{"fault":"delay","ms":-1}])", now);
    CHECK(r.http_status == 400);
    v = json::parse(r.body).as_object();
    CHECK(v.at("code").as_int64() == 21);
    CHECK(std::string(v.at("message").as_string()).starts_with("invalid fault: fault #1: "));

    auto listing = json::parse(svc.faults_json()).as_object();
    REQUIRE(listing.at("pending").as_array().size() == 2);
    CHECK(listing.at("pending").as_array()[0].at("remaining").as_int64() == 2);
    CHECK(listing.at("pending").as_array()[0].at("path").as_string() == "/face/livedetectfour");
    CHECK(listing.at("rate_limit").is_null());
    CHECK(listing.at("keepalive_close_ms").is_null());

    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::delay);  // the detect-only entry is skipped
    CHECK_FALSE(svc.take_fault(endpoint::livegetfour, now));
    CHECK(svc.take_fault(endpoint::livedetectfour, now)->code == 15);
    const auto f = svc.take_fault(endpoint::livedetectfour, now);
    REQUIRE(f);
    CHECK_FALSE(svc.take_fault(endpoint::livedetectfour, now));

    // The reply of a reply fault, counted in codes; the server reports firing.
    r = svc.fault_reply(*f);
    CHECK(r.http_status == 200);
    CHECK(json::parse(r.body).at("code").as_int64() == 15);
    CHECK_FALSE(json::parse(r.body).as_object().contains("data"));
    svc.on_fault_fired(f->kind);
    svc.on_fault_fired(f->kind);

    auto http502 = parse_one(R"({"fault":"http_status","status":502,"body":"<html>bad gateway</html>"})");
    r = svc.fault_reply(http502);
    CHECK(r.http_status == 502);
    CHECK(r.body == "<html>bad gateway</html>");
    CHECK(r.content_type.starts_with("text/html"));
    r = svc.fault_reply(parse_one(R"({"fault":"http_status","status":500,"code":213})"));
    CHECK(r.http_status == 500);
    CHECK(r.content_type == "application/json");
    CHECK(json::parse(r.body).at("code").as_int64() == 213);
    r = svc.fault_reply(parse_one(R"({"fault":"http_status","status":503})"));
    CHECK(r.body.find("503") != std::string::npos);
    r = svc.fault_reply(parse_one(R"({"fault":"non_json","content_type":"application/json"})"));
    CHECK(r.http_status == 200);
    CHECK(r.content_type == "application/json");
    boost::system::error_code ec;
    (void)json::parse(r.body, ec);
    CHECK(ec);  // really not JSON
    CHECK(svc.fault_reply(parse_one(R"({"fault":"code","code":3})")).http_status == 400);
    auto codes = json::parse(svc.stats_json()).at("codes").as_object();
    CHECK(codes.at("15").as_int64() == 1);
    CHECK(codes.at("3").as_int64() == 1);
    svc.on_reply_withheld(reply{.code = 3});   // a close/reset fault swallowed that reply
    svc.on_reply_withheld(reply{.code = 99});  // never counted: nothing to take back
    codes = json::parse(svc.stats_json()).at("codes").as_object();
    CHECK_FALSE(codes.contains("3"));
    CHECK(codes.at("213").as_int64() == 1);
    CHECK_FALSE(codes.contains("99"));

    // Rate limit: checked first; a refused request takes no queued fault; count = refusals.
    REQUIRE(svc.add_faults(R"({"fault":"rate_limit","per_second":1,"burst":2,"count":2})", now).http_status == 200);
    REQUIRE(svc.add_faults(R"({"fault":"huge_header","bytes":10})", now).http_status == 200);
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::huge_header);  // token 1
    CHECK_FALSE(svc.take_fault(endpoint::livegetfour, now));                             // token 2
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::rate_limit);
    CHECK(svc.fault_reply(*svc.take_fault(endpoint::livedetectfour, now)).code == 15);  // 2nd refusal: removed
    CHECK_FALSE(svc.take_fault(endpoint::livegetfour, now));
    CHECK(json::parse(svc.faults_json()).at("rate_limit").is_null());

    REQUIRE(svc.add_faults(R"({"fault":"rate_limit","per_second":1,"burst":1,"path":"/face/livegetfour"})", now)
                .http_status == 200);
    CHECK_FALSE(svc.take_fault(endpoint::livegetfour, now));
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::rate_limit);
    CHECK_FALSE(svc.take_fault(endpoint::livedetectfour, now));  // other paths are not limited
    CHECK(svc.take_fault(endpoint::livegetfour, now + std::chrono::seconds(1)) == std::nullopt);  // refilled

    REQUIRE(svc.add_faults(R"({"fault":"keepalive_close","ms":100})", now).http_status == 200);
    CHECK(svc.keepalive_close() == std::chrono::milliseconds(100));
    REQUIRE(svc.add_faults(R"({"fault":"code","code":1,"count":0})", now).http_status == 200);
    listing = json::parse(svc.faults_json()).as_object();
    CHECK(listing.at("keepalive_close_ms").as_int64() == 100);
    CHECK(listing.at("rate_limit").at("per_second").as_int64() == 1);

    // Counters.
    svc.on_request_started(endpoint::livedetectfour);
    svc.on_request_started(endpoint::livedetectfour);
    svc.on_request_started(endpoint::livegetfour);
    svc.on_request_complete(endpoint::livedetectfour);
    svc.on_idle_close();
    svc.on_fault_fired(fault_kind::keepalive_close);
    auto stats = json::parse(svc.stats_json()).as_object();
    CHECK(stats.at("requests").as_int64() == 1);
    CHECK(stats.at("livedetectfour").as_int64() == 1);
    const auto& started = stats.at("requests_started").as_object();
    CHECK(started.at("total").as_int64() == 3);
    CHECK(started.at("/face/livedetectfour").as_int64() == 2);
    CHECK(started.at("/face/livegetfour").as_int64() == 1);
    CHECK(started.at("/face/idcardlivedetectfour").as_int64() == 0);
    CHECK(stats.at("connections_closed_idle").as_int64() == 1);
    const auto& fired = stats.at("faults_fired").as_object();
    CHECK(fired.size() == fault_names.size());
    CHECK(fired.at("code").as_int64() == 2);
    CHECK(fired.at("keepalive_close").as_int64() == 1);
    CHECK(fired.at("reset").as_int64() == 0);
    CHECK(stats.at("faults_pending").as_int64() == 1);

    // reset zeroes the counters, not the faults; DELETE removes the faults and the settings.
    svc.reset_stats();
    stats = json::parse(svc.stats_json()).as_object();
    CHECK(stats.at("faults_fired").at("code").as_int64() == 0);
    CHECK(stats.at("requests_started").at("total").as_int64() == 0);
    CHECK(stats.at("faults_pending").as_int64() == 1);
    r = svc.clear_faults();
    CHECK(json::parse(r.body).at("cleared").as_int64() == 3);  // the entry, the rate limit, keepalive_close
    CHECK(json::parse(svc.stats_json()).at("faults_pending").as_int64() == 0);
    CHECK_FALSE(svc.keepalive_close());
    CHECK_FALSE(svc.take_fault(endpoint::livegetfour, now + std::chrono::seconds(2)));

    // The queue bound holds through the control plane, all or nothing.
    std::string batch = "[";
    for (int i = 0; i < 100; ++i) batch += std::string(i ? "," : "") + R"({"fault":"delay","ms":1})";
    batch += "]";
    for (int i = 0; i < 10; ++i) REQUIRE(svc.add_faults(batch, now).http_status == 200);
    r = svc.add_faults(R"({"fault":"delay","ms":1})", now);
    CHECK(r.http_status == 400);
    CHECK(json::parse(svc.stats_json()).at("faults_pending").as_int64() == 1000);
    // Settings do not take queue room.
    CHECK(svc.add_faults(R"({"fault":"keepalive_close","ms":5})", now).http_status == 200);
}

TEST_CASE("emulator service: faults from the command line are installed at start-up") {
    auto no_env = [](const char*) -> const char* { return nullptr; };
    auto r = parse_options({"--fault", R"({"fault":"code","code":15,"count":2})", "--fault",
                            R"([{"fault":"delay","ms":5},{"fault":"close_after_body"}])", "--keepalive-close-ms", "250",
                            "--rate-limit", "2.5", "--rate-limit-burst", "4"},
                           no_env);
    REQUIRE(r.error.empty());
    REQUIRE(r.opts.service.faults.size() == 5);
    CHECK(r.opts.service.faults[0].code == 15);
    CHECK(r.opts.service.faults[3].kind == fault_kind::keepalive_close);
    CHECK(r.opts.service.faults[4].kind == fault_kind::rate_limit);
    CHECK(r.opts.service.faults[4].per_second == 2.5);
    CHECK(r.opts.service.faults[4].burst == 4u);

    r.opts.service.auth = default_auth();
    service svc(r.opts.service);
    CHECK(svc.keepalive_close() == std::chrono::milliseconds(250));
    const auto now = clock_type::now();
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::code);
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::code);
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::delay);
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::close_after_body);
    CHECK(svc.take_fault(endpoint::livegetfour, now)->kind == fault_kind::rate_limit);  // burst of 4 used up

    CHECK(parse_options({"--rate-limit", "3"}, no_env).opts.service.faults.at(0).burst == 3u);
    CHECK(parse_options({"--fault", R"({"fault":"nope"})"}, no_env).error.find("--fault") == 0);
    CHECK(!parse_options({"--fault", "{"}, no_env).error.empty());
    CHECK(!parse_options({"--keepalive-close-ms", "0"}, no_env).error.empty());
    CHECK(!parse_options({"--keepalive-close-ms", "600001"}, no_env).error.empty());
    CHECK(!parse_options({"--rate-limit", "0"}, no_env).error.empty());
    CHECK(!parse_options({"--rate-limit", "fast"}, no_env).error.empty());
    CHECK(!parse_options({"--rate-limit-burst", "3"}, no_env).error.empty());
}
