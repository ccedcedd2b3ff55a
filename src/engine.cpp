// The engine (engine.hpp): an operation's attempts through the pool — body prepared, request
// signed, one exchange on a pooled connection — inside the generic retry loop.
#include "engine.hpp"

#include "pooled_connection.hpp"
#include "retry_loop.hpp"
#include "spawn_on.hpp"
#include "transport.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <utility>

namespace livefour::detail {

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

exchange_result failed(error_code ec) {
    exchange_result r;
    r.ec = ec;
    return r;
}

/// livefour's words for a transport failure, unless a more specific one was set already.
void describe_transport_error(const exchange_result& r, diagnostics& diag) {
    if (!diag.client_message().empty()) return;
    if (r.ec == client_error::stall_timeout)
        diag.set_client_message(r.request_fully_sent ? "no response progress within timeouts::stall"
                                                     : "no upload progress within timeouts::stall");
    else if (r.ec == client_error::response_too_large)
        diag.set_client_message("response body exceeds client_options::max_response_bytes");
    else if (r.ec == client_error::connection_closed)
        diag.set_client_message("server closed the connection before a complete response");
    else
        diag.set_client_message(r.ec.message());
}

/// Owns a pool slot (and maybe a connection) until it is explicitly released; if the coroutine
/// unwinds (an exception from a child coroutine, or destruction of a cancelled frame) the slot is
/// still returned and the connection closed, so the pool's accounting never drifts.
class slot_guard {
public:
    explicit slot_guard(pool& p) : pool_(&p) {}
    slot_guard(const slot_guard&) = delete;
    ~slot_guard() {
        if (pool_) {
            if (conn) conn->close();
            pool_->release(std::move(conn), false);
        }
    }
    void release(bool reusable) {
        auto* p = std::exchange(pool_, nullptr);
        if (!reusable && conn) conn->close();
        p->release(std::move(conn), reusable);
    }
    connection_ptr conn;

private:
    pool* pool_;
};

}  // namespace

engine_config engine_config_of(const connection_options& o, std::string endpoint, std::uint64_t max_upload_bytes) {
    engine_config c;
    static_cast<connection_options&>(c) = o;
    c.endpoint = std::move(endpoint);
    c.max_upload_bytes = max_upload_bytes;
    return c;
}

struct engine::parts {
    parts(const asio::any_io_executor& executor, const engine_config& cfg, endpoint_info endpoint)
        : ex(executor), ep(std::move(endpoint)),
          tls_ctx(ep.tls ? (cfg.tls.context ? cfg.tls.context : make_tls_context(cfg.tls)) : nullptr),
          connections(executor, cfg.pool), budget(cfg.budget ? cfg.budget : std::make_shared<retry_budget>()) {
        transport.connect = cfg.timeout.connect;
        transport.handshake = cfg.timeout.handshake;
        transport.stall = cfg.timeout.stall;
        transport.verify_peer = cfg.tls.verify_peer || cfg.tls.context;
        transport.continue_wait = cfg.timeout.continue_wait;
        transport.limits = {cfg.max_header_bytes, cfg.max_response_bytes, cfg.on_attempt && cfg.attempt_headers};
        transport.limits.fill_size = cfg.write_buffer_size;
    }

    asio::any_io_executor ex;
    endpoint_info ep;
    transport_options transport;
    std::shared_ptr<ssl::context> tls_ctx;
    tls_session_cache sessions;
    pool connections;
    std::shared_ptr<retry_budget> budget;
};

engine::engine(asio::any_io_executor ex, engine_config cfg, endpoint_info ep)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), parts_(std::make_unique<parts>(ex_, cfg_, std::move(ep))) {}

engine::~engine() = default;

void engine::add(const std::shared_ptr<op_record>& r) {
    {
        std::lock_guard lock(ops_mu_);
        if (r->finished) return;  // completed already, on another thread
        if (!closed_) {
            ops_.insert(r);
            return;
        }
    }
    asio::post(r->strand, [r] { r->signal.emit(asio::cancellation_type::terminal); });
}

void engine::remove(const std::shared_ptr<op_record>& r) {
    std::lock_guard lock(ops_mu_);
    r->finished = true;
    ops_.erase(r);
}

void engine::close() {
    std::set<std::shared_ptr<op_record>> ops;
    {
        std::lock_guard lock(ops_mu_);
        if (closed_) return;
        closed_ = true;
        ops = ops_;
    }
    parts_->connections.close();
    for (auto& r : ops) asio::post(r->strand, [r] { r->signal.emit(asio::cancellation_type::terminal); });
}

pool_stats engine::stats() const { return parts_->connections.stats(); }

namespace {

/// What one attempt went through, for its attempt event.
struct attempt_trace {
    std::chrono::steady_clock::time_point started;
    std::chrono::microseconds pool_wait{0};
    bool tls_resumed = false;
    connection::open_info opened;  // a new connection's
    std::uint64_t bytes_sent = 0;
    std::chrono::microseconds first_byte{0};
    std::string request_header, response_header;
};

/// The header block of `req` as sent, every credential replaced by "[redacted]".
std::string redacted_header(const request_type& req) {
    std::string out;
    out.append(req.method_string()).append(" ").append(req.target()).append(" HTTP/1.1\r\n");
    for (const auto& f : req.base()) {
        const auto name = f.name_string();
        const bool secret = beast::iequals(name, "Authorization") || beast::iequals(name, "X-TC-Token") ||
                            beast::iequals(name, "Proxy-Authorization");
        const std::string_view value = secret ? std::string_view("[redacted]") : std::string_view(f.value());
        out.append(name).append(": ").append(value).append("\r\n");
    }
    return out.append("\r\n");
}

/// One exchange of `req` on a pooled connection, opened first if the pool had none idle. With
/// thread_safe, the connection's I/O runs on its own strand: opening it and the exchange are
/// spawned there (spawn_on.hpp: Asio 1.26's co_spawn forwards a cancellation through freed
/// memory); otherwise this coroutine awaits them. `sign` stamps the attempt's authentication once
/// the connection is ready, as late as possible (a timestamped signature then leaves at once).
template <class Parts, class Sign>
asio::awaitable<exchange_result> send_on_pool(Parts& p, const engine_config& cfg, request_type& req, Sign& sign,
                                              const std::function<void(std::uint64_t)>& on_body_bytes,
                                              diagnostics& diag, attempt_trace& tr) {
    const bool thread_safe = cfg.thread_safe;
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    pool::lease lease;
    if (!p.connections.try_acquire(lease)) {
        lease = co_await p.connections.acquire(cfg.timeout.pool_wait);
        tr.pool_wait =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - tr.started);
    }
    if (stop_requested(cs) && !lease.ec) {
        p.connections.release(std::move(lease.conn), true);  // unused: as good as before
        co_return failed(asio::error::operation_aborted);
    }
    if (lease.ec) {
        if (lease.ec == client_error::pool_wait_timeout)
            diag.set_client_message("no connection became free within timeouts::pool_wait");
        co_return failed(lease.ec);
    }
    slot_guard slot(p.connections);
    slot.conn = std::move(lease.conn);
    const bool reused = slot.conn != nullptr;
    if (!reused) {
        slot.conn = std::make_unique<pooled_connection>(p.ex, p.tls_ctx.get(), thread_safe);
        auto open = open_connection(slot.conn->conn, p.ep, p.transport, p.sessions, diag, thread_safe);
        error_code ec;
        // (if/else, not ?:, around co_await: GCC 12, docs/known-issues.md.)
        if (thread_safe)
            ec = co_await spawn_on(slot.conn->strand, std::move(open));
        else
            ec = co_await std::move(open);
        if (stop_requested(cs)) ec = asio::error::operation_aborted;
        if (cfg.on_attempt) tr.opened = slot.conn->conn.opened;
        tr.tls_resumed = slot.conn->conn.resumed;
        if (ec) {
            slot.release(false);
            co_return failed(ec);
        }
        p.connections.count_created(slot.conn->conn.resumed);
    }
    if (auto ec = sign()) {
        slot.release(true);
        co_return failed(ec);
    }
    p.connections.count_request(reused);
    auto& conn = slot.conn->conn;
    auto op = exchange(conn, req, p.transport, on_body_bytes, thread_safe);
    exchange_result r;
    if (thread_safe)
        r = co_await spawn_on(slot.conn->strand, std::move(op));
    else
        r = co_await std::move(op);
    r.connection_reused = reused;
    tr.bytes_sent = r.bytes_sent;
    tr.first_byte = r.first_byte;
    if (cfg.attempt_headers) {
        tr.request_header = redacted_header(req);
        tr.response_header = std::move(r.response_header);
    }
    // A cancellation that arrived while no socket operation was pending (between two writes of
    // the connection's strand, or just as the reply completed) still wins: the caller asked for
    // the operation to stop, and the connection's state is no longer known.
    if (stop_requested(cs)) {
        slot.release(false);
        co_return failed(asio::error::operation_aborted);
    }
    if (!r.ec && conn.tls && !conn.session_stored) {
        // After the first response, so that a TLS 1.3 ticket has arrived.
        p.sessions.store(conn.tls->native_handle());
        conn.session_stored = true;
    }
    slot.release(!is_fatal_for_connection(r.ec) && r.keep_alive);
    co_return r;
}

/// The lower-case hex SHA-256 of `body`'s bytes (prepared, one pass), read as they will be sent.
/// Yields to the executor every MiB: a 10 MB body costs several milliseconds of CPU, which other
/// operations on the same thread should not wait for in one piece. Honours cancellation there.
asio::awaitable<error_code> hash_body(body_encoding* body, std::string& hex, diagnostics& diag) {
    sha256_context sha;
    if (body) {
        const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
        body->use_thread_buffer(true);  // each buffer is hashed before the next is produced
        error_code ec;
        body->start(ec);
        std::uint64_t since_yield = 0;
        while (!ec && !body->done()) {
            const auto bytes = body->next(ec);
            if (ec || bytes.empty()) break;
            sha.update(std::string_view(bytes.data(), bytes.size()));
            if ((since_yield += bytes.size()) >= 1024 * 1024) {
                since_yield = 0;
                co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                if (stop_requested(cs)) co_return asio::error::operation_aborted;
            }
        }
        if (ec) {
            diag.set_client_message(body->error_detail());
            co_return ec;
        }
    }
    hex = to_hex(sha.finish());
    co_return error_code{};
}

}  // namespace

asio::awaitable<operation_outcome> engine::run(operation& op, diagnostics& diag) {
    auto& desc = op.request;
    auto* body = desc.body.get();
    // Everything before the first attempt happens before a connection is even requested: bad
    // input never costs a byte.
    std::optional<std::uint64_t> length = 0;
    if (body) {
        if (auto ec = body->prepare()) {
            diag.set_client_message(body->error_detail());
            co_return operation_outcome{ec};
        }
        length = body->content_length();
        if (length && cfg_.max_upload_bytes && *length > cfg_.max_upload_bytes) {
            diag.set_client_message("request body of " + std::to_string(*length) + " bytes exceeds max_upload_bytes (" +
                                    std::to_string(cfg_.max_upload_bytes) + ")");
            co_return operation_outcome{client_error::upload_too_large};
        }
    }

    // A closed client refuses here, before the payload pass below could read a large body for
    // nothing (later, its pool would refuse the same way).
    bool closed;
    {
        std::lock_guard lock(ops_mu_);
        closed = closed_;
    }
    if (closed) {
        diag.set_client_message(error_code(client_error::pool_closed).message());
        co_return operation_outcome{client_error::pool_closed};
    }

    auto& p = *parts_;
    request_type req;
    req.method_string(desc.method);
    req.target(p.ep.base_path + desc.path);
    req.version(11);
    req.set(http::field::host, p.ep.host_header);
    req.set(http::field::user_agent, cfg_.user_agent);
    for (const auto& h : desc.headers) req.set(h.name, h.value);
    req.keep_alive(true);
    std::string content_type;
    if (body) {
        content_type = body->content_type();
        req.set(http::field::content_type, content_type);
        if (length && !cfg_.force_chunked)
            req.content_length(*length);
        else
            req.chunked(true);
        if (cfg_.expect_continue_above && (!length || *length > cfg_.expect_continue_above))
            req.set(http::field::expect, "100-continue");
    } else {
        req.content_length(std::uint64_t{0});
    }
    req.body() = desc.body;

    // A signer that covers the body gets its SHA-256 from a pass over exactly the bytes that will
    // be sent; the body is then prepared again (and its files checked to be the same) to send it.
    std::string digest;
    bool prepared = true;  // the body was prepared above, for the first attempt
    if (op.signer && op.signer->needs_payload_digest()) {
        if (body && !body->readable_twice()) {
            // Hashing it would consume it: sign UNSIGNED-PAYLOAD instead, or spool the source.
            diag.set_client_message(
                "the body has an async source, which cannot be read twice: a signature over the body "
                "needs its SHA-256 before it is sent; set unsigned_payload, or spool the source to a "
                "file or memory first");
            co_return operation_outcome{client_error::invalid_argument};
        }
        if (auto ec = co_await hash_body(body, digest, diag)) co_return operation_outcome{ec};
        prepared = false;
    }

    std::vector<header_field> auth;
    auto sign = [&]() -> error_code {
        if (!op.signer) return {};
        const signing_context ctx{desc.method, req.target(), p.ep.host_header, content_type, unix_now(), digest};
        for (const auto& h : auth) req.erase(h.name);
        auth.clear();
        if (auto ec = op.signer->sign(desc, ctx, auth, diag)) return ec;
        for (const auto& h : auth) req.set(h.name, h.value);
        return {};
    };

    std::uint64_t sent = 0;
    std::function<void(std::uint64_t)> on_body_bytes;  // named: see send_on_pool
    if (desc.on_progress)
        on_body_bytes = [&](std::uint64_t n) {
            sent += n;
            desc.on_progress(sent, length);
        };

    bool replied = false;
    attempt_trace trace;
    auto attempt = [&](int) -> asio::awaitable<attempt_outcome> {
        replied = false;
        sent = 0;
        trace = attempt_trace{};
        trace.started = std::chrono::steady_clock::now();
        if (body && !std::exchange(prepared, false)) {
            // Every attempt re-opens and re-checks its sources (the rewind).
            if (auto ec = body->prepare()) {
                diag.set_client_message(body->error_detail());
                co_return attempt_outcome{ec};
            }
        }
        prepared = false;
        auto r = co_await send_on_pool(p, cfg_, req, sign, on_body_bytes, diag, trace);
        attempt_outcome a{r.ec, r.status, r.request_fully_sent, r.response_started, r.connection_reused};
        a.resendable = !body || body->rewindable();
        if (r.ec) {
            if (r.source_error)
                diag.set_client_message("the body's source failed: " + r.source_error.message() + " [" +
                                        r.source_error.category().name() + ":" +
                                        std::to_string(r.source_error.value()) + "]");
            describe_transport_error(r, diag);
        } else {
            replied = true;
            reply rep{r.status, std::move(r.body), r.server_time};
            a.ec = op.parse(rep, diag);
            diag.set_reply_body(std::move(rep.body));
        }
        co_return a;
    };
    auto sleep = [](std::chrono::milliseconds d) -> asio::awaitable<error_code> {
        asio::steady_timer backoff(co_await asio::this_coro::executor, d);
        auto [ec] = co_await backoff.async_wait(use_tuple);
        co_return ec;
    };
    auto observe = [&](int n, diagnostics::attempt_record::kind why, const attempt_outcome& a,
                       const attempt_decision& d) {
        if (!cfg_.on_attempt) return;
        attempt_event e;
        e.operation = desc.name;
        e.attempt = n;
        e.why = why;
        e.connection_reused = a.connection_reused;
        e.tls_resumed = trace.tls_resumed && !a.connection_reused;
        e.peer = trace.opened.peer;
        e.tls_version = trace.opened.tls_version;
        e.pool_wait = trace.pool_wait;
        e.resolve = trace.opened.resolve;
        e.connect = trace.opened.connect;
        e.handshake = trace.opened.handshake;
        e.bytes_sent = trace.bytes_sent;
        e.first_byte = trace.first_byte;
        e.duration =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - trace.started);
        e.http_status = a.http_status;
        e.error = a.ec;
        e.server_code = diag.server_code();
        e.request_header = trace.request_header;
        e.response_header = trace.response_header;
        e.next = d.next;
        e.reason = d.reason;
        e.delay = d.delay;
        cfg_.on_attempt(e);
    };
    const error_code ec = co_await retry_loop(cfg_.retry, *p.budget, desc.idempotent, attempt, sleep, diag, observe);
    // A source problem found while streaming (e.g. the file changed size) explains itself best.
    if (ec && ec.category() == client_category() && body && !body->error_detail().empty())
        diag.set_client_message(body->error_detail());
    co_return operation_outcome{ec, replied};
}

}  // namespace livefour::detail
