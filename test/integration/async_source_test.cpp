// Async body sources over real sockets: a socket (make_stream_source over a socket pair that a
// writer feeds while the request is sent) as the video of a legacy detect (sized and chunked) and
// of an API 3.0 LivenessCompare (UNSIGNED-PAYLOAD; a signed payload is refused before anything is
// sent); the retry rule for one-shot sources (resent while none of its bytes was taken, never after).
#include "fixtures.hpp"

#include <livefour/async_source.hpp>
#include <livefour/faceid/client.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
namespace faceid = livefour::faceid;
using livefour::client_error;

namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

std::string video_bytes(std::size_t size, unsigned seed = 11) {
    std::string v = test::mp4_magic();
    std::mt19937_64 rng(seed);
    while (v.size() < size) v.push_back(static_cast<char>(rng()));
    v.resize(size);
    return v;
}

/// A socket pair: the client reads `reader` (the source) while a coroutine writes `bytes` into the
/// other end in 10 KiB pieces, then closes it.
struct piped_video {
    piped_video(asio::io_context& ioc, std::string bytes) : reader(ioc), writer(ioc), data(std::move(bytes)) {
        asio::local::connect_pair(reader, writer);
        asio::co_spawn(
            ioc,
            [this]() -> asio::awaitable<void> {
                for (std::size_t off = 0; off < data.size(); off += 10 * 1024) {
                    const auto n = std::min<std::size_t>(10 * 1024, data.size() - off);
                    auto [ec, k] = co_await asio::async_write(writer, asio::buffer(data.data() + off, n), as_result);
                    if (ec) co_return;
                    written += k;
                }
                writer.shutdown(asio::socket_base::shutdown_send);
            },
            asio::detached);
    }
    asio::local::stream_protocol::socket reader, writer;
    std::string data;
    std::size_t written = 0;
};

template <class Result, class Start>
std::pair<livefour::error_code, Result> run(asio::io_context& ioc, Start start) {
    std::optional<std::pair<livefour::error_code, Result>> out;
    start([&](livefour::error_code ec, Result r) { out.emplace(ec, std::move(r)); });
    ioc.restart();
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE_MESSAGE(out, "the operation did not complete");
    return *out;
}

std::string digits(asio::io_context& ioc, livefour::client& cl) {
    auto [ec, d] = run<livefour::digits_result>(ioc, [&](auto h) { cl.async_get_digits({}, h); });
    REQUIRE_FALSE(ec);
    return d.validate_data;
}

}  // namespace

TEST_CASE("async source: a socket as the video of a legacy detect, sized (Content-Length) and unsized (chunked)") {
    test::emulator emu;
    asio::io_context ioc;
    auto o = emu.options();
    livefour::client cl(ioc.get_executor(), o);
    for (const bool sized : {true, false}) {
        CAPTURE(sized);
        const auto d = digits(ioc, cl);
        piped_video pipe(ioc, video_bytes(2 * 1024 * 1024 + 17));
        const auto size = sized ? std::optional<std::uint64_t>(pipe.data.size()) : std::nullopt;
        livefour::diagnostics diag;
        livefour::detect_request req{
            .validate_data = d,
            .video = livefour::body_source::async(livefour::make_stream_source(pipe.reader, size), "v.mp4")};
        auto [ec, r] = run<livefour::detect_result>(ioc, [&](auto h) { cl.async_detect(std::move(req), diag, h); });
        REQUIRE_MESSAGE(!ec, ec.message(), " ", diag.client_message());
        CHECK(r.live_status == 0);
        CHECK(pipe.written == pipe.data.size());
    }
    CHECK(emu.count("livedetectfour") == 2);
}

TEST_CASE("async source: API 3.0 needs UNSIGNED-PAYLOAD for it; refused before sending otherwise") {
    test::emulator emu;
    const auto image = test::write_file(emu.dir / "card.jpg", 20'000, test::jpeg_magic(), 8);
    asio::io_context ioc;
    faceid::client_options o;
    o.endpoint = emu.url();
    o.creds.secret_id = test::secret_id;
    o.creds.secret_key = livefour::secret_string(test::secret_key);
    o.tls.ca_file = emu.ca_path().string();
    o.thread_safe = test::thread_safe();
    bool unsigned_payload = false;
    SUBCASE("signed payload: invalid_argument, nothing sent") { unsigned_payload = false; }
    SUBCASE("UNSIGNED-PAYLOAD: sent while it is read") { unsigned_payload = true; }
    o.unsigned_payload = unsigned_payload;
    faceid::client cl(ioc.get_executor(), o);
    piped_video pipe(ioc, video_bytes(600'000));
    faceid::compare_request req{
        .liveness = faceid::liveness_type::silent,
        .image = livefour::body_source::file(image),
        .video = livefour::body_source::async(
            livefour::make_stream_source(pipe.reader, std::optional<std::uint64_t>(pipe.data.size())), "v.mp4")};
    livefour::diagnostics diag;
    auto [ec, r] = run<faceid::liveness_result>(ioc, [&](auto h) { cl.async_compare(std::move(req), diag, h); });
    if (unsigned_payload) {
        CHECK_MESSAGE(!ec, ec.message(), " ", diag.client_message());
        CHECK(emu.stats().at("requests_started").at("total").to_number<int>() == 1);
    } else {
        CHECK(ec == client_error::invalid_argument);
        CHECK(diag.client_message().find("unsigned_payload") != std::string::npos);
        CHECK(emu.stats().at("requests_started").at("total").to_number<int>() == 0);
    }
}

TEST_CASE("async source: a one-shot source is resent while none of its bytes was taken, never after") {
    // No body limit: the reset below must come while the body is still going out, so the video is
    // larger than the loopback buffers can swallow (as in retry_test.cpp).
    test::emulator emu({"--max-body-bytes", "0"});
    asio::io_context ioc;
    auto o = emu.options();
    o.expect_continue_above = 1;  // the header goes alone: a reset then comes before any body byte
    o.retry.initial_backoff = std::chrono::milliseconds(1);
    o.max_upload_bytes = 0;
    livefour::client cl(ioc.get_executor(), o);
    const auto d = digits(ioc, cl);
    livefour::diagnostics diag;

    SUBCASE("reset before the body: the resend sends it, whole") {
        piped_video pipe(ioc, video_bytes(1024 * 1024));
        const auto size = std::optional<std::uint64_t>(pipe.data.size());
        emu.fault(R"({"fault":"reset","when":"before_body","path":"/face/livedetectfour"})");
        livefour::detect_request req{
            .validate_data = d,
            .video = livefour::body_source::async(livefour::make_stream_source(pipe.reader, size), "v.mp4")};
        auto [ec, r] = run<livefour::detect_result>(ioc, [&](auto h) { cl.async_detect(std::move(req), diag, h); });
        REQUIRE_MESSAGE(!ec, ec.message(), " ", diag.client_message());
        CHECK(r.live_status == 0);
        CHECK(emu.fired("reset") == 1);
        REQUIRE(diag.attempt_log().size() == 2);  // on the reused connection: a keep-alive resend
        CHECK_FALSE(diag.attempt_log()[0].request_fully_sent);
        CHECK(pipe.written == pipe.data.size());
    }
    SUBCASE("reset after 4 MiB of body: not resent, the cause returned") {
        piped_video pipe(ioc, video_bytes(48 * 1024 * 1024));
        const auto size = std::optional<std::uint64_t>(pipe.data.size());
        emu.fault(R"({"fault":"reset","when":"after_body_bytes","bytes":4194304,"path":"/face/livedetectfour"})");
        livefour::detect_request req{
            .validate_data = d,
            .video = livefour::body_source::async(livefour::make_stream_source(pipe.reader, size), "v.mp4")};
        auto [ec, r] = run<livefour::detect_result>(ioc, [&](auto h) { cl.async_detect(std::move(req), diag, h); });
        CHECK(emu.fired("reset") == 1);
        CHECK(ec);
        CHECK(ec != client_error::retries_exhausted);
        REQUIRE(diag.attempt_log().size() == 1);
        CHECK_FALSE(diag.attempt_log()[0].request_fully_sent);
        INFO(diag.client_message());
        CHECK(diag.client_message().find("cannot be read again") != std::string::npos);
        CHECK(emu.count("livedetectfour") == 0);
    }
}
