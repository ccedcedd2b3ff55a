// livefour-emulator — one HTTP/1.1 connection: framing, deadlines, the API and /_emulator/*
// endpoints, and the faults a test injected (faults.hpp says what they are, fault_io.hpp writes
// the odd replies).
//
// Request bodies are streamed through a fixed 64 KiB buffer (Beast's buffer_body) straight into
// the multipart parser, so memory use does not depend on the upload size. The read buffer has a
// maximum too (connection_buffer_max()): Beast bounds the header, not chunk-size lines, chunk
// extensions or trailers. Every read and write is bounded by a deadline. A template over the stream type, included by
// server.cpp only: that translation unit stays the one that instantiates Beast and Asio's SSL layer.
#pragma once

#include "fault_io.hpp"
#include "multipart_stream.hpp"
#include "options.hpp"
#include "service.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace livefour::emulator::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
inline constexpr std::size_t chunk_bytes = io_chunk_bytes;
// After an early "reply and close" (body too large, refused before the body) or a `close_*`
// fault, what the client still sends is read and discarded for a while: the client then gets to
// read the reply (or sees an orderly close) instead of a reset caused by unread data.
inline constexpr auto linger_total = std::chrono::seconds(5);
inline constexpr auto linger_stall = std::chrono::seconds(2);
inline constexpr auto tls_shutdown_timeout = std::chrono::seconds(2);
// A POST /_emulator/faults body: room for a batch of faults, each with a custom body.
inline constexpr std::uint64_t control_body_limit = 256 * 1024;

/// A live connection, as seen by the shutdown logic.
struct connection_entry {
    std::function<void()> abort;  ///< closes the socket and cancels any pending wait
    bool idle = true;             ///< waiting for a request, or hung by a stall fault: shutdown closes it at once
};

/// What a session needs from the server that accepted it.
class session_host {
public:
    [[nodiscard]] virtual const options& opts() const noexcept = 0;
    virtual service& svc() noexcept = 0;
    [[nodiscard]] virtual bool stopping() const noexcept = 0;
    virtual std::string next_request_id() = 0;
    virtual std::list<connection_entry>::iterator add_connection() = 0;
    virtual void remove_connection(std::list<connection_entry>::iterator it) = 0;
    virtual void log(std::string_view line) const = 0;

protected:
    ~session_host() = default;
};

/// Per-request facts the handlers share.
struct request_context {
    std::string id;
    std::string method;
    std::string path;  ///< without the query: nothing secret is logged, nothing long either
    bool expect_continue = false;
    bool continue_sent = false;
    bool keep_alive = true;
    std::uint64_t body_bytes = 0;
    std::optional<endpoint> api;  ///< set for the API paths (counted, subject to faults)
    bool counted_complete = false;
    std::optional<fault> pending_fault;  ///< taken when the header arrived; cleared once it acted
    std::string fault_label;             ///< X-Emulator-Fault of a reply a fault produced
};

/// How reading a request body ended. `faulted`: a fault ended the connection; `refused`: the
/// chunk framing outgrew the read buffer, the request was answered and the connection closed.
/// Both are logged already.
enum class body_outcome { complete, too_large, broken, faulted, refused };

/// The current time as an HTTP date (IMF-fixdate), e.g. "Sun, 06 Dec 2026 08:27:27 GMT".
inline std::string http_date() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
    session(session_host& host, Stream stream)
        : host_(host), stream_(std::move(stream)), buffer_(connection_buffer_max(host.opts().max_header_bytes)),
          chunk_(chunk_bytes), delay_(stream_.get_executor()), idle_timer_(stream_.get_executor()),
          entry_(host.add_connection()) {
        entry_->abort = [this] {
            boost::system::error_code ignored;
            tcp().socket().close(ignored);
            delay_.cancel();
            idle_timer_.cancel();
        };
    }
    ~session() { host_.remove_connection(entry_); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    asio::awaitable<void> run() {
        if constexpr (is_tls) {
            tcp().expires_after(opts().idle_timeout);
            auto [ec] = co_await stream_.async_handshake(ssl::stream_base::server, use_tuple);
            if (ec == beast::error::timeout) svc().on_slow_close();
            if (ec) co_return;  // port scanners, plain-HTTP clients, untrusting clients: nothing to log
        }
        for (;;) {
            if (host_.stopping()) break;
            entry_->idle = true;
            if (!co_await wait_for_request()) co_return;
            http::request_parser<http::buffer_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(opts().max_header_bytes));
            parser.body_limit(boost::none);  // enforced here, with the API's code 23
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
                } else if (ec == beast::error::timeout) {
                    svc().on_slow_close();  // the header did not arrive within --idle-timeout
                }
                co_return;  // EOF, timeout, reset, shutdown
            }
            if (opts().request_timeout.count() > 0) deadline_ = steady::now() + opts().request_timeout;
            if (!co_await handle(parser) || host_.stopping()) break;
            ++served_;
        }
        co_await close_gracefully();
    }

private:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;
    using parser_type = http::request_parser<http::buffer_body>;

    const options& opts() const { return host_.opts(); }
    service& svc() { return host_.svc(); }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    // Deadline for the next read or write: the stall limit, capped by the request deadline.
    void arm() {
        auto d = steady::now() + opts().idle_timeout;
        if (deadline_ && *deadline_ < d) d = *deadline_;
        tcp().expires_at(d);
    }

    request_context bare_context() {
        request_context rc;
        rc.id = host_.next_request_id();
        rc.method = "-";
        rc.path = "-";
        rc.keep_alive = false;
        return rc;
    }

    // Waits for the first bytes of the next request. The limit is --idle-timeout, or the
    // keepalive_close setting once the connection has served a request. It is a timer rather
    // than the stream's own deadline (which would close the socket abruptly), so that an idle
    // connection is closed cleanly (close_notify, FIN) and counted. False: the connection is over.
    asio::awaitable<bool> wait_for_request() {
        if (buffer_.size() != 0) co_return true;  // a pipelined request is already here
        const auto keepalive = served_ != 0 ? svc().keepalive_close() : std::nullopt;
        const auto limit = keepalive ? *keepalive : std::chrono::milliseconds(opts().idle_timeout);
        tcp().expires_never();
        const auto generation = ++idle_generation_;
        idle_expired_ = false;
        idle_timer_.expires_after(limit);
        idle_timer_.async_wait([self = this->shared_from_this(), generation](const boost::system::error_code& ec) {
            if (ec || generation != self->idle_generation_) return;
            self->idle_expired_ = true;
            self->tcp().cancel();
        });
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(chunk_bytes), use_tuple);
        ++idle_generation_;
        idle_timer_.cancel();
        if (!ec) {
            buffer_.commit(n);
            co_return true;
        }
        if (idle_expired_ && !host_.stopping()) {
            svc().on_idle_close();
            if (keepalive) svc().on_fault_fired(fault_kind::keepalive_close);
            host_.log("closing a connection idle for " + std::to_string(limit.count()) + " ms" +
                      (keepalive ? " (keepalive_close)" : ""));
            co_await close_gracefully();
        }
        co_return false;
    }

    void fired(request_context& rc, const fault& f) {
        svc().on_fault_fired(f.kind);
        rc.fault_label = std::string(fault_name(f.kind));
    }

    // Waits for a `delay` or a `stall_after_body_bytes` (without ms: the longest a fault may
    // wait). False if the wait was cut by the shutdown. A stall stands for a hung server, which
    // has nothing to finish: during it, a shutdown closes the connection like an idle one.
    asio::awaitable<bool> pause(const fault& f) {
        const bool stall = f.kind == fault_kind::stall_after_body_bytes;
        if (stall) entry_->idle = true;
        delay_.expires_after(std::chrono::milliseconds(f.ms.value_or(fault_limits::max_ms)));
        auto [ec] = co_await delay_.async_wait(use_tuple);
        if (stall) entry_->idle = false;
        co_return !ec;
    }

    // Orderly close (FIN; for HTTPS without close_notify) and no reply. What the client still
    // sends is discarded for a while: closing a socket with unread data would turn the FIN into a
    // reset, and `reset` is a fault of its own.
    asio::awaitable<void> close_without_reply() {
        boost::system::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_await drain_and_close();
    }

    // Reads and throws away what the client still sends (raw bytes: nothing more will be
    // understood), for at most linger_total, then closes.
    asio::awaitable<void> drain_and_close() {
        buffer_.consume(buffer_.size());
        const auto until = steady::now() + linger_total;
        while (tcp().socket().is_open() && steady::now() < until) {
            tcp().expires_at(std::min(until, steady::now() + linger_stall));
            auto [ec, n] = co_await tcp().async_read_some(asio::buffer(chunk_), use_tuple);
            if (ec) break;
        }
        boost::system::error_code ignored;
        tcp().socket().close(ignored);
    }

    // Acts on a fault whose body threshold has been reached. complete = keep reading.
    asio::awaitable<body_outcome> body_fault(request_context& rc) {
        if (!rc.pending_fault) co_return body_outcome::complete;
        const auto threshold = rc.pending_fault->body_threshold();
        if (!threshold || rc.body_bytes < *threshold) co_return body_outcome::complete;
        const fault f = *std::exchange(rc.pending_fault, std::nullopt);
        fired(rc, f);
        switch (f.kind) {
        case fault_kind::stall_after_body_bytes:
            log_line(rc, "fault stall_after_body_bytes: not reading");
            co_return co_await pause(f) ? body_outcome::complete : body_outcome::broken;
        case fault_kind::close_after_body_bytes:
            log_line(rc, "fault close_after_body_bytes: closed, no reply");
            co_await close_without_reply();
            co_return body_outcome::faulted;
        default:  // reset after_body_bytes
            log_line(rc, "fault reset: connection reset");
            fault_io::reset_now(tcp());
            co_return body_outcome::faulted;
        }
    }

    // Reads the rest of the body through the fixed chunk buffer, handing each piece to `sink`;
    // stops at a fault's body threshold to carry it out. `max` 0 = no limit.
    asio::awaitable<body_outcome> read_body(parser_type& p, request_context& rc,
                                            std::function<void(std::string_view)> sink, std::uint64_t max) {
        if (!p.is_done()) {
            if (auto r = co_await body_fault(rc); r != body_outcome::complete) co_return r;
            if (rc.expect_continue && !rc.continue_sent) {
                rc.continue_sent = true;
                http::response<http::empty_body> cont{http::status::continue_, p.get().version()};
                arm();
                auto [ec, n] = co_await http::async_write(stream_, cont, use_tuple);
                if (ec) co_return body_outcome::broken;
            }
        }
        while (!p.is_done()) {
            std::size_t room = chunk_.size();
            if (rc.pending_fault)
                if (const auto t = rc.pending_fault->body_threshold())
                    room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *t - rc.body_bytes));
            auto& body = p.get().body();
            body.data = chunk_.data();
            body.size = room;
            // One transport read at a time (async_read would wait for a full chunk buffer under a
            // single deadline): every read that brings body bytes is progress and re-arms the
            // stall limit, so a slow but moving upload is bounded by --request-timeout only.
            arm();
            auto [ec, n] = co_await http::async_read_some(stream_, buffer_, p, use_tuple);
            if (ec == http::error::need_buffer) ec = {};
            if (ec == http::error::buffer_overflow) {
                // A chunk-size line, its extensions or the trailer outgrew connection_buffer_max().
                svc().on_chunk_framing_refused();
                co_await reply_and_close(
                    rc, svc().error(3, "invalid request: chunk-size line, chunk extensions or trailer too large"), 0);
                co_return body_outcome::refused;
            }
            if (ec == beast::error::timeout) svc().on_slow_close();  // stalled, or past --request-timeout
            if (ec) co_return body_outcome::broken;
            const std::size_t got = room - body.size;
            rc.body_bytes += got;
            svc().on_body_bytes(got);
            if (max != 0 && rc.body_bytes > max) co_return body_outcome::too_large;
            if (got != 0) sink(std::string_view(chunk_.data(), got));
            if (!p.is_done())
                if (auto r = co_await body_fault(rc); r != body_outcome::complete) co_return r;
        }
        if (rc.api && !rc.counted_complete) {
            rc.counted_complete = true;
            svc().on_request_complete(*rc.api);
        }
        co_return body_outcome::complete;
    }

    // Finishes a request whose answer does not depend on the body. Returns whether the
    // connection stays open.
    asio::awaitable<bool> answer_after_body(parser_type& p, request_context& rc, reply r, unsigned status) {
        if (rc.expect_continue && !p.is_done()) co_return co_await reply_and_close(rc, std::move(r), status);
        const auto outcome = co_await read_body(p, rc, discard, opts().max_body_bytes);
        switch (outcome) {
        case body_outcome::complete: co_return co_await send(rc, std::move(r), status);
        case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
        case body_outcome::broken: log_aborted(rc); co_return false;
        case body_outcome::faulted:
        case body_outcome::refused: co_return false;
        }
        co_return false;
    }

    // GET /_emulator/stats, POST /_emulator/reset, GET|POST|DELETE /_emulator/faults: never
    // subject to faults, never counted as API requests.
    static void discard(std::string_view) {}

    asio::awaitable<bool> control(parser_type& p, request_context& rc) {
        const auto method = p.get().method();
        const auto not_allowed = [&] { return svc().error(3, "invalid request: method not allowed"); };
        reply r;
        if (rc.path == "/_emulator/stats" || rc.path == "/_emulator/reset") {
            const bool stats = rc.path == "/_emulator/stats";
            if (method != (stats ? http::verb::get : http::verb::post))
                co_return co_await answer_after_body(p, rc, not_allowed(), 405);
            if (!stats) svc().reset_stats();
            r.body = stats ? svc().stats_json() : R"({"code":0,"message":"OK"})";
            co_return co_await answer_after_body(p, rc, std::move(r), 200);
        }
        if (rc.path != "/_emulator/faults")
            co_return co_await answer_after_body(p, rc, svc().error(3, "invalid request: unknown path"), 404);
        if (method == http::verb::get) {
            r.body = svc().faults_json();
            co_return co_await answer_after_body(p, rc, std::move(r), 200);
        }
        if (method == http::verb::delete_) co_return co_await answer_after_body(p, rc, svc().clear_faults(), 0);
        if (method != http::verb::post) co_return co_await answer_after_body(p, rc, not_allowed(), 405);
        std::string body;
        switch (co_await read_body(
            p, rc, [&](std::string_view b) { body.append(b); }, control_body_limit)) {
        case body_outcome::complete: break;
        case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
        case body_outcome::refused: co_return false;
        default: log_aborted(rc); co_return false;
        }
        co_return co_await send(rc, svc().add_faults(body, steady::now()), 0);
    }

    // Returns whether the connection stays open.
    asio::awaitable<bool> handle(parser_type& p) {
        auto& req = p.get();
        request_context rc;
        rc.id = host_.next_request_id();
        rc.method = std::string(req.method_string());
        const std::string_view target = req.target();
        rc.path = std::string(target.substr(0, target.find('?')));
        rc.expect_continue = beast::iequals(req[http::field::expect], "100-continue");
        rc.keep_alive = req.keep_alive() && opts().keep_alive;

        if (rc.path.starts_with("/_emulator/")) co_return co_await control(p, rc);
        const auto ep = endpoint_for_path(rc.path);
        if (!ep) co_return co_await answer_after_body(p, rc, svc().error(3, "invalid request: unknown path"), 404);
        if (req.method() != http::verb::post)
            co_return co_await answer_after_body(
                p, rc,
                *ep == endpoint::faceid ? svc().faceid_error("UnsupportedOperation", "the emulator serves POST only")
                                        : svc().error(3, "invalid request: method not allowed"),
                *ep == endpoint::faceid ? 0 : 405);

        rc.api = *ep;
        svc().on_request_started(*ep);
        rc.pending_fault = svc().take_fault(*ep, steady::now());
        if (rc.pending_fault && rc.pending_fault->kind == fault_kind::reset &&
            rc.pending_fault->when == reset_point::before_body) {
            fired(rc, *rc.pending_fault);
            log_line(rc, "fault reset: connection reset before the body");
            fault_io::reset_now(tcp());
            co_return false;
        }
        if (rc.pending_fault && rc.pending_fault->replaces_reply()) {
            // A gateway or a throttle answers: the request is read, never processed (no
            // signature check, digits not used up).
            const fault f = *rc.pending_fault;
            switch (co_await read_body(p, rc, discard, body_limit(*ep))) {
            case body_outcome::complete:
                rc.pending_fault.reset();
                fired(rc, f);
                co_return co_await send(rc, svc().fault_reply(f, *ep), 0);
            case body_outcome::too_large: co_return co_await reply_and_close(rc, too_large(*ep), 0);
            case body_outcome::refused: co_return false;
            default: log_aborted(rc); co_return false;
            }
        }

        const auto max = body_limit(*ep);
        if (const auto len = p.content_length(); max != 0 && len && *len > max)
            co_return co_await reply_and_close(rc, too_large(*ep), 0);
        if (*ep == endpoint::faceid) co_return co_await handle_faceid(p, rc);

        const auto auth = svc().authenticate(req[http::field::authorization], unix_now());
        if (auth.code != 0) co_return co_await answer_after_body(p, rc, svc().error(auth.code), 0);

        if (*ep == endpoint::livegetfour) {
            std::string body;
            switch (co_await read_body(
                p, rc, [&](std::string_view b) { body.append(b); }, opts().max_body_bytes)) {
            case body_outcome::complete: break;
            case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
            case body_outcome::broken: log_aborted(rc); co_return false;
            case body_outcome::faulted:
            case body_outcome::refused: co_return false;
            }
            co_return co_await send(rc, svc().livegetfour(auth, body), 0);
        }

        const auto boundary = form_data_boundary(req[http::field::content_type]);
        if (!boundary)
            co_return co_await answer_after_body(
                p, rc, svc().error(3, "invalid request: Content-Type must be multipart/form-data with a boundary"), 0);
        multipart_stream_parser mp(*boundary);
        switch (co_await read_body(
            p, rc, [&](std::string_view b) { mp.feed(b); }, opts().max_body_bytes)) {
        case body_outcome::complete: break;
        case body_outcome::too_large: co_return co_await reply_and_close(rc, svc().error(23), 0);
        case body_outcome::broken: log_aborted(rc); co_return false;
        case body_outcome::faulted:
        case body_outcome::refused: co_return false;
        }
        if (!mp.finish())
            co_return co_await send(rc, svc().error(3, "invalid request: malformed multipart body: " + mp.error()), 0);
        co_return co_await send(rc, svc().detect(*ep, auth, mp.parts()), 0);
    }

    std::uint64_t body_limit(endpoint e) const {
        return e == endpoint::faceid ? host_.opts().service.tc3.max_body_bytes : opts().max_body_bytes;
    }

    reply too_large(endpoint e) {
        if (e != endpoint::faceid) return svc().error(23);
        return svc().faceid_error("RequestSizeLimitExceeded",
                                  "the body is over " + std::to_string(body_limit(e)) + " bytes");
    }

    // POST / (API 3.0), past the faults that replace the reply. The header is checked first (a
    // client that waits for 100 Continue gets a refusal at once); the body then streams through
    // the JSON scanner, which decodes and hashes the media, and through the SHA-256 of the
    // signed payload, in the same 64 KiB pieces: memory does not grow with the video.
    asio::awaitable<bool> handle_faceid(parser_type& p, request_context& rc) {
        const auto& req = p.get();
        tc3_head head;
        head.method = std::string(req.method_string());
        const std::string_view target = req.target();
        if (const auto q = target.find('?'); q != std::string_view::npos)
            head.query = std::string(target.substr(q + 1));
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            head.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        auto check = svc().authenticate_tc3(head, unix_now());
        const bool refused = check.failed();
        if (refused && rc.expect_continue && !p.is_done())
            co_return co_await reply_and_close(rc, svc().faceid_error(check.code, check.message), 0);
        json_body_scanner scanner;
        livefour::detail::sha256_context payload;
        const auto sink = [&](std::string_view b) {
            if (refused) return;  // the answer is decided: the body is only drained
            payload.update(b);
            scanner.feed(b);
        };
        switch (co_await read_body(p, rc, sink, body_limit(endpoint::faceid))) {
        case body_outcome::complete: break;
        case body_outcome::too_large: co_return co_await reply_and_close(rc, too_large(endpoint::faceid), 0);
        case body_outcome::broken: log_aborted(rc); co_return false;
        case body_outcome::faulted:
        case body_outcome::refused: co_return false;
        }
        const auto* action = head.find("x-tc-action");
        svc().on_faceid_complete(action ? *action : std::string_view{}, rc.body_bytes);
        if (refused) co_return co_await send(rc, svc().faceid_error(check.code, check.message), 0);
        scanner.finish();
        check_body(check, head, svc().tc3(), livefour::detail::to_hex(payload.finish()));
        co_return co_await send(rc, svc().faceid(head, check, scanner), 0);
    }

    // Writes `r` (status 0 = the reply's own), after the request's pending fault, if any, had
    // its turn. Returns whether the connection stays open.
    asio::awaitable<bool> send(request_context& rc, reply r, unsigned status, bool force_close = false) {
        std::optional<fault> shape;  // a fault that changes how the reply goes out
        if (rc.pending_fault) {
            const fault f = *std::exchange(rc.pending_fault, std::nullopt);
            switch (f.kind) {
            case fault_kind::delay:
            case fault_kind::stall_after_body_bytes:  // the body ended before its threshold
                fired(rc, f);
                if (!co_await pause(f)) co_return false;
                break;
            case fault_kind::close_after_body_bytes:
            case fault_kind::close_after_body:
                fired(rc, f);
                svc().on_reply_withheld(r);
                log_line(rc, "fault " + rc.fault_label + ": closed, no reply");
                co_await close_without_reply();
                co_return false;
            case fault_kind::reset:
                fired(rc, f);
                svc().on_reply_withheld(r);
                log_line(rc, "fault reset: connection reset");
                fault_io::reset_now(tcp());
                co_return false;
            case fault_kind::truncated_reply:
            case fault_kind::trickle_reply:
            case fault_kind::huge_body:
            case fault_kind::huge_header: shape = f; break;
            default: break;  // a reply fault whose body was too large: code 23 wins
            }
        }
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
        // RFC 9110 §6.6.1: an origin server with a clock sends Date; clients use it to correct a
        // skewed clock (API 3.0 refuses signatures more than 5 minutes off).
        res.set(http::field::date, http_date());
        res.set(http::field::content_type, r.content_type);
        res.set("X-Emulator-Request-Id", rc.id);
        if (shape) fired(rc, *shape);
        if (!rc.fault_label.empty()) res.set("X-Emulator-Fault", rc.fault_label);
        res.keep_alive(rc.keep_alive && !force_close && !host_.stopping());
        res.body() = std::move(r.body);
        res.prepare_payload();
        const std::string outcome = std::to_string(res.result_int()) +
                                    (r.content_type != "application/json" ? " non-JSON"
                                     : r.api3_code.empty()                ? " code=" + std::to_string(r.code)
                                                                          : " code=" + r.api3_code) +
                                    (rc.fault_label.empty() ? "" : " fault=" + rc.fault_label);
        if (shape) co_return co_await send_shaped(rc, res, *shape, outcome);
        arm();
        auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
        log_line(rc, outcome);
        if (ec) co_return false;
        co_return res.keep_alive();
    }

    // truncated_reply, trickle_reply, huge_body, huge_header: the reply written by hand.
    asio::awaitable<bool> send_shaped(request_context& rc, http::response<http::string_body>& res, const fault& f,
                                      const std::string& outcome) {
        const fault_io::arm_fn arm_next = [this] { arm(); };
        const auto give_up = steady::now() + std::chrono::milliseconds(fault_limits::max_ms);
        const auto ec = co_await fault_io::write_shaped(stream_, res, f, chunk_, delay_, arm_next, give_up);
        log_line(rc, outcome);
        if (f.kind == fault_kind::truncated_reply) {  // the promised rest never comes
            if (!ec) co_await close_gracefully();
            co_return false;
        }
        co_return !ec && res.keep_alive();
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
        co_await drain_and_close();
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
        host_.log(rc.id + ' ' + rc.method + ' ' + rc.path + " -> " + outcome +
                  " body=" + std::to_string(rc.body_bytes));
    }
    void log_aborted(const request_context& rc) { log_line(rc, "aborted (client stopped sending or timed out)"); }

    session_host& host_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::vector<char> chunk_;
    asio::steady_timer delay_;
    asio::steady_timer idle_timer_;
    std::uint64_t idle_generation_ = 0;
    bool idle_expired_ = false;
    std::uint64_t served_ = 0;
    std::optional<steady::time_point> deadline_;
    std::list<connection_entry>::iterator entry_;
};

}  // namespace livefour::emulator::net
