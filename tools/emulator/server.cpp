// livefour-emulator — HTTP(S) server on Boost.Beast with C++20 coroutines (see server.hpp).
//
// One thread, one coroutine per connection (session.hpp). This file accepts connections, sets up
// TLS and runs the graceful shutdown.
#include "server.hpp"

#include "service.hpp"
#include "session.hpp"
#include "tls_cert.hpp"

#include <openssl/ssl.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace livefour::emulator {
namespace {

using namespace net;

/// errno's text for a failed stream operation: the file name alone does not say what to fix.
std::string errno_text() { return errno ? std::string(": ") + std::strerror(errno) : std::string(); }

std::string read_file(const std::string& path) {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + errno_text());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class server final : public session_host {
public:
    server(asio::io_context& io, const options& o, ssl::context* tls)
        : io_(io), opt_(o), tls_(tls), svc_(o.service), acceptor_(io), signals_(io, SIGINT, SIGTERM), grace_(io) {
        std::random_device rd;
        std::ostringstream p;
        p << std::hex << (rd() & 0xffffffu);
        id_prefix_ = p.str();
    }

    void listen() {
        // The error_code overloads: a throwing bind() reports Boost's source file, line and
        // function signature, which tell a user nothing about the port already being in use.
        boost::system::error_code ec;
        tcp::resolver resolver(io_);
        const auto results = resolver.resolve(opt_.host, std::to_string(opt_.port),
                                              tcp::resolver::passive | tcp::resolver::numeric_service, ec);
        if (!ec && results.empty()) ec = asio::error::host_not_found;
        if (!ec) {
            const tcp::endpoint ep = *results.begin();
            acceptor_.open(ep.protocol(), ec);
            if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
            if (!ec) acceptor_.bind(ep, ec);
            if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec)
            throw std::runtime_error("cannot listen on " + opt_.host + " port " + std::to_string(opt_.port) + ": " +
                                     ec.message());
        signals_.async_wait([this](const boost::system::error_code& wait_ec, int) {
            if (!wait_ec) stop();
        });
        asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
        std::cout << "listening on " << opt_.host << ':' << acceptor_.local_endpoint().port() << ' '
                  << (tls_ ? "(https)" : "(http)") << std::endl;
    }

    const options& opts() const noexcept override { return opt_; }
    service& svc() noexcept override { return svc_; }
    bool stopping() const noexcept override { return stopping_; }

    std::string next_request_id() override { return id_prefix_ + '-' + std::to_string(++request_counter_); }

    std::list<connection_entry>::iterator add_connection() override { return connections_.emplace(connections_.end()); }

    void remove_connection(std::list<connection_entry>::iterator it) override {
        connections_.erase(it);
        if (!connections_.empty()) return;
        if (stopping_) grace_.cancel();
#if defined(__GLIBC__)
        // Idle again: give back what a burst of connections (a slowloris, a load test) left in
        // the allocator's free lists, so that the footprint returns to its baseline.
        malloc_trim(0);
#endif
    }

    void log(std::string_view line) const override {
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
        std::vector<std::string> names = {o.host};
        names.insert(names.end(), o.tls_names.begin(), o.tls_names.end());
        auto m = generate_tls_material(names);
        if (!o.write_ca_file.empty()) {
            errno = 0;
            std::ofstream out(o.write_ca_file, std::ios::binary | std::ios::trunc);
            out << m.ca_cert_pem;
            out.close();
            if (!out) throw std::runtime_error("cannot write " + o.write_ca_file + errno_text());
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
