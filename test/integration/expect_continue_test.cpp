// Expect: 100-continue over real sockets: a request the server refuses on its header (a wrong key)
// costs the header, not the 5 MiB body — against livefour-emulator (legacy) and against
// test/peers/tc3_peer.py, a peer we did not write, that rejects API 3.0 requests early; an
// accepted upload goes through the 100 Continue the server sends.
#include "fixtures.hpp"

#include <livefour/faceid/client.hpp>

#include <fstream>
#include <mutex>

namespace asio = boost::asio;
namespace faceid = livefour::faceid;

namespace {

constexpr std::uint64_t refused_upload_budget = 64 * 1024;

/// The bytes each attempt handed to the kernel.
struct bytes_recorder {
    std::mutex mu;
    std::vector<std::uint64_t> sent;
    livefour::attempt_hook hook() {
        return [this](const livefour::attempt_event& e) {
            std::lock_guard lock(mu);
            sent.push_back(e.bytes_sent);
        };
    }
};

livefour::error_code detect(asio::io_context& ioc, livefour::client& cl, const std::filesystem::path& video) {
    std::optional<livefour::error_code> got;
    livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::file(video)};
    cl.async_detect(std::move(req), [&](livefour::error_code ec, livefour::detect_result) { got = ec; });
    ioc.restart();
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE(got);
    return *got;
}

}  // namespace

TEST_CASE("Expect: 100-continue: a refused 5 MiB upload costs less than 64 KiB, an accepted one goes through") {
    test::emulator emu;
    const auto video = test::write_file(emu.dir / "v.mp4", 5 * 1024 * 1024, test::mp4_magic());
    asio::io_context ioc;
    bytes_recorder rec;
    auto opts = emu.options();
    opts.on_attempt = rec.hook();
    opts.retry = livefour::retry_policy::no_retry();

    SUBCASE("a wrong key: refused on the header, the body never sent") {
        opts.creds.secret_key = livefour::secret_string("WRONG-KEY");
        livefour::client cl(ioc.get_executor(), opts);
        CHECK(detect(ioc, cl, video) == livefour::make_api_error(14));
        REQUIRE(rec.sent.size() == 1);
        CHECK(rec.sent[0] < refused_upload_budget);
        CHECK(emu.count("bytes_received") < static_cast<std::int64_t>(refused_upload_budget));
    }
    SUBCASE("the same without Expect: the whole body goes out first (what the option saves)") {
        opts.creds.secret_key = livefour::secret_string("WRONG-KEY");
        opts.expect_continue_above = 0;
        livefour::client cl(ioc.get_executor(), opts);
        CHECK(detect(ioc, cl, video) == livefour::make_api_error(14));
        REQUIRE(rec.sent.size() == 1);
        CHECK(rec.sent[0] > 5u * 1024 * 1024);
    }
    SUBCASE("accepted: the emulator answers 100 Continue and the upload completes") {
        livefour::client cl(ioc.get_executor(), opts);
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_FALSE(detect(ioc, cl, video));
        MESSAGE("accepted 5 MiB upload with Expect: "
                << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
                << " ms (not a benchmark: see docs/benchmarks.md)");
        REQUIRE(rec.sent.size() == 1);
        CHECK(rec.sent[0] > 5u * 1024 * 1024);
    }
}

TEST_CASE("Expect: 100-continue against a peer we did not write: tc3_peer.py rejects a 5 MiB LivenessCompare early") {
    test::temp_dir dir;
    const auto& pki = test::test_pki();
    const auto video = test::write_file(dir / "v.mp4", 5 * 1024 * 1024, test::mp4_magic());
    const auto image = test::write_file(dir / "p.jpg", 10'000, test::jpeg_magic());
    const auto record = dir / "requests.jsonl";
    test::child peer({LIVEFOUR_TEST_PYTHON, std::string(LIVEFOUR_TEST_PEERS_DIR) + "/tc3_peer.py", "--port", "0",
                      "--tls-cert", (pki / "server.pem").string(), "--tls-key", (pki / "server.key").string(),
                      "--record", record.string(), "--reject-early", "AuthFailure.SignatureFailure", "--lifetime",
                      "300"});
    const auto port = peer.listening_port();
    asio::io_context ioc;
    bytes_recorder rec;
    faceid::client_options o;
    o.endpoint = "https://127.0.0.1:" + std::to_string(port);
    o.creds.secret_id = test::secret_id;
    o.creds.secret_key = livefour::secret_string(test::secret_key);
    o.tls.ca_file = (pki / "ca.pem").string();
    o.unsigned_payload = true;
    o.on_attempt = rec.hook();
    o.thread_safe = test::thread_safe();
    faceid::client cl(ioc.get_executor(), o);
    std::optional<livefour::error_code> got;
    faceid::compare_request req{.liveness = faceid::liveness_type::silent,
                                .image = livefour::body_source::file(image),
                                .video = livefour::body_source::file(video)};
    cl.async_compare(std::move(req), [&](livefour::error_code ec, faceid::liveness_result) { got = ec; });
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE(got);
    CHECK(*got == faceid::errc::auth_failure_signature_failure);
    REQUIRE(rec.sent.size() == 1);
    CHECK(rec.sent[0] < refused_upload_budget);
    std::ifstream in(record);
    std::string line;
    REQUIRE(std::getline(in, line));
    const auto r = boost::json::parse(line).as_object();
    CHECK(r.at("expect_100_continue").as_bool());
    CHECK(r.at("rejected_before_body").as_bool());
}
