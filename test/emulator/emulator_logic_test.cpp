// Unit tests of livefour-emulator's pure logic (no sockets): multipart streaming parser,
// signature verification, verdict rules, the service state machine and option parsing.
// Built from tools/emulator/{multipart_stream,auth,verdict,service,options}.cpp.
#include <doctest/doctest.h>

#include "auth.hpp"
#include "multipart_stream.hpp"
#include "options.hpp"
#include "service.hpp"
#include "verdict.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json.hpp>

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

const std::string mp4_head = std::string("\0\0\0\x18" "ftypisom", 12);

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
    const auto parts = parse_all("zz", "--zz\r\ncontent-disposition: form-data; name=\"v\"; filename=\"a\\\"b.mp4\"\r\n"
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
    CHECK(fails("abc", "--abc\r\nContent-Type: x\r\n\r\nhello\r\n--abc--"));                // no disposition
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
        "jKRTbdGcAB6DUqNB3Vu9heBcPYhhPTEyNTAwMDAwMDAmYj0maz1BS0lERVhBTVBMRSZlPTE1MDAwMDAzMDAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5MCZmPQ==";
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
    CHECK(verify_signature(sign("a=1250000000&b=x&k=AKIDEXAMPLE" + tail, "SECRETKEYEXAMPLE"), cfg, 1500000000).code == 6);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE" + tail, "WRONG"), cfg, 1500000000).code == 14);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE&e=1600000000&t=1500000000&r=1&f=", "SECRETKEYEXAMPLE"),
                           cfg, 1500000000).code == 9);  // more than 90 days

    auto two = cfg;
    two.credentials.push_back({"1250000001", "AKIDOTHER", "K2"});
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDOTHER" + tail, "K2"), two, 1500000000).code == 12);

    // Java-SDK field order (t before e) and a bucket.
    auto bucketed = cfg;
    bucketed.bucket = "tencentyun";
    const std::string golden_bucket =
        "KVhpT2xy8e+8FKQxpSGj/eR1u5hhPTEyNTAwMDAwMDAmYj10ZW5jZW50eXVuJms9QUtJREVYQU1QTEUmZT0xNTAwMDAwMzAwJnQ9MTUwMDAwMDAwMCZyPTEyMzQ1Njc4OTAmZj0=";
    CHECK(verify_signature(golden_bucket, bucketed, 1500000000).code == 0);
    CHECK(verify_signature(golden_bucket, cfg, 1500000000).code == 6);
    CHECK(verify_signature(sign("a=1250000000&b=&k=AKIDEXAMPLE&t=1500000000&e=1500000300&r=7", "SECRETKEYEXAMPLE"), cfg,
                           1500000000).code == 0);
}

TEST_CASE("emulator verdict: magic bytes, switches, rules") {
    CHECK(detect_video(mp4_head) == video_kind::mp4);
    CHECK(detect_video(std::string("\0\0\0\x14" "ftypqt  ", 12)) == video_kind::mov);
    CHECK(detect_video(std::string("\0\0\0\x14" "ftyp3gp4", 12)) == video_kind::threegp);
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
    CHECK(!parse_switches("force:sim=101"));
    CHECK(!parse_switches("force:code=x"));
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
    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:code=15"))).code == 15);
    r = svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:live_status=-5015")));
    CHECK(json::parse(r.body).at("data").at("live_msg").as_string() == "VIDEO_RESOLUTION_TOO_LOW");
    CHECK(svc.detect(endpoint::livedetectfour, auth, parse_all(b, body("1", "false", false, "force:drop"))).drop);
    signature_check other = auth;
    other.appid = "42";
    CHECK(svc.detect(endpoint::livedetectfour, other, parse_all(b, body("1", "false", false))).code == 6);

    const std::string id_body = text_part(b, "appid", "1250000000") + text_part(b, "validate_data", "1") +
                                text_part(b, "idcard_number", "11010519491231002X") + text_part(b, "idcard_name", "张三") +
                                file_part(b, "video", "v.mp4", video) + text_part(b, "seq", "force:live_status=0") +
                                "--" + b + "--";
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

    r = parse_options({"--port=8443", "--plain", "--max-body-bytes", "0", "--force-sim", "55", "--digits", "0123"}, no_env);
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
