// livefour inside a high-concurrency HTTP server (Beast): users upload their video to this server,
// which forwards it to the liveness API through one shared livefour client and answers with the
// verdict.
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-embed-server [--listen 127.0.0.1] [--port 8080] [--threads 4] [--spool-dir /tmp]
//     [--max-upload-bytes N] [--endpoint URL] [--ca-file PEM]
//
//   GET  /digits                       → {"validate_data":"4821"}       (livegetfour)
//   POST /verify?validate_data=4821[&filename=selfie.mp4]
//        body: the raw video (Content-Length or chunked; a video/* Content-Type is passed on)
//                                      → {"accepted":true,"reason":"","reply":{...}}  (livedetectfour)
//
// It prints `listening on ADDRESS:PORT (http)` once ready, and stops on SIGINT/SIGTERM.
//
// How the upload is forwarded, and why it is spooled. livefour streams a request body from a
// `livefour::byte_source` whose read() is called synchronously on the I/O thread and must return
// at least one byte or signal the end (multipart.hpp). A source reading the user's socket would
// therefore have to block the I/O thread until that user sends more: one slow uploader would
// freeze every connection served by the thread. So each upload is streamed, 64 KiB at a time, into
// an anonymous temporary file (memory per upload stays bounded whatever the video size), and the
// file is then streamed to the API by `spooled_video`, a byte_source over the file. This also
// gives what the API wants: an exact Content-Length (the one chunked upload seen in the wild
// failed, docs/protocol.md §4), the 6 MiB limit enforced before a byte goes out, and a rewindable body for the
// client's retries. The price is disk space (at most the limit per upload in flight) and latency
// (the forward starts when the user's upload ends).
#include "example_common.hpp"

#include <livefour/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* usage =
    "usage: livefour-example-embed-server [--listen ADDR] [--port N] [--threads N] [--spool-dir DIR]\n"
    "                                     [--max-upload-bytes N] [--endpoint URL] [--ca-file PEM]\n";

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr auto idle_timeout = std::chrono::seconds(30);   // keep-alive wait for the next request
constexpr auto stall_timeout = std::chrono::seconds(30);  // an upload that stops moving
constexpr std::size_t chunk_size = 64 * 1024;             // the one buffer an upload passes through

livefour::error_code last_errno() { return {errno, boost::system::system_category()}; }

/// A file descriptor, closed with its owner.
class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~unique_fd() { reset(); }
    int get() const noexcept { return fd_; }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

/// An anonymous file in `dir`: unlinked as soon as it is created, so its space is returned when the
/// last descriptor closes, even if this process is killed.
unique_fd make_spool_file(const std::string& dir, livefour::error_code& ec) {
    std::string path = dir + "/livefour-upload-XXXXXX";
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
        ec = last_errno();
        return unique_fd{};
    }
    ::unlink(path.c_str());
    return unique_fd(fd);
}

livefour::error_code write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return last_errno();
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return {};
}

/// The spooled upload as a livefour body source: sized (so the API gets a Content-Length), read
/// with pread from a private offset, and rewindable for the client's retries.
class spooled_video final : public livefour::byte_source {
public:
    spooled_video(unique_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}

    std::optional<std::uint64_t> size() const override { return size_; }

    std::size_t read(std::span<char> out, livefour::error_code& ec) override {
        std::size_t done = 0;
        while (done < out.size() && offset_ < size_) {
            auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size() - done, size_ - offset_));
            ssize_t n = ::pread(fd_.get(), out.data() + done, want, static_cast<off_t>(offset_));
            if (n < 0) {
                if (errno == EINTR) continue;
                ec = last_errno();
                return done;
            }
            if (n == 0) break;  // shorter than recorded: livefour reports file_changed_size
            done += static_cast<std::size_t>(n);
            offset_ += static_cast<std::uint64_t>(n);
        }
        return done;
    }

    void rewind(livefour::error_code&) override { offset_ = 0; }

private:
    unique_fd fd_;
    std::uint64_t size_;
    std::uint64_t offset_ = 0;
};

/// What every connection shares. The client is thread-safe; the rest is read-only.
struct server {
    livefour::client& client;
    std::string spool_dir;
    std::uint64_t max_upload;  // 0 = unlimited
};

using request_parser = http::request_parser<http::buffer_body>;
using response = http::response<http::string_body>;

response reply(http::status status, const json::object& body, const request_parser& parser) {
    response res{status, parser.get().version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(parser.get().keep_alive());
    res.body() = json::serialize(body);
    return res;
}

response error_reply(http::status status, std::string_view message, const request_parser& parser) {
    return reply(status, json::object{{"error", message}}, parser);
}

/// An upstream failure as a reply: bad input → 400/413, rate limit → 503, anything else → 502.
response upstream_error(const livefour::error_code& ec, const livefour::diagnostics& diag,
                        const request_parser& parser) {
    auto status = http::status::bad_gateway;
    if (ec == livefour::client_error::upload_too_large || ec == livefour::api_error::body_too_large)
        status = http::status::payload_too_large;
    else if (ec == livefour::condition::bad_request)
        status = http::status::bad_request;
    else if (ec == livefour::condition::rate_limit)
        status = http::status::service_unavailable;
    // The category and value are stable and documented; the server's text is untrusted and goes to
    // the log, not to our users.
    json::object body{{"error", ec.message()}, {"category", ec.category().name()}, {"code", ec.value()}};
    std::cerr << "upstream: " << ec.message() << " [" << ec.category().name() << ":" << ec.value() << "]"
              << (diag.server_message().empty() ? "" : " server: " + diag.server_message()) << "\n";
    return reply(status, body, parser);
}

/// Streams the rest of the request body into `fd`, one chunk at a time. The write(2) lands in the
/// page cache and returns at once; on a slow disk, hand it to a thread pool instead.
asio::awaitable<livefour::error_code> spool_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                 request_parser& parser, int fd, std::uint64_t& size) {
    std::vector<char> chunk(chunk_size);
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        stream.expires_after(stall_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_result);
        if (ec == http::error::need_buffer) ec = {};  // the chunk is full: not an error
        if (ec) co_return ec;
        std::size_t got = chunk.size() - parser.get().body().size;
        if (auto wec = write_all(fd, chunk.data(), got)) co_return wec;
        size += got;
    }
    co_return livefour::error_code{};
}

asio::awaitable<response> get_digits(server& srv, const request_parser& parser) {
    livefour::diagnostics diag;
    livefour::digits_request request;  // named, not a braced temporary: docs/known-issues.md (GCC 12)
    auto [ec, digits] = co_await srv.client.async_get_digits(std::move(request), diag, as_result);
    if (ec) co_return upstream_error(ec, diag, parser);
    co_return reply(http::status::ok, json::object{{"validate_data", digits.validate_data}}, parser);
}

asio::awaitable<response> verify(server& srv, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                 request_parser& parser, const urls::url_view& target) {
    const auto& req = parser.get();
    std::string digits;
    std::string filename = "video.mp4";
    for (auto param : target.params()) {
        if (param.key == "validate_data") digits = param.value;
        if (param.key == "filename" && !param.value.empty()) filename = param.value;
    }
    // Refuse what can be refused before reading (and storing) the body.
    if (digits.empty()) co_return error_reply(http::status::bad_request, "validate_data is missing", parser);
    if (auto length = parser.content_length(); length && srv.max_upload && *length > srv.max_upload)
        co_return error_reply(http::status::payload_too_large, "upload too large", parser);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_ahead{http::status::continue_, req.version()};
        auto [ec, n] = co_await http::async_write(stream, go_ahead, as_result);
        if (ec) co_return error_reply(http::status::bad_request, "connection failed", parser);
    }

    livefour::error_code ec;
    unique_fd fd = make_spool_file(srv.spool_dir, ec);
    if (ec) co_return error_reply(http::status::internal_server_error, "cannot spool the upload", parser);
    std::uint64_t size = 0;
    ec = co_await spool_body(stream, buffer, parser, fd.get(), size);
    if (ec == http::error::body_limit)
        co_return error_reply(http::status::payload_too_large, "upload too large", parser);
    if (ec) co_return error_reply(http::status::bad_request, "upload failed: " + ec.message(), parser);
    if (size == 0) co_return error_reply(http::status::bad_request, "empty upload", parser);

    // A video/* type from the uploader is passed on; otherwise livefour derives it from the name.
    std::string content_type;
    if (auto ct = req[http::field::content_type]; ct.starts_with("video/")) content_type = std::string(ct);
    livefour::detect_request request{
        .validate_data = std::move(digits),
        .video = livefour::body_source::custom(std::make_shared<spooled_video>(std::move(fd), size),
                                               std::move(filename), std::move(content_type)),
    };
    livefour::diagnostics diag;
    auto [dec, result] = co_await srv.client.async_detect(std::move(request), diag, as_result);
    if (dec) co_return upstream_error(dec, diag, parser);

    livefour::verdict v = livefour::decide(result);
    json::object body{{"accepted", v.accepted()},
                      {"reason", v.accepted() ? "" : v.reason.message()},
                      {"reply", json::parse(livefour::to_json(result))}};
    if (v.sim >= 0) body["sim"] = v.sim;
    co_return reply(http::status::ok, body, parser);
}

asio::awaitable<response> route(server& srv, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                request_parser& parser) {
    const auto& req = parser.get();
    auto target = urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    if (!target) co_return error_reply(http::status::bad_request, "bad request target", parser);
    std::string path = target->path();
    if (path == "/digits") {
        if (req.method() != http::verb::get) co_return error_reply(http::status::method_not_allowed, "use GET", parser);
        co_return co_await get_digits(srv, parser);
    }
    if (path == "/verify") {
        if (req.method() != http::verb::post)
            co_return error_reply(http::status::method_not_allowed, "use POST", parser);
        co_return co_await verify(srv, stream, buffer, parser, *target);
    }
    co_return error_reply(http::status::not_found, "no such endpoint", parser);
}

/// Reads and discards input until the peer closes or two seconds pass ("lingering close").
asio::awaitable<void> drain(beast::tcp_stream& stream) {
    std::vector<char> sink(chunk_size);
    stream.expires_after(std::chrono::seconds(2));
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), as_result);
        if (ec) co_return;
    }
}

/// One client connection: requests one after the other (keep-alive), each on this strand.
asio::awaitable<void> session(beast::tcp_stream stream, server& srv) {
    beast::flat_buffer buffer;
    for (;;) {
        request_parser parser;
        parser.header_limit(8 * 1024);
        // No limit while reading the header, or Beast would refuse a large Content-Length there and
        // we could not answer 413. verify() checks the declared length itself.
        parser.body_limit(boost::none);
        stream.expires_after(idle_timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_result);
        if (ec) break;  // the user left, idled out, or sent garbage
        // From here on the API's limit applies (a chunked body is cut off as it passes it); Beast's
        // default request body limit would be 1 MB.
        parser.body_limit(srv.max_upload ? boost::optional<std::uint64_t>(srv.max_upload) : boost::none);

        response res = co_await route(srv, stream, buffer, parser);
        // A body we did not read (refused early) leaves the stream out of step: close after replying.
        const bool unread_body = !parser.is_done();
        res.keep_alive(res.keep_alive() && !unread_body);
        res.prepare_payload();
        stream.expires_after(idle_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, as_result);
        if (wec) co_return;
        if (!res.keep_alive()) {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            // Closing with unread bytes in the receive queue makes the kernel send a reset, which can
            // destroy our reply before the user reads it. Discard what still arrives for a moment.
            if (unread_body) co_await drain(stream);
            co_return;
        }
    }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, server& srv) {
    for (;;) {
        // Each connection gets its own strand: one session never runs on two threads at once, while
        // sessions run in parallel on the io_context's threads.
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()), as_result);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {  // e.g. out of file descriptors: back off instead of spinning
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(as_result);
            continue;
        }
        auto ex = socket.get_executor();
        asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket)), srv), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    example::args args = example::parse_args(argc, argv, usage,
                                             {"--listen", "--port", "--threads", "--spool-dir", "--max-upload-bytes"});
    livefour::client_options opts = example::client_options_from(args);
    opts.max_upload_bytes = args.get_number("--max-upload-bytes", opts.max_upload_bytes);
    // One body-writer buffer per upload in flight: with many uploads at once, keep it small.
    opts.write_buffer_size = chunk_size;
    const auto threads = static_cast<int>(args.get_number("--threads", 4));
    const auto port = args.get_number("--port", 8080);
    if (threads < 1 || port > 65535) {
        std::cerr << usage;
        return 2;
    }

    asio::io_context ioc(threads);
    livefour::client client = example::make_client(ioc.get_executor(), opts);
    server srv{client, args.get("--spool-dir", "/tmp"), opts.max_upload_bytes};

    tcp::acceptor acceptor(ioc);
    try {
        tcp::endpoint where{asio::ip::make_address(args.get("--listen", "127.0.0.1")),
                            static_cast<unsigned short>(port)};
        acceptor = tcp::acceptor(ioc, where);  // open, SO_REUSEADDR, bind, listen
    } catch (const boost::system::system_error& e) {
        std::cerr << "cannot listen: " << e.what() << "\n";
        return 1;
    }
    std::cout << "listening on " << acceptor.local_endpoint() << " (http)" << std::endl;

    // Stops at once: uploads in flight are dropped (their users see a closed connection).
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const livefour::error_code&, int) {
        client.close();
        ioc.stop();
    });
    asio::co_spawn(ioc, accept_loop(acceptor, srv), asio::detached);

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    return 0;
}
