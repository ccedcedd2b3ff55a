// Our client against our emulator over real sockets: the whole protocol, every completion-token
// style, file and memory sources, Content-Length and chunked, sizes from 1 byte to 64 MiB, and
// every bad input refused before a byte is sent.
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

/// Checks the emulator's view of the last detect request against the bytes we sent.
void check_last_parts(const test::emulator& emu, const std::string& video_sha, std::uint64_t video_size,
                      const std::string& card_sha = {}) {
    auto st = emu.stats();
    auto& parts = st.at("last_parts").as_array();
    bool saw_video = false, saw_card = false;
    for (auto& pv : parts) {
        auto& p = pv.as_object();
        auto name = std::string(p.at("name").as_string());
        if (name == "video") {
            saw_video = true;
            CHECK(std::string(p.at("sha256").as_string()) == video_sha);
            CHECK(p.at("size").to_number<std::uint64_t>() == video_size);
        }
        if (name == "card") {
            saw_card = true;
            CHECK(std::string(p.at("sha256").as_string()) == card_sha);
        }
    }
    CHECK(saw_video);
    CHECK(saw_card == !card_sha.empty());
}

}  // namespace

TEST_CASE("digits then detect over verified TLS with co_await (deferred default token)") {
    test::emulator emu;
    auto video = test::write_file(emu.dir / "clip.mp4", 300'000, test::mp4_magic());
    auto card = test::write_file(emu.dir / "card.jpg", 20'000, test::jpeg_magic(), 7);
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), emu.options());

    auto res = test::run_bounded(ioc, [&]() -> asio::awaitable<livefour::detect_result> {
        auto digits = co_await cl.async_get_digits();
        CHECK(digits.validate_data.size() == 4);
        livefour::detect_request req{.validate_data = digits.validate_data,
                                     .video = livefour::body_source::file(video),
                                     .card = livefour::body_source::file(card)};
        co_return co_await cl.async_detect(std::move(req));
    }());
    CHECK(res.code == 0);
    REQUIRE(res.live_status.has_value());
    CHECK(*res.live_status == 0);
    REQUIRE(res.compare_status.has_value());
    CHECK(*res.compare_status == 0);
    REQUIRE(res.sim.has_value());
    CHECK(res.decode_photo().has_value());
    check_last_parts(emu, test::sha256_file(video), 300'000, test::sha256_file(card));
    auto stats = cl.stats();
    CHECK(stats.created == 1);  // the detect reused the kept-alive connection
    CHECK(stats.reused == 1);
}

TEST_CASE("every completion-token style") {
    test::emulator emu;
    auto video = test::write_file(emu.dir / "v.webm", 50'000, "\x1A\x45\xDF\xA3");
    asio::io_context ioc;
    livefour::client cl(ioc.get_executor(), emu.options());

    SUBCASE("use_awaitable") {
        auto d = test::run_bounded(ioc, [&]() -> asio::awaitable<std::string> {
            auto r = co_await cl.async_get_digits({}, asio::use_awaitable);
            co_return r.validate_data;
        }());
        CHECK(d.size() == 4);
    }
    SUBCASE("as_tuple(deferred) keeps the API error and the reply") {
        auto [ec, r] =
            test::run_bounded(ioc, [&]() -> asio::awaitable<std::tuple<livefour::error_code, livefour::detect_result>> {
                livefour::detect_request req{.validate_data = "1234",
                                             .video = livefour::body_source::file(video),
                                             .seq = std::string("force:code=15")};
                co_return co_await cl.async_detect(std::move(req), asio::as_tuple(asio::deferred));
            }());
        // Code 15 on every attempt: retried, then given up; the last reply still carries the code.
        CHECK(ec == client_error::retries_exhausted);
        CHECK(r.code == 15);
    }
    SUBCASE("callback with diagnostics") {
        livefour::diagnostics diag;
        std::optional<livefour::error_code> got;
        livefour::digits_result out;
        cl.async_get_digits({}, diag, [&](livefour::error_code ec, livefour::digits_result r) {
            got = ec;
            out = std::move(r);
        });
        CHECK_FALSE(got.has_value());  // never completes inline
        ioc.run_for(std::chrono::seconds(30));
        REQUIRE(got.has_value());
        CHECK_FALSE(*got);
        CHECK(out.validate_data.size() == 4);
        CHECK(diag.http_status() == 200);
    }
    SUBCASE("use_future from a thread that is not running the io_context") {
        auto work = asio::make_work_guard(ioc);
        std::thread runner([&] { ioc.run_for(std::chrono::seconds(60)); });
        auto fut = cl.async_get_digits({}, asio::use_future);
        REQUIRE(fut.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
        CHECK(fut.get().validate_data.size() == 4);
        livefour::detect_request req{.validate_data = "0000", .video = livefour::body_source::file(video)};
        auto fut2 = cl.async_detect(std::move(req), asio::use_future);
        REQUIRE(fut2.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
        auto r = fut2.get();
        CHECK(r.live_status == -5008);  // "0000" was never issued: the wrong digits were read
        work.reset();
        ioc.stop();
        runner.join();
    }
}

TEST_CASE("sources, sizes and encodings reach the server byte-exact") {
    const std::uint64_t sizes[] = {
        1, 23, 16 * 1024, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024 + 7, 64ull * 1024 * 1024};
    test::emulator emu({"--max-body-bytes", "0"});
    asio::io_context ioc;
    auto opts = emu.options();
    opts.max_upload_bytes = 0;
    bool chunked = false;
    SUBCASE("content-length") { chunked = false; }
    SUBCASE("chunked") { chunked = true; }
    opts.force_chunked = chunked;
    livefour::client cl(ioc.get_executor(), opts);
    for (auto size : sizes) {
        CAPTURE(size);
        CAPTURE(chunked);
        auto path = test::write_file(emu.dir / ("v" + std::to_string(size) + ".mp4"), size, test::mp4_magic(),
                                     static_cast<unsigned>(size));
        std::uint64_t last_sent = 0;
        livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::file(path)};
        req.on_progress = [&](std::uint64_t sent, std::optional<std::uint64_t>) { last_sent = sent; };
        auto [ec, r] = test::run_bounded(ioc, cl.async_detect(std::move(req), asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        CHECK(r.code == 0);
        check_last_parts(emu, test::sha256_file(path), size);
        if (!chunked) CHECK(last_sent > size);  // all of the body, framing included
    }
    {
        std::string bytes = test::mp4_magic() + std::string(100'000, 'x');
        livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::memory(bytes, "mem.mp4")};
        auto [ec, r] = test::run_bounded(ioc, cl.async_detect(std::move(req), asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        check_last_parts(emu, test::sha256_hex(bytes), bytes.size());
    }
}

TEST_CASE("plain http works only when explicitly allowed") {
    test::emulator emu({}, /*tls=*/false);
    auto opts = emu.options();
    opts.allow_insecure_http = false;
    asio::io_context ioc;
    try {
        livefour::client cl(ioc.get_executor(), opts);
        FAIL("http:// accepted without opt-in");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == client_error::insecure_http_refused);
    }
    opts.allow_insecure_http = true;
    livefour::client cl(ioc.get_executor(), opts);
    auto d = test::run_bounded(ioc, cl.async_get_digits({}, asio::use_awaitable));
    CHECK(d.validate_data.size() == 4);
}

TEST_CASE("bad input gets a specific error and sends nothing") {
    test::emulator emu;
    asio::io_context ioc;
    auto opts = emu.options();
    opts.max_upload_bytes = 1024 * 1024;
    livefour::client cl(ioc.get_executor(), opts);
    auto video = test::write_file(emu.dir / "ok.mp4", 1000, test::mp4_magic());
    auto big = test::write_file(emu.dir / "big.mp4", 1024 * 1024 + 1, test::mp4_magic());
    const auto before = emu.count("requests");

    auto detect = [&](livefour::detect_request req) {
        livefour::diagnostics diag;
        auto [ec, r] =
            test::run_bounded(ioc, cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(diag.client_message().empty());
        return ec;
    };
    CHECK(detect({.validate_data = "1234", .video = livefour::body_source::file(emu.dir / "missing.mp4")}) ==
          client_error::file_not_found);
    CHECK(detect({.validate_data = "1234", .video = livefour::body_source::file(emu.dir.path())}) ==
          client_error::file_unreadable);
    CHECK(detect({.validate_data = "", .video = livefour::body_source::file(video)}) == client_error::invalid_argument);
    CHECK(detect({.validate_data = "12\r\n34", .video = livefour::body_source::file(video)}) ==
          client_error::invalid_field);
    CHECK(detect({.validate_data = "1234", .video = livefour::body_source::file(big)}) ==
          client_error::upload_too_large);
    CHECK(detect({.validate_data = "1234", .video = livefour::body_source::file(video, "", "a\"b\r\n.mp4")}) ==
          client_error::invalid_field);
    CHECK(emu.count("requests") == before);  // not one request reached the server

    auto bad_url = [&](std::string url) {
        auto o = emu.options();
        o.endpoint = std::move(url);
        try {
            livefour::client c(ioc.get_executor(), o);
        } catch (const boost::system::system_error& e) {
            return e.code();
        }
        return livefour::error_code{};
    };
    CHECK(bad_url("not a url") == client_error::bad_endpoint);
    CHECK(bad_url("ftp://127.0.0.1/") == client_error::bad_endpoint);
    CHECK(bad_url("https://user:pw@127.0.0.1/") == client_error::bad_endpoint);
    CHECK(bad_url("http://127.0.0.1:1/") == client_error::insecure_http_refused);
    auto o = emu.options();
    o.creds.secret_key = livefour::secret_string("");
    CHECK_THROWS_AS(livefour::client(ioc.get_executor(), o), boost::system::system_error);

    // The User-Agent goes into every header verbatim: no control characters, bounded length.
    auto agent = [&](std::string ua) {
        auto u = emu.options();
        u.user_agent = std::move(ua);
        return livefour::validate(u);
    };
    CHECK_FALSE(agent("myapp/2.3 (linux) livefour/0.1"));
    CHECK_FALSE(agent(std::string(1024, 'a')));
    CHECK(agent(std::string(1025, 'a')) == client_error::invalid_argument);
    CHECK(agent("a\r\nX-Injected: 1") == client_error::invalid_argument);
    CHECK(agent(std::string("a\0b", 3)) == client_error::invalid_argument);
    CHECK(agent("tab\there") == client_error::invalid_argument);
}

TEST_CASE("a file that shrinks or grows during the upload is an error, never a wrong body") {
    test::emulator emu;
    asio::io_context ioc;
    auto opts = emu.options();
    opts.write_buffer_size = 16 * 1024;
    livefour::client cl(ioc.get_executor(), opts);
    const std::uint64_t size = 2 * 1024 * 1024;
    auto path = test::write_file(emu.dir / "change.mp4", size, test::mp4_magic());

    bool grow = false;
    SUBCASE("shrinks") { grow = false; }
    SUBCASE("grows") { grow = true; }
    bool changed = false;
    livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::file(path)};
    req.on_progress = [&](std::uint64_t sent, std::optional<std::uint64_t>) {
        if (changed || sent < 64 * 1024) return;
        changed = true;
        if (grow) {
            std::ofstream f(path, std::ios::app | std::ios::binary);
            f << "extra bytes";
        } else {
            std::filesystem::resize_file(path, size / 2);
        }
    };
    livefour::diagnostics diag;
    auto [ec, r] = test::run_bounded(ioc, cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable)));
    CHECK(changed);
    CHECK(ec == client_error::file_changed_size);
    CHECK_FALSE(diag.client_message().empty());
    // The server never completed a (wrong) body: no parts recorded, no verdict given.
    auto st = emu.stats();
    CHECK(st.at("last_parts").as_array().empty());
    CHECK_FALSE(st.at("codes").as_object().contains("0"));
}

TEST_CASE("cancellation mid-upload completes promptly with operation_aborted") {
    test::emulator emu({"--max-body-bytes", "0"});
    asio::io_context ioc;
    auto opts = emu.options();
    opts.max_upload_bytes = 0;
    livefour::client cl(ioc.get_executor(), opts);
    auto path = test::write_file(emu.dir / "large.mp4", 256ull * 1024 * 1024, test::mp4_magic());
    asio::cancellation_signal sig;
    bool emitted = false;
    std::optional<livefour::error_code> got;
    livefour::detect_request req{.validate_data = "1234", .video = livefour::body_source::file(path)};
    req.on_progress = [&](std::uint64_t sent, std::optional<std::uint64_t>) {
        if (!emitted && sent > 4 * 1024 * 1024) {
            emitted = true;
            asio::post(ioc, [&] { sig.emit(asio::cancellation_type::terminal); });
        }
    };
    cl.async_detect(
        std::move(req),
        asio::bind_cancellation_slot(sig.slot(), [&](livefour::error_code ec, livefour::detect_result) { got = ec; }));
    auto t0 = std::chrono::steady_clock::now();
    ioc.run_for(std::chrono::seconds(60));
    REQUIRE(got.has_value());
    CHECK(*got == asio::error::operation_aborted);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    auto st = cl.stats();
    CHECK(st.in_use == 0);
    CHECK(st.idle == 0);  // the cancelled exchange's connection was closed, not pooled
}

TEST_CASE("a new connection resumes the cached TLS session") {
    test::emulator emu;
    asio::io_context ioc;
    auto opts = emu.options();
    opts.pool.max_idle = std::chrono::milliseconds(1);  // every request finds its idle connection too old
    livefour::client cl(ioc.get_executor(), opts);
    for (int i = 0; i < 3; ++i) {
        auto d = test::run_bounded(ioc, cl.async_get_digits({}, asio::use_awaitable));
        CHECK(d.validate_data.size() == 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto st = cl.stats();
    CHECK(st.created == 3);
    CHECK(st.evicted == 2);
    CHECK(st.tls_resumed == 2);
}

namespace {

/// A user source that produces `size` deterministic bytes, optionally without telling its size.
class generated_source : public livefour::byte_source {
public:
    generated_source(std::uint64_t size, bool sized) : size_(size), sized_(sized) {}
    std::optional<std::uint64_t> size() const override {
        return sized_ ? std::optional<std::uint64_t>(size_) : std::nullopt;
    }
    std::size_t read(std::span<char> out, livefour::error_code&) override {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - pos_));
        for (std::size_t i = 0; i < n; ++i) out[i] = byte_at(pos_ + i);
        pos_ += n;
        return n;
    }
    void rewind(livefour::error_code&) override { pos_ = 0; }
    std::string all() const {
        std::string s(size_, '\0');
        for (std::uint64_t i = 0; i < size_; ++i) s[i] = byte_at(i);
        return s;
    }

private:
    char byte_at(std::uint64_t i) const {
        static const std::string magic = test::mp4_magic();
        return i < magic.size() ? magic[i] : static_cast<char>((i * 2654435761u) >> 13);
    }
    std::uint64_t size_, pos_ = 0;
    bool sized_;
};

}  // namespace

TEST_CASE("user byte sources: sized ones get a Content-Length, unsized ones go chunked and are bounded") {
    test::emulator emu;
    asio::io_context ioc;
    auto opts = emu.options();
    livefour::client cl(ioc.get_executor(), opts);
    for (bool sized : {true, false}) {
        CAPTURE(sized);
        auto src = std::make_shared<generated_source>(700'001, sized);
        livefour::detect_request req;
        req.validate_data = "1234";
        req.video = livefour::body_source::custom(src, "stream.mp4");
        auto [ec, r] = test::run_bounded(ioc, cl.async_detect(std::move(req), asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec);
        check_last_parts(emu, test::sha256_hex(src->all()), 700'001);
    }
    // An unsized source larger than max_upload_bytes is stopped while streaming.
    auto big = std::make_shared<generated_source>(opts.max_upload_bytes + 1, false);
    livefour::detect_request req;
    req.validate_data = "1234";
    req.video = livefour::body_source::custom(big, "big.mp4");
    livefour::diagnostics diag;
    auto [ec, r] = test::run_bounded(ioc, cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable)));
    CHECK(ec == client_error::upload_too_large);
    CHECK(diag.client_message().find("while streaming") != std::string::npos);
}
