// livefour-emulator — HTTP(S) server on Boost.Beast with C++20 coroutines (see server.hpp).
//
// One thread, one coroutine per connection. Request bodies are streamed through a fixed 64 KiB
// buffer (Beast's buffer_body) straight into the multipart parser, so memory use does not depend
// on the upload size. Every read and write is bounded by a deadline.
#include "server.hpp"

#include "multipart_stream.hpp"
#include "service.hpp"
#include "tls_cert.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <unistd.h>

namespace livefour::emulator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t chunk_bytes = 64 * 1024;
// After an early "reply and close" (body too large, refused before the body), the rest of the
// upload is read and discarded for a while so that the client gets to read the reply instead of
// a connection reset.
constexpr auto linger_total = std::chrono::seconds(5);
constexpr auto linger_stall = std::chrono::seconds(2);
constexpr auto tls_shutdown_timeout = std::chrono::seconds(2);

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

std::optional<endpoint> endpoint_for(std::string_view path) {
    if (path == "/face/livegetfour") return endpoint::livegetfour;
    if (path == "/face/livedetectfour") return endpoint::livedetectfour;
    if (path == "/face/idcardlivedetectfour") return endpoint::idcardlivedetectfour;
    return std::nullopt;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A live connection, as seen by the shutdown logic.
struct connection_entry {
    std::function<void()> abort;  // closes the socket and cancels any pending wait
    bool idle = true;             // waiting for a request (no request in progress)
};

class server {
public:
    server(asio::io_context& io, const options& o, ssl::context* tls)
        : io_(io), opt_(o), tls_(tls), svc_(o.service), acceptor_(io), signals_(io, SIGINT, SIGTERM), grace_(io) {
        std::random_device rd;
        std::ostringstream p;
        p << std::hex << (rd() & 0xffffffu);
        id_prefix_ = p.str();
    }

    void listen() {
        tcp::resolver resolver(io_);
        const auto results = resolver.resolve(opt_.host, std::to_string(opt_.port),
                                              tcp::resolver::passive | tcp::resolver::numeric_service);
        const tcp::endpoint ep = *results.begin();
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        signals_.async_wait([this](const boost::system::error_code& ec, int) {
            if (!ec) stop();
        });
        asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
        std::cout << "listening on " << opt_.host << ':' << acceptor_.local_endpoint().port() << ' '
                  << (tls_ ? "(https)" : "(http)") << std::endl;
    }

    const options& opts() const noexcept { return opt_; }
    service& svc() noexcept { return svc_; }
    bool stopping() const noexcept { return stopping_; }

    std::string next_request_id() { return id_prefix_ + '-' + std::to_string(++request_counter_); }

    std::list<connection_entry>::iterator add_connection() { return connections_.emplace(connections_.end()); }

    void remove_connection(std::list<connection_entry>::iterator it) {
        connections_.erase(it);
        if (stopping_ && connections_.empty()) grace_.cancel();
    }

    void log(std::string_view line) const {
        if (!opt_.quiet) std::cerr << "livefour-emulator: " << line << '\n';
    }

private:
    void stop() {
        if (stopping_) return;
        stopping_ = true;
        log("shutting down");
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& c : connections_)
            if (c.idle) c.abort();
        if (connections_.empty()) return;
        grace_.expires_after(opt_.shutdown_grace);
        grace_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            log("grace period over, closing remaining connections");
            for (auto& c : connections_) c.abort();
        });
    }

    asio::awaitable<void> accept_loop();

    asio::io_context& io_;
    const options& opt_;
    ssl::context* tls_;
    service svc_;
    tcp::acceptor acceptor_;
    asio::signal_set signals_;
    asio::steady_timer grace_;
    std::list<connection_entry> connections_;
    bool stopping_ = false;
    std::string id_prefix_;
    std::uint64_t request_counter_ = 0;
};

// Per-request facts the handlers share.
struct request_context {
    std::string id;
    std::string method;
    std::string path;  // without the query: nothing secret is logged, nothing long either
    bool expect_continue = false;
    bool continue_sent = false;
    bool keep_alive = true;
    std::uint64_t body_bytes = 0;
};

enum class body_outcome { complete, too_large, broken };

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
    session(server& srv, Stream stream)
        : srv_(srv), stream_(std::move(stream)), chunk_(chunk_bytes), delay_(stream_.get_executor()),
          entry_(srv.add_connection()) {
        entry_->abort = [this] {
            boost::system::error_code ignored;
            tcp().socket().close(ignored);
            delay_.cancel();
        };
    }
    ~session() { srv_.remove_connection(entry_); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    asio::awaitable<void> run() {
        if constexpr (is_tls) {
            tcp().expires_after(opts().idle_timeout);
            auto [ec] = co_await stream_.async_handshake(ssl::stream_base::server, use_tuple);
            if (ec) co_return;  // port scanners, plain-HTTP clients, untrusting clients: nothing to log
        }
        for (;;) {
            if (srv_.stopping()) break;
            http::request_parser<http::buffer_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(opts().max_header_bytes));
            parser.body_limit(boost::none);  // enforced here, with the API's code 23
            entry_->idle = true;
            deadline_.reset();
            tcp().expires_after(opts().idle_timeout);
            auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
            entry_->idle = false;
            if (ec) {
                if (ec == http::error::header_limit) {
                    co_await reply_and_close(bare_context(), svc().error(3, "invalid request: header too large"), 431);
                } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                           ec != http::error::end_of_stream && ec != http::error::partial_message) {
                    co_await reply_and_close(bare_context(), svc().error(3, "invalid request: bad HTTP"), 400);
                }
                co_return;  // EOF, timeout while idle, reset, shutdown
            }
            if (opts().request_timeout.count() > 0) deadline_ = steady::now() + opts().request_timeout;
            if (!co_await handle(parser) || srv_.stopping()) break;
        }
        co_await close_gracefully();
    }

private:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;
    using parser_type = http::request_parser<http::buffer_body>;

    const options& opts() const { return srv_.opts(); }
    service& svc() { return srv_.svc(); }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    // Deadline for the next read or write: the stall limit, capped by the request deadline.
    void arm() {
        auto d = steady::now() + opts().idle_timeout;
        if (deadline_ && *deadline_ < d) d = *deadline_;
        tcp().expires_at(d);
    }

    request_context bare_context() {
        request_context rc;
        rc.id = srv_.next_request_id();
        rc.method = "-";
        rc.path = "-";
        rc.keep_alive = false;
        return rc;
    }

    // Reads the rest of the body through the fixed chunk buffer, handing each piece to `sink`.
    asio::awaitable<body_outcome> read_body(parser_type& p, request_context& rc,
                                            const std::function<void(std::string_view)>& sink) {
        if (p.is_done()) co_return body_outcome::complete;
        if (rc.expect_continue && !rc.continue_sent) {
            rc.continue_sent = true;
            http::response<http::empty_body> cont{http::status::continue_, p.get().version()};
            arm();
            auto [ec, n] = co_await http::async_write(stream_, cont, use_tuple);
            if (ec) co_return body_outcome::broken;
        }
        const auto max = opts().max_body_bytes;
        while (!p.is_done()) {
            auto& body = p.get().body();
            body.data = chunk_.data();
            body.size = chunk_.size();
            arm();
            auto [ec, n] = co_await http::async_read(stream_, buffer_, p, use_tuple);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) co_return body_outcome::broken;
            const std::size_t got = chunk_.size() - body.size;
            rc.body_bytes += got;
            svc().on_body_bytes(got);
            if (max != 0 && rc.body_bytes > max) co_return body_outcome::too_large;
            if (got != 0) sink(std::string_view(chunk_.data(), got));
        }
        co_return body_outcome::complete;
    }

    // Returns whether the connection stays open.
    asio::awaitable<bool> handle(parser_type& p) {
        auto& req = p.get();
        request_context rc;
        rc.id = srv_.next_request_id();
        rc.method = std::string(req.method_string());
        const std::string_view target = req.target();
        rc.path = std::string(target.substr(0, target.find('?')));
        rc.expect_continue = iequals(req[http::field::expect], "100-continue");
        rc.keep_alive = req.keep_alive() && opts().keep_alive;
        const bool has_body = !p.is_done();
        const auto method = req.method();

        auto discard = [](std::string_view) {};
        // Finishes a request whose answer does not depend on the body.
        auto answer_after_body = [&](reply r, unsigned status) -> asio::awaitable<bool> {
            if (rc.expect_continue && has_body) co_return co_await reply_and_close(rc, std::move(r), status);
            switch (co_await read_body(p, rc, discard)) {
            case body_outcome::complete: co_return co_await send(rc, std::move(r), status);
            case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
            case body_outcome::broken: log_aborted(rc); co_return false;
            }
            co_return false;
        };

        if (rc.path == "/_emulator/stats" || rc.path == "/_emulator/reset") {
            const bool ok = rc.path == "/_emulator/stats" ? method == http::verb::get : method == http::verb::post;
            if (!ok) co_return co_await answer_after_body(svc().error(3, "invalid request: method not allowed"), 405);
            if (rc.path == "/_emulator/reset") svc().reset_stats();
            reply r;
            r.body = rc.path == "/_emulator/stats" ? svc().stats_json() : R"({"code":0,"message":"OK"})";
            co_return co_await answer_after_body(std::move(r), 200);
        }
        const auto ep = endpoint_for(rc.path);
        if (!ep) co_return co_await answer_after_body(svc().error(3, "invalid request: unknown path"), 404);
        if (method != http::verb::post) co_return co_await answer_after_body(svc().error(3, "invalid request: method not allowed"), 405);

        svc().on_request(*ep);
        const auto max = opts().max_body_bytes;
        if (const auto len = p.content_length(); max != 0 && len && *len > max)
            co_return co_await reply_and_close(rc, svc().error(23), 0);

        const auto auth = svc().authenticate(req[http::field::authorization], unix_now());
        if (auth.code != 0) co_return co_await answer_after_body(svc().error(auth.code), 0);

        if (*ep == endpoint::livegetfour) {
            std::string body;
            switch (co_await read_body(p, rc, [&](std::string_view b) { body.append(b); })) {
            case body_outcome::complete: break;
            case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
            case body_outcome::broken: log_aborted(rc); co_return false;
            }
            co_return co_await send(rc, svc().livegetfour(auth, body), 0);
        }

        const auto boundary = form_data_boundary(req[http::field::content_type]);
        if (!boundary)
            co_return co_await answer_after_body(
                svc().error(3, "invalid request: Content-Type must be multipart/form-data with a boundary"), 0);
        multipart_stream_parser mp(*boundary);
        switch (co_await read_body(p, rc, [&](std::string_view b) { mp.feed(b); })) {
        case body_outcome::complete: break;
        case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
        case body_outcome::broken: log_aborted(rc); co_return false;
        }
        if (!mp.finish()) co_return co_await send(rc, svc().error(3, "invalid request: malformed multipart body: " + mp.error()), 0);
        co_return co_await send(rc, svc().detect(*ep, auth, mp.parts()), 0);
    }

    // Writes `r` (status 0 = the reply's own). Returns whether the connection stays open.
    asio::awaitable<bool> send(request_context& rc, reply r, unsigned status, bool force_close = false) {
        if (r.delay.count() > 0) {
            delay_.expires_after(r.delay);
            auto [ec] = co_await delay_.async_wait(use_tuple);
            if (ec) co_return false;  // shutdown grace period over
        }
        if (r.drop) {
            log_line(rc, "dropped (no reply)");
            boost::system::error_code ignored;
            tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
            tcp().socket().close(ignored);
            co_return false;
        }
        http::response<http::string_body> res{static_cast<http::status>(status ? status : r.http_status), 11};
        res.set(http::field::server, "livefour-emulator");
        res.set(http::field::content_type, "application/json");
        res.set("X-Emulator-Request-Id", rc.id);
        res.keep_alive(rc.keep_alive && !force_close && !srv_.stopping());
        res.body() = std::move(r.body);
        res.prepare_payload();
        arm();
        auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
        log_line(rc, std::to_string(res.result_int()) + " code=" + std::to_string(r.code));
        if (ec) co_return false;
        co_return res.keep_alive();
    }

    // Answers before (or without) reading the whole body, then drains what the client still
    // sends so that it can read the answer.
    asio::awaitable<bool> reply_and_close(request_context rc, reply r, unsigned status) {
        co_await send(rc, std::move(r), status, true);
        if (!tcp().socket().is_open()) co_return false;
        if constexpr (!is_tls) {
            boost::system::error_code ignored;
            tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
        buffer_.consume(buffer_.size());
        const auto until = steady::now() + linger_total;
        while (steady::now() < until) {
            tcp().expires_at(std::min(until, steady::now() + linger_stall));
            auto [ec, n] = co_await stream_.async_read_some(asio::buffer(chunk_), use_tuple);
            if (ec) break;
        }
        boost::system::error_code ignored;
        tcp().socket().close(ignored);
        co_return false;
    }

    asio::awaitable<void> close_gracefully() {
        if (!tcp().socket().is_open()) co_return;
        if constexpr (is_tls) {
            tcp().expires_after(tls_shutdown_timeout);
            co_await stream_.async_shutdown(use_tuple);
        } else {
            boost::system::error_code ignored;
            tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
        boost::system::error_code ignored;
        tcp().socket().close(ignored);
    }

    void log_line(const request_context& rc, const std::string& outcome) {
        srv_.log(rc.id + ' ' + rc.method + ' ' + rc.path + " -> " + outcome + " body=" + std::to_string(rc.body_bytes));
    }
    void log_aborted(const request_context& rc) { log_line(rc, "aborted (client stopped sending or timed out)"); }

    server& srv_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::vector<char> chunk_;
    asio::steady_timer delay_;
    std::optional<steady::time_point> deadline_;
    std::list<connection_entry>::iterator entry_;
};

template <class Stream>
asio::awaitable<void> run_session(std::shared_ptr<session<Stream>> s) {
    co_await s->run();
}

void report_exception(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::cerr << "livefour-emulator: connection error: " << x.what() << '\n';
    }
}

asio::awaitable<void> server::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (stopping_) co_return;
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            // Out of descriptors or a connection reset before accept: back off briefly, keep serving.
            asio::steady_timer t(io_, std::chrono::milliseconds(50));
            co_await t.async_wait(use_tuple);
            continue;
        }
        svc_.on_connection();
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        beast::tcp_stream stream(std::move(socket));
        if (tls_) {
            using tls_stream = ssl::stream<beast::tcp_stream>;
            auto s = std::make_shared<session<tls_stream>>(*this, tls_stream(std::move(stream), *tls_));
            asio::co_spawn(io_, run_session(std::move(s)), report_exception);
        } else {
            auto s = std::make_shared<session<beast::tcp_stream>>(*this, std::move(stream));
            asio::co_spawn(io_, run_session(std::move(s)), report_exception);
        }
    }
}

std::optional<ssl::context> make_tls_context(const options& o) {
    if (o.plain) return std::nullopt;
    std::string chain, key;
    if (!o.cert_file.empty()) {
        chain = read_file(o.cert_file);
        key = read_file(o.key_file);
    } else {
        auto m = generate_tls_material({o.host});
        if (!o.write_ca_file.empty()) {
            std::ofstream out(o.write_ca_file, std::ios::binary | std::ios::trunc);
            out << m.ca_cert_pem;
            out.close();
            if (!out) throw std::runtime_error("cannot write " + o.write_ca_file);
        }
        chain = std::move(m.server_cert_pem);
        key = std::move(m.server_key_pem);
    }
    ssl::context ctx(ssl::context::tls_server);
    if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
        throw std::runtime_error("cannot require TLS 1.2");
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    ctx.use_certificate_chain(asio::buffer(chain));
    ctx.use_private_key(asio::buffer(key), ssl::context::pem);
    return ctx;
}

}  // namespace

int run_server(const options& opts) {
    std::signal(SIGPIPE, SIG_IGN);
    auto tls = make_tls_context(opts);
    asio::io_context io(1);
    server srv(io, opts, tls ? &*tls : nullptr);
    srv.listen();
    io.run();
    return 0;
}

}  // namespace livefour::emulator
