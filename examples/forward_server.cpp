// livefour inside a server that forwards uploads while they arrive: a phone POSTs its video to
// this server (plain HTTP, Beast), and the server passes the body on to the liveness API
// (livedetectfour) through one shared livefour client as it comes in — no temporary file, no
// copy of the whole video in memory — then answers the phone with the verdict.
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-forward-server [--listen 127.0.0.1] [--port 8080] [--threads 2]
//     [--max-upload-bytes N] [--write-buffer-bytes N] [--max-connections N] [--stall-ms N]
//     [--endpoint URL] [--ca-file PEM]
//
//   GET  /digits                       → {"validate_data":"4821"}       (livegetfour)
//   POST /verify?validate_data=4821[&filename=selfie.mp4]
//        body: the raw video (Content-Length: forwarded with an exact Content-Length; chunked:
//        forwarded chunked)           → {"accepted":true,"reason":"","reply":{...}}
//
// It prints `listening on ADDRESS:PORT (http)` once ready, and stops on SIGINT/SIGTERM.
//
// How. The request's header is read with a request_parser<buffer_body>; its body is then handed to
// livefour as an async source (livefour::make_request_body_source, <livefour/beast_source.hpp>).
// The client reads one write buffer from the phone, sends it, and only then reads the next: at
// most one buffer per upload is between the phone and the API, so a slow phone slows the upload
// and a slow API slows the phone (TCP backpressure). Memory per upload stays at about one write
// buffer (--write-buffer-bytes) plus the connection's state, whatever the video's size.
//
// What is different from spooling (examples/embed_server.cpp): the body can be read only once, so
// a failure after its first bytes went out is not retried (the phone gets the error and uploads
// again); a phone that disconnects mid-upload aborts the upstream request (client_error::
// source_failed; that connection is closed, not reused); a phone that stops sending is cut off
// after --stall-ms (client_error::stall_timeout). For API 3.0 (faceid) the same source needs
// faceid::client_options::unsigned_payload: a body that has not arrived yet cannot be hashed.
#include "example_common.hpp"

#include <livefour/beast_source.hpp>
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

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
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
    "usage: livefour-example-forward-server [--listen ADDR] [--port N] [--threads N] [--max-upload-bytes N]\n"
    "                                       [--write-buffer-bytes N] [--max-connections N] [--stall-ms N]\n"
    "                                       [--endpoint URL] [--ca-file PEM]\n";

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr auto idle_timeout = std::chrono::seconds(30);  // keep-alive wait for the next request

/// What every connection shares. The client is thread-safe; the rest is read-only.
struct server {
    livefour::client& client;
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

/// An upstream failure as a reply: the phone stopped sending → 408, bad input → 400/413, rate
/// limit → 503, anything else → 502.
response upstream_error(const livefour::error_code& ec, const livefour::diagnostics& diag,
                        const request_parser& parser) {
    auto status = http::status::bad_gateway;
    if (ec == livefour::client_error::stall_timeout && !parser.is_done())
        status = http::status::request_timeout;  // most likely the phone, not the API
    else if (ec == livefour::client_error::upload_too_large || ec == livefour::api_error::body_too_large)
        status = http::status::payload_too_large;
    else if (ec == livefour::client_error::source_failed)
        status = http::status::bad_request;  // the upload broke off (or passed --max-upload-bytes)
    else if (ec == livefour::condition::bad_request)
        status = http::status::bad_request;
    else if (ec == livefour::condition::rate_limit)
        status = http::status::service_unavailable;
    json::object body{{"error", ec.message()}, {"category", ec.category().name()}, {"code", ec.value()}};
    example::print_error("upstream", ec, diag);
    return reply(status, body, parser);
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
    // Refuse what can be refused before the body moves.
    if (digits.empty()) co_return error_reply(http::status::bad_request, "validate_data is missing", parser);
    if (auto length = parser.content_length(); length && srv.max_upload && *length > srv.max_upload)
        co_return error_reply(http::status::payload_too_large, "upload too large", parser);
    if (parser.content_length() && *parser.content_length() == 0)
        co_return error_reply(http::status::bad_request, "empty upload", parser);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_ahead{http::status::continue_, req.version()};
        auto [ec, n] = co_await http::async_write(stream, go_ahead, as_result);
        if (ec) co_return error_reply(http::status::bad_request, "connection failed", parser);
    }

    // From here the client reads the phone: its stall timeout bounds each read (a phone that stops
    // sending), so the stream's own deadline is off while the upload is forwarded.
    stream.expires_never();
    std::string content_type;
    if (auto ct = req[http::field::content_type]; ct.starts_with("video/")) content_type = std::string(ct);
    livefour::detect_request request{
        .validate_data = std::move(digits),
        .video = livefour::body_source::async(livefour::make_request_body_source(stream, buffer, parser),
                                              std::move(filename), std::move(content_type)),
    };
    livefour::diagnostics diag;
    auto [ec, result] = co_await srv.client.async_detect(std::move(request), diag, as_result);
    if (ec) co_return upstream_error(ec, diag, parser);

    livefour::verdict v = livefour::decide(result);
    json::object body{{"accepted", v.accepted()},
                      {"reason", v.accepted() ? "" : v.reason.message()},
                      {"reply", json::parse(livefour::to_json(result))}};
    if (v.sim >= 0) body["sim"] = v.sim;
    co_return reply(http::status::ok, body, parser);
}

asio::awaitable<response> get_digits(server& srv, const request_parser& parser) {
    livefour::diagnostics diag;
    livefour::digits_request request;  // named, not a braced temporary: docs/known-issues.md (GCC 12)
    auto [ec, digits] = co_await srv.client.async_get_digits(std::move(request), diag, as_result);
    if (ec) co_return upstream_error(ec, diag, parser);
    co_return reply(http::status::ok, json::object{{"validate_data", digits.validate_data}}, parser);
}

asio::awaitable<response> route(server& srv, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                request_parser& parser) {
    const auto& req = parser.get();
    auto target = urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
    if (!target) co_return error_reply(http::status::bad_request, "bad request target", parser);
    const std::string path = target->path();
    if (path == "/digits") {
        if (req.method() != http::verb::get) co_return error_reply(http::status::method_not_allowed, "use GET", parser);
        co_return co_await get_digits(srv, parser);
    }
    if (path != "/verify") co_return error_reply(http::status::not_found, "no such endpoint", parser);
    if (req.method() != http::verb::post) co_return error_reply(http::status::method_not_allowed, "use POST", parser);
    co_return co_await verify(srv, stream, buffer, parser, *target);
}

/// Reads and discards input until the peer closes or two seconds pass ("lingering close").
asio::awaitable<void> drain(beast::tcp_stream& stream) {
    std::vector<char> sink(16 * 1024);
    stream.expires_after(std::chrono::seconds(2));
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), as_result);
        if (ec) co_return;
    }
}

/// One phone connection: requests one after the other (keep-alive), each on this strand.
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
        if (ec) break;  // the phone left, idled out, or sent garbage
        // The parser stays unlimited: the client stops a chunked upload that runs past
        // max_upload_bytes itself (client_error::upload_too_large, answered with 413).

        response res = co_await route(srv, stream, buffer, parser);
        // A body not read to its end (refused early, broken off) leaves the stream out of step.
        const bool unread_body = !parser.is_done();
        res.keep_alive(res.keep_alive() && !unread_body);
        res.prepare_payload();
        stream.expires_after(idle_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, as_result);
        if (wec) co_return;  // e.g. the phone that disconnected mid-upload: nobody to answer
        if (!res.keep_alive()) {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            // Closing with unread bytes makes the kernel send a reset that can destroy the reply.
            if (unread_body) co_await drain(stream);
            co_return;
        }
    }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, server& srv) {
    for (;;) {
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
                                             {"--listen", "--port", "--threads", "--max-upload-bytes",
                                              "--write-buffer-bytes", "--max-connections", "--stall-ms"});
    livefour::client_options opts = example::client_options_from(args);
    opts.max_upload_bytes = args.get_number("--max-upload-bytes", opts.max_upload_bytes);
    // The one buffer an upload passes through on its way (and the read size from the phone).
    opts.write_buffer_size = args.get_number("--write-buffer-bytes", 64 * 1024);
    // One upstream connection per upload in flight: a phone waiting for a connection is not read.
    opts.pool.max_connections = args.get_number("--max-connections", 128);
    opts.timeout.stall = std::chrono::milliseconds(args.get_number("--stall-ms", 30'000));
    const auto threads = static_cast<int>(args.get_number("--threads", 2));
    const auto port = args.get_number("--port", 8080);
    if (threads < 1 || port > 65535 || opts.write_buffer_size == 0) {
        std::cerr << usage;
        return 2;
    }

    asio::io_context ioc(threads);
    livefour::client client = example::make_client(ioc.get_executor(), opts);
    server srv{client, opts.max_upload_bytes};

    tcp::acceptor acceptor(ioc);
    try {
        tcp::endpoint where{asio::ip::make_address(args.get("--listen", "127.0.0.1")),
                            static_cast<unsigned short>(port)};
        acceptor = tcp::acceptor(ioc, where);
    } catch (const boost::system::system_error& e) {
        std::cerr << "cannot listen: " << e.what() << "\n";
        return 1;
    }
    std::cout << "listening on " << acceptor.local_endpoint() << " (http)" << std::endl;

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
