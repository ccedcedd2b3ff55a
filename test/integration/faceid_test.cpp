// The API 3.0 `faceid` client end to end: against livefour-emulator's API 3.0 (GetLiveCode →
// LivenessCompare → LivenessRecognition, errors, retries, clock skew, limits), and against a peer
// we did not write — test/peers/tc3_peer.py verifies TC3 with Python's hmac/hashlib and decodes
// the base64 itself, so the bytes it hashes are the bytes that left the client.
#include "fixtures.hpp"

#include <livefour/faceid/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>

#include <fstream>

namespace asio = boost::asio;
namespace faceid = livefour::faceid;
using livefour::client_error;

namespace {

faceid::client_options faceid_options(const std::string& url, const std::filesystem::path& ca, bool tls = true) {
    faceid::client_options o;
    o.endpoint = url;
    o.allow_insecure_http = !tls;
    o.creds.secret_id = test::secret_id;
    o.creds.secret_key = livefour::secret_string(test::secret_key);
    if (tls) o.tls.ca_file = ca.string();
    o.thread_safe = test::thread_safe();
    return o;
}

template <class Result>
struct outcome {
    livefour::error_code ec;
    Result r;
    livefour::diagnostics diag;
};

/// Runs one operation of `cl` to completion.
template <class Result, class Start>
outcome<Result> run(asio::io_context& ioc, Start start) {
    outcome<Result> out;
    bool done = false;
    start(out.diag, [&](livefour::error_code ec, Result r) {
        out.ec = ec;
        out.r = std::move(r);
        done = true;
    });
    ioc.restart();
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE_MESSAGE(done, "the operation did not complete");
    return out;
}

outcome<faceid::live_code_result> live_code(asio::io_context& ioc, faceid::client& cl) {
    return run<faceid::live_code_result>(ioc, [&](auto& diag, auto h) { cl.async_get_live_code(diag, h); });
}

outcome<faceid::liveness_result> compare(asio::io_context& ioc, faceid::client& cl, faceid::compare_request req) {
    return run<faceid::liveness_result>(ioc, [&](auto& diag, auto h) { cl.async_compare(std::move(req), diag, h); });
}

struct media {
    explicit media(const std::filesystem::path& dir, std::uint64_t video_bytes = 300'000) {
        video = test::write_file(dir / "selfie.mp4", video_bytes, test::mp4_magic(), 7);
        image = test::write_file(dir / "card.jpg", 20'000, test::jpeg_magic(), 8);
    }
    std::filesystem::path video, image;
};

}  // namespace

TEST_CASE("faceid: live code, LIP compare and recognition against the emulator, signed and unsigned payload") {
    test::emulator emu;
    media m(emu.dir.path());
    asio::io_context ioc;
    bool unsigned_payload = false;
    SUBCASE("body signed (its SHA-256 from a first pass)") { unsigned_payload = false; }
    SUBCASE("UNSIGNED-PAYLOAD") { unsigned_payload = true; }
    auto o = faceid_options(emu.url(), emu.ca_path());
    o.unsigned_payload = unsigned_payload;
    faceid::client cl(ioc.get_executor(), o);

    const auto code = live_code(ioc, cl);
    REQUIRE_FALSE(code.ec);
    CHECK(code.r.live_code.size() == 4);
    CHECK_FALSE(code.r.request_id.empty());
    CHECK(code.diag.request_id() == code.r.request_id);

    std::uint64_t last_progress = 0;
    faceid::compare_request req{.liveness = faceid::liveness_type::lip,
                                .validate_data = code.r.live_code,
                                .image = livefour::body_source::file(m.image),
                                .video = livefour::body_source::file(m.video),
                                .best_frames = 3};
    req.on_progress = [&](std::uint64_t sent, std::optional<std::uint64_t> total) {
        REQUIRE(total);
        CHECK(sent <= *total);
        last_progress = sent;
    };
    const auto c = compare(ioc, cl, std::move(req));
    REQUIRE_MESSAGE(!c.ec, c.ec.message() << " " << c.diag.client_message() << " " << c.diag.server_code());
    CHECK(c.r.result == "Success");
    CHECK(c.r.outcome() == faceid::errc{});
    REQUIRE(c.r.sim);
    CHECK(*c.r.sim >= 70);
    CHECK(c.r.best_frames.size() == 3);
    CHECK(c.r.decode_best_frame().has_value());
    CHECK(faceid::decide(c.r).accepted());
    CHECK(last_progress > 400'000);  // the base64 of both files went out
    CHECK(c.diag.reply_body().find("\"Result\":\"Success\"") != std::string::npos);

    // The emulator decoded what it received: the same bytes as the files.
    auto st = emu.stats();
    const auto& last = st.at("faceid").at("last").as_object();
    CHECK(last.at("video").at("sha256").as_string() == test::sha256_file(m.video));
    CHECK(last.at("image").at("sha256").as_string() == test::sha256_file(m.image));

    // The same live code twice: the second video "reads the wrong digits".
    faceid::compare_request again{.liveness = faceid::liveness_type::lip,
                                  .validate_data = code.r.live_code,
                                  .image = livefour::body_source::file(m.image),
                                  .video = livefour::body_source::file(m.video)};
    const auto used = compare(ioc, cl, std::move(again));
    REQUIRE_FALSE(used.ec);  // a negative Result is an outcome, not an error of the call
    CHECK(used.r.result == "FailedOperation.LipVoiceRecognize");
    const auto v = faceid::decide(used.r);
    CHECK_FALSE(v.accepted());
    CHECK(v.kind == livefour::verdict_kind::not_live);
    CHECK(v.reason == faceid::errc::failed_operation_lip_voice_recognize);

    faceid::recognition_request rec{.id_card = "11010519491231002X",
                                    .name = "张三",
                                    .liveness = faceid::liveness_type::silent,
                                    .video = livefour::body_source::file(m.video)};
    const auto r =
        run<faceid::liveness_result>(ioc, [&](auto& diag, auto h) { cl.async_recognize(std::move(rec), diag, h); });
    REQUIRE_FALSE(r.ec);
    CHECK(r.r.result == "Success");
}

TEST_CASE("faceid: the service's refusals are faceid error codes; transient ones are retried") {
    test::emulator emu;
    media m(emu.dir.path());
    asio::io_context ioc;
    auto o = faceid_options(emu.url(), emu.ca_path());
    o.retry.initial_backoff = std::chrono::milliseconds(1);
    o.retry.throttle_backoff = std::chrono::milliseconds(1);

    SUBCASE("a wrong key: AuthFailure.SignatureFailure, not retried, the code and request id kept") {
        o.creds.secret_key = livefour::secret_string("not-the-key");
        faceid::client cl(ioc.get_executor(), o);
        const auto code = live_code(ioc, cl);
        CHECK(code.ec == faceid::errc::auth_failure_signature_failure);
        CHECK(code.diag.server_code() == "AuthFailure.SignatureFailure");
        CHECK_FALSE(code.diag.request_id().empty());
        CHECK(code.diag.attempts() == 1);
        CHECK(code.ec == livefour::condition::auth);
    }
    SUBCASE("RequestLimitExceeded and InternalError are retried, then succeed") {
        emu.fault(R"({"fault":"code","error":"RequestLimitExceeded","count":1,"path":"/"})");
        emu.fault(R"({"fault":"code","error":"InternalError","count":1,"path":"/"})");
        faceid::client cl(ioc.get_executor(), o);
        const auto code = live_code(ioc, cl);
        REQUIRE_FALSE(code.ec);
        CHECK(code.diag.attempts() == 3);
        REQUIRE(code.diag.retries().size() == 2);
        CHECK(code.diag.retries()[0].error == faceid::errc::request_limit_exceeded);
        CHECK(code.diag.retries()[1].error == faceid::errc::internal_error);
    }
    SUBCASE("an unknown code keeps its string; its family classifies it") {
        emu.fault(R"({"fault":"code","error":"RequestLimitExceeded.BrandNewLimit","count":1,"path":"/"})");
        emu.fault(R"({"fault":"code","error":"SomethingNew.Entirely","count":1,"path":"/"})");
        faceid::client cl(ioc.get_executor(), o);
        const auto code = live_code(ioc, cl);
        CHECK(code.ec == faceid::errc::unknown);
        CHECK(code.diag.server_code() == "SomethingNew.Entirely");
        REQUIRE(code.diag.retries().size() == 1);  // the throttled family was retried
        CHECK(code.diag.retries()[0].error == faceid::errc::request_limit_exceeded);
    }
    SUBCASE("a billed outcome is never resent: the Result comes back as is") {
        o.headers = {{"X-Emulator-Force", "result=FailedOperation.CompareLowSimilarity"}};
        faceid::client cl(ioc.get_executor(), o);
        faceid::compare_request req{.liveness = faceid::liveness_type::silent,
                                    .image = livefour::body_source::file(m.image),
                                    .video = livefour::body_source::file(m.video)};
        const auto c = compare(ioc, cl, std::move(req));
        REQUIRE_FALSE(c.ec);
        CHECK(c.r.result == "FailedOperation.CompareLowSimilarity");
        CHECK(c.diag.attempts() == 1);
        CHECK(faceid::decide(c.r).kind == livefour::verdict_kind::compare_failed);
    }
}

TEST_CASE("faceid: a clock an hour off is corrected from the service's Date, once") {
    test::emulator emu;
    asio::io_context ioc;
    auto o = faceid_options(emu.url(), emu.ca_path());
    const auto skew = std::chrono::hours(1);
    o.clock = [skew] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   (std::chrono::system_clock::now() - skew).time_since_epoch())
            .count();
    };
    faceid::client cl(ioc.get_executor(), o);
    const auto code = live_code(ioc, cl);
    REQUIRE_FALSE(code.ec);
    REQUIRE(code.diag.attempt_log().size() == 2);
    CHECK(code.diag.attempt_log()[0].error == faceid::errc::auth_failure_signature_expire);
    REQUIRE(code.diag.retries().size() == 1);
    CHECK(code.diag.retries()[0].delay == std::chrono::milliseconds(0));
    // Later operations use the corrected clock at once.
    const auto next = live_code(ioc, cl);
    REQUIRE_FALSE(next.ec);
    CHECK(next.diag.attempts() == 1);
}

TEST_CASE("faceid: input is checked before anything is sent") {
    test::emulator emu;
    media m(emu.dir.path());
    asio::io_context ioc;
    auto o = faceid_options(emu.url(), emu.ca_path());
    faceid::client cl(ioc.get_executor(), o);
    test::write_file(emu.dir / "empty.mp4", 0);
    std::filesystem::path big = emu.dir / "big.mp4";
    test::write_file(big, 64, test::mp4_magic());
    std::filesystem::resize_file(big, 6'000'001);  // 8,000,004 characters of base64
    std::filesystem::path big_image = emu.dir / "big.jpg";
    test::write_file(big_image, 64, test::jpeg_magic());
    std::filesystem::resize_file(big_image, 2'250'001);

    struct bad {
        const char* what;
        faceid::compare_request req;
        livefour::error_code expected;
    };
    auto req = [&](std::filesystem::path video, std::filesystem::path image) {
        return faceid::compare_request{.liveness = faceid::liveness_type::silent,
                                       .image = livefour::body_source::file(image),
                                       .video = livefour::body_source::file(video)};
    };
    std::vector<bad> cases;
    cases.push_back({"an empty video", req(emu.dir / "empty.mp4", m.image), client_error::empty_source});
    cases.push_back({"a video over 8 MB of base64", req(big, m.image), client_error::video_too_large});
    cases.push_back({"an image over 3 MB of base64", req(m.video, big_image), client_error::image_too_large});
    cases.push_back({"a missing video", req(emu.dir / "missing.mp4", m.image), client_error::file_not_found});
    auto lip = req(m.video, m.image);
    lip.liveness = faceid::liveness_type::lip;
    cases.push_back({"LIP without a live code", std::move(lip), client_error::invalid_argument});
    auto frames = req(m.video, m.image);
    frames.best_frames = 11;
    cases.push_back({"11 best frames", std::move(frames), client_error::invalid_argument});
    auto compares = [&] {
        return emu.stats().at("faceid").at("requests").at("LivenessCompare").to_number<std::int64_t>();
    };
    const auto before = compares();
    for (auto& c : cases) {
        CAPTURE(c.what);
        const auto out = compare(ioc, cl, std::move(c.req));
        CHECK(out.ec == c.expected);
        CHECK_FALSE(out.diag.client_message().empty());
        CHECK(out.diag.attempts() == 0);
    }
    // A body over 10 MB: both media under their own limits, together over the API's.
    auto o2 = o;
    o2.max_upload_bytes = 100'000;  // the body is ~430 KB
    faceid::client small(ioc.get_executor(), o2);
    const auto out = compare(ioc, small, req(m.video, m.image));
    CHECK(out.ec == client_error::upload_too_large);
    CHECK(compares() == before);
}

TEST_CASE("faceid: a peer we did not write verifies TC3 and decodes the exact bytes (Python hmac/hashlib)") {
    test::temp_dir dir;
    const auto& pki = test::test_pki();
    media m(dir.path(), 700'000);
    const auto record = dir / "requests.jsonl";
    test::child peer({LIVEFOUR_TEST_PYTHON, std::string(LIVEFOUR_TEST_PEERS_DIR) + "/tc3_peer.py", "--port", "0",
                      "--tls-cert", (pki / "server.pem").string(), "--tls-key", (pki / "server.key").string(),
                      "--record", record.string(), "--live-code", "4392", "--lifetime", "300"});
    const auto port = peer.listening_port();
    asio::io_context ioc;
    for (const bool unsigned_payload : {false, true}) {
        CAPTURE(unsigned_payload);
        auto o = faceid_options("https://127.0.0.1:" + std::to_string(port), pki / "ca.pem");
        o.unsigned_payload = unsigned_payload;
        o.region = "ap-guangzhou";
        o.write_buffer_size = 16 * 1024;  // many buffers: base64 groups across buffer boundaries
        faceid::client cl(ioc.get_executor(), o);
        faceid::compare_request req{.liveness = faceid::liveness_type::lip,
                                    .validate_data = "4392",
                                    .image = livefour::body_source::file(m.image),
                                    .video = livefour::body_source::file(m.video)};
        const auto c = compare(ioc, cl, std::move(req));
        REQUIRE_MESSAGE(!c.ec, c.ec.message() << " / " << c.diag.server_code() << " / " << c.diag.server_message());
        CHECK(c.r.result == "Success");
    }
    std::ifstream in(record);
    std::vector<boost::json::object> recs;
    for (std::string line; std::getline(in, line);) recs.push_back(boost::json::parse(line).as_object());
    REQUIRE(recs.size() == 2);
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const auto& r = recs[i];
        CAPTURE(i);
        CHECK(r.at("signature_ok").as_bool());
        CHECK(r.at("unsigned_payload").as_bool() == (i == 1));
        CHECK(r.at("region").as_string() == "ap-guangzhou");
        CHECK(r.at("signed_headers").as_string() == "content-type;host");
        CHECK(r.at("video").at("sha256").as_string() == test::sha256_file(m.video));
        CHECK(r.at("image").at("sha256").as_string() == test::sha256_file(m.image));
        CHECK(r.at("fields").at("LivenessType").as_string() == "LIP");
        CHECK(r.at("fields").at("ValidateData").as_string() == "4392");
    }
}
