// Expect: 100-continue over real sockets: a request the server refuses on its header (a wrong key)
// costs the header, not the 5 MiB body — against livefour-emulator (legacy) and against
// test/peers/tc3_peer.py, a peer we did not write, that rejects API 3.0 requests early; an
// accepted upload goes through the 100 Continue the server sends.
#include "fixtures.hpp"

#include <livefour/faceid/client.hpp>

#include <fstream>
#include <thread>

#include <unistd.h>
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

TEST_CASE("Expect: 100-continue against a server that never answers it: the body follows after continue_wait") {
    // An HTTP/1.0-minded server: reads the header, sends no 100 Continue, waits for the body.
    unsigned short port = 0;
    const int fd = test::listen_loopback(port);
    test::temp_dir dir;
    const auto video = test::write_file(dir / "v.mp4", 2 * 1024 * 1024, test::mp4_magic());
    std::string header;
    std::uint64_t body_received = 0;
    std::chrono::steady_clock::time_point header_at, first_body_at;
    std::thread server([&] {
        const int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) return;
        std::string in;
        char buf[65536];
        std::size_t length = 0;
        for (;;) {
            const auto n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            const auto was = in.size();
            in.append(buf, static_cast<std::size_t>(n));
            if (header.empty()) {
                const auto end = in.find("\r\n\r\n");
                if (end == std::string::npos) continue;
                header_at = std::chrono::steady_clock::now();
                header = in.substr(0, end + 4);
                const auto cl = header.find("Content-Length: ");
                if (cl != std::string::npos) length = std::stoull(header.substr(cl + 16));
                if (in.size() > header.size()) first_body_at = header_at;
                body_received = in.size() - header.size();
            } else {
                if (was == header.size()) first_body_at = std::chrono::steady_clock::now();
                body_received += static_cast<std::uint64_t>(n);
            }
            if (!header.empty() && body_received >= length) break;
        }
        const std::string body = R"({"code":0,"message":"OK","data":{"live_status":0,"live_msg":"OK"}})";
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n\r\n" + body;
        (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
    });
    auto o = test::raw_server_options(port);
    o.timeout.continue_wait = std::chrono::milliseconds(300);
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), o);
    const auto ec = detect(ioc, cl, video);
    server.join();
    ::close(fd);
    CHECK_FALSE(ec);
    CHECK(header.find("Expect: 100-continue\r\n") != std::string::npos);
    CHECK(body_received >= 2u * 1024 * 1024);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(first_body_at - header_at);
    MESSAGE("the body began " << waited.count() << " ms after the header (continue_wait 300 ms)");
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(waited < std::chrono::seconds(5));
}
