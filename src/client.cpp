// The client's operations: input checks, signing, pooled exchanges with the keep-alive race
// handled, reply parsing, cancellation and close(). Every operation runs as a coroutine on its
// own strand; each exchange hops to the strand of the connection it uses (see pool.hpp).
#include <livefour/client.hpp>

#include "pool.hpp"
#include "transport.hpp"

#include <livefour/detail/multipart_body.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <mutex>
#include <set>
#include <utility>

namespace livefour::detail {

using namespace asio::experimental::awaitable_operators;

/// One in-flight operation, so that close() can cancel it on its own strand.
struct op_record {
    explicit op_record(asio::any_io_executor s) : strand(std::move(s)) {}
    asio::any_io_executor strand;  ///< a strand, or the client's executor (make_strand_executor)
    asio::cancellation_signal signal;
};

struct client_impl {
    client_impl(asio::any_io_executor e, client_options o)
        : ex(std::move(e)), opts(std::move(o)), sign(opts.creds, opts.signing), tls_ctx(init_endpoint()),
          connections(ex, tls_ctx.get(), opts.pool, opts.thread_safe),
          budget(opts.budget ? opts.budget : std::make_shared<retry_budget>()) {}

    std::shared_ptr<ssl::context> init_endpoint() {
        std::string why;
        if (auto ec = parse_endpoint(opts.endpoint, opts.allow_insecure_http, ep, why))
            throw boost::system::system_error(ec, why);
        if (!ep.tls) return nullptr;
        return opts.tls.context ? opts.tls.context : make_tls_context(opts.tls);
    }

    std::string path(std::string_view api) const { return ep.base_path + std::string(api); }

    asio::any_io_executor ex;
    client_options opts;
    signer sign;
    endpoint_info ep;
    std::shared_ptr<ssl::context> tls_ctx;
    tls_session_cache sessions;
    pool connections;
    std::shared_ptr<retry_budget> budget;

    std::mutex ops_mu;
    std::set<std::shared_ptr<op_record>> ops;
    bool closed = false;
};

namespace {

bool has_control_chars(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

/// Failures after which resending is safe because the server cannot have acted on the request:
/// a reused keep-alive connection that turns out to be dead before any response byte (the
/// server closed it while idle — the common race). A request that went out in full is resent only
/// when that is harmless (`resend_after_full_send`: livegetfour, or the user opted in): a billed
/// detect that reached a server which then died must not be sent twice (spec §6). The pool's
/// liveness probe before reuse keeps that remaining window to microseconds.
bool stale_connection(const exchange_result& r, bool resend_after_full_send) {
    if (r.response_started) return false;
    if (r.request_fully_sent && !resend_after_full_send) return false;
    const auto& ec = r.ec;
    return ec == client_error::connection_closed || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::eof || ec == asio::error::connection_aborted;
}

template <class Body>
void common_headers(client_impl& self, http::request<Body>& req, std::string_view api) {
    req.method(http::verb::post);
    req.target(self.path(api));
    req.version(11);
    req.set(http::field::host, self.ep.host_header);
    req.set(http::field::user_agent, self.opts.user_agent);
    req.set(http::field::accept, "application/json");
    req.set(http::field::authorization, self.sign.authorization());
    req.keep_alive(true);
}

exchange_result failed(error_code ec) {
    exchange_result r;
    r.ec = ec;
    return r;
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
            if (conn) conn->conn.close();
            pool_->release(std::move(conn), false);
        }
    }
    void release(bool reusable) {
        auto* p = std::exchange(pool_, nullptr);
        if (!reusable && conn) conn->conn.close();
        p->release(std::move(conn), reusable);
    }
    connection_ptr conn;

private:
    pool* pool_;
};

/// Runs `exchange` on a pooled connection, opening one if needed, on the connection's strand.
/// `rewind` is called before a resend; it re-prepares the body from its sources.
template <class Body>
asio::awaitable<exchange_result> send(client_impl& self, http::request<Body>& req, diagnostics& diag,
                                      bool resend_after_full_send, const std::function<error_code()>& rewind,
                                      const std::function<void(std::uint64_t)>& on_body_bytes) {
    // thread_safe: the connection's I/O runs on its own strand, so opening it and each exchange are
    // co_spawned there. Otherwise the connection has no strand and this coroutine awaits them.
    // (if/else, not ?:, around co_await: GCC 12, docs/known-issues.md.)
    const bool hop = self.opts.thread_safe;
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    for (int attempt = 0;; ++attempt) {
        pool::lease lease;
        if (!self.connections.try_acquire(lease))
            lease = co_await self.connections.acquire(self.opts.timeout.pool_wait);
        if (stop_requested(cs) && !lease.ec) {
            self.connections.release(std::move(lease.conn), true);  // unused: as good as before
            co_return failed(asio::error::operation_aborted);
        }
        if (lease.ec) {
            if (lease.ec == client_error::pool_wait_timeout)
                diag.set_client_message("no connection became free within timeouts::pool_wait");
            co_return failed(lease.ec);
        }
        slot_guard slot(self.connections);
        slot.conn = std::move(lease.conn);
        const bool reused = slot.conn != nullptr;
        if (!reused) {
            slot.conn = self.connections.make_connection();
            auto open = open_connection(slot.conn->conn, self.ep, self.opts, self.sessions, diag, hop);
            error_code ec;
            if (hop)
                ec = co_await asio::co_spawn(slot.conn->strand, std::move(open), asio::use_awaitable);
            else
                ec = co_await std::move(open);
            if (stop_requested(cs)) ec = asio::error::operation_aborted;
            if (ec) {
                slot.release(false);
                co_return failed(ec);
            }
            self.connections.count_created(slot.conn->conn.resumed);
        }
        if (attempt > 0) {
            if (auto ec = rewind()) {
                slot.release(true);
                co_return failed(ec);
            }
            req.set(http::field::authorization, self.sign.authorization());
        }
        self.connections.count_request(reused);
        auto& conn = slot.conn->conn;
        exchange_result r;
        r.connection_reused = reused;
        auto op = conn.tls ? exchange(*conn.tls, conn.lowest(), conn.buffer, req, self.opts, on_body_bytes, hop)
                           : exchange(*conn.plain, conn.lowest(), conn.buffer, req, self.opts, on_body_bytes, hop);
        if (hop)
            r = co_await asio::co_spawn(slot.conn->strand, std::move(op), asio::use_awaitable);
        else
            r = co_await std::move(op);
        r.connection_reused = reused;
        // A cancellation that arrived while no socket operation was pending (between two writes of
        // the connection's strand, or just as the reply completed) still wins: the caller asked for
        // the operation to stop, and the connection's state is no longer known.
        if (stop_requested(cs)) {
            slot.release(false);
            co_return failed(asio::error::operation_aborted);
        }

        const bool ok = !r.ec;
        if (ok && conn.tls && !conn.session_stored) {
            // After the first response, so that a TLS 1.3 ticket has arrived.
            self.sessions.store(conn.tls->native_handle());
            conn.session_stored = true;
        }
        if (!ok && reused && stale_connection(r, resend_after_full_send) && attempt == 0) {
            // The keep-alive race: resend once on a new connection. Never surfaces to the user.
            slot.release(false);
            continue;
        }
        slot.release(ok && r.keep_alive);
        co_return r;
    }
}

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

/// The retry loop (spec §6): resends while the policy allows and the client's budget has tokens,
/// rewinding the body and re-signing before every attempt, waiting a jittered backoff on a timer
/// (cancellable like everything else). Gives up with retries_exhausted once max_attempts failed;
/// the last reply is still returned, so the last API code is in Result::code.
template <class Result, class Body, class Parse>
asio::awaitable<std::tuple<error_code, Result>> with_retries(client_impl& self, http::request<Body>& req,
                                                             diagnostics& diag, bool idempotent,
                                                             const std::function<error_code()>& rewind,
                                                             const std::function<void(std::uint64_t)>& on_bytes,
                                                             Parse parse) {
    const auto& policy = self.opts.retry;
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    for (int attempt = 1;; ++attempt) {
        if (attempt > 1) {
            if (auto ec = rewind()) co_return std::tuple{ec, Result{}};
            req.set(http::field::authorization, self.sign.authorization());  // valid for this attempt
        }
        diag.clear_response();
        diag.count_attempt();
        auto r = co_await send(self, req, diag, idempotent || policy.retry_after_full_send, rewind, on_bytes);
        Result out;
        error_code ec = r.ec;
        if (ec)
            describe_transport_error(r, diag);
        else
            ec = parse(r.body, r.status, out, diag);
        if (!ec) {
            self.budget->record_success();
            co_return std::tuple{ec, std::move(out)};
        }
        attempt_info info;
        info.ec = ec;
        info.attempt = attempt;
        info.idempotent = idempotent;
        info.request_fully_sent = r.request_fully_sent;
        info.response_started = r.response_started;
        info.connection_reused = r.connection_reused;
        info.http_status = r.status;
        if (!is_retryable_failure(policy, info)) co_return std::tuple{ec, std::move(out)};
        self.budget->record_failure();
        if (!should_retry(policy, info)) {  // retryable, but this was the last attempt allowed
            if (policy.max_attempts == 1) co_return std::tuple{ec, std::move(out)};  // retries are off
            diag.set_client_message("gave up after " + std::to_string(attempt) +
                                    " attempts; last error: " + ec.message() + " [" + ec.category().name() + ":" +
                                    std::to_string(ec.value()) + "]");
            co_return std::tuple{error_code(client_error::retries_exhausted), std::move(out)};
        }
        if (!self.budget->allow_retry()) {
            diag.set_client_message(
                "not retried: the client's retry budget is exhausted (most recent attempts "
                "failed); last error: " +
                ec.message());
            co_return std::tuple{ec, std::move(out)};
        }
        const auto delay = backoff_delay(policy, attempt, ec);
        if (policy.on_retry) policy.on_retry(retry_event{attempt, ec, delay});
        diag.add_retry(ec, delay);
        asio::steady_timer backoff(co_await asio::this_coro::executor, delay);
        auto [wait_ec] = co_await backoff.async_wait(use_tuple);
        if (wait_ec || stop_requested(cs)) co_return std::tuple{error_code(asio::error::operation_aborted), Result{}};
    }
}

asio::awaitable<std::tuple<error_code, digits_result>> run_digits(std::shared_ptr<client_impl> self, digits_request req,
                                                                  diagnostics& diag) {
    digits_result out;
    if (req.seq && has_control_chars(*req.seq)) {
        diag.set_client_message("seq contains control characters");
        co_return std::tuple{error_code(client_error::invalid_field), out};
    }
    boost::json::object body;
    body["appid"] = self->sign.appid();
    if (req.seq) body["seq"] = *req.seq;

    http::request<http::string_body> hreq;
    common_headers(*self, hreq, "/face/livegetfour");
    hreq.set(http::field::content_type, "application/json");
    hreq.body() = boost::json::serialize(body);
    hreq.prepare_payload();

    // Named, not temporaries in the co_await expression: GCC 12 mishandles temporaries that live
    // across a suspension point (docs/known-issues.md).
    const std::function<error_code()> no_rewind = [] { return error_code{}; };
    const std::function<void(std::uint64_t)> no_progress;
    co_return co_await with_retries<digits_result>(
        *self, hreq, diag, /*idempotent=*/true, no_rewind, no_progress,
        [](std::string_view body, int status, digits_result& o, diagnostics& d) {
            return parse_digits_response(body, status, o, d);
        });
}

template <class Request>
asio::awaitable<std::tuple<error_code, detect_result>> run_detect(std::shared_ptr<client_impl> self, Request req,
                                                                  diagnostics& diag, std::string_view api) {
    detect_result out;
    auto fail = [&](error_code ec, std::string why) {
        diag.set_client_message(std::move(why));
        return std::tuple{ec, out};
    };
    if (req.validate_data.empty()) co_return fail(client_error::invalid_argument, "validate_data is empty");

    auto form = std::make_shared<multipart_form>();
    form->add_field("appid", self->sign.appid());
    form->add_field("validate_data", req.validate_data);
    if constexpr (std::is_same_v<Request, detect_request>) {
        form->add_field("compare_flag", req.card ? "true" : "false");
    } else {
        if (req.idcard_number.empty() || req.idcard_name.empty())
            co_return fail(client_error::invalid_argument, "idcard_number and idcard_name are required");
        form->add_field("idcard_number", req.idcard_number);
        form->add_field("idcard_name", req.idcard_name);
    }
    if (req.seq) form->add_field("seq", *req.seq);
    form->add_file("video", req.video);
    if constexpr (std::is_same_v<Request, detect_request>) {
        if (req.card) form->add_file("card", *req.card);
    }
    form->write_buffer_size = self->opts.write_buffer_size;
    form->max_body_bytes = self->opts.max_upload_bytes;  // stops an unsized source that runs long

    // Everything below happens before a connection is even requested: bad input never costs a byte.
    if (auto ec = form->prepare()) co_return fail(ec, form->error_detail());
    const auto length = form->content_length();
    if (length && self->opts.max_upload_bytes && *length > self->opts.max_upload_bytes)
        co_return fail(client_error::upload_too_large, "request body of " + std::to_string(*length) +
                                                           " bytes exceeds max_upload_bytes (" +
                                                           std::to_string(self->opts.max_upload_bytes) + ")");

    http::request<multipart_body> hreq;
    common_headers(*self, hreq, api);
    hreq.set(http::field::content_type, form->content_type());
    hreq.body() = form;
    if (length && !self->opts.force_chunked)
        hreq.content_length(*length);
    else
        hreq.chunked(true);

    std::uint64_t sent = 0;
    std::function<void(std::uint64_t)> on_bytes;  // named std::function: see run_digits
    if (req.on_progress)
        on_bytes = [&](std::uint64_t n) {
            sent += n;
            req.on_progress(sent, length);
        };
    const std::function<error_code()> rewind = [&]() -> error_code {
        sent = 0;
        auto ec = form->prepare();
        if (ec) diag.set_client_message(form->error_detail());
        return ec;
    };

    auto result =
        co_await with_retries<detect_result>(*self, hreq, diag, /*idempotent=*/false, rewind, on_bytes,
                                             [&](std::string_view body, int status, detect_result& o, diagnostics& d) {
                                                 return parse_detect_response(body, status, o, d);
                                             });
    // A source problem found while streaming (e.g. the file changed size) explains itself best.
    if (auto& ec = std::get<0>(result); ec && ec.category() == client_category() && !form->error_detail().empty())
        diag.set_client_message(form->error_detail());
    co_return result;
}

/// Wraps an operation: registers it for close(), bounds it by the overall deadline, lets every
/// cancellation type through, and never lets an exception escape into the handler's executor.
template <class Result>
asio::awaitable<std::tuple<error_code, Result>> guarded(std::shared_ptr<client_impl> self,
                                                        asio::awaitable<std::tuple<error_code, Result>> op,
                                                        diagnostics& diag) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    try {
        const auto deadline = self->opts.timeout.deadline;
        if (deadline.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
            auto r = co_await (std::move(op) || timer.async_wait(use_tuple));
            // The timer's branch also completes first when the caller cancels (with operation_aborted).
            if (r.index() == 1 && std::get<0>(std::get<1>(r)))
                co_return std::tuple{error_code(asio::error::operation_aborted), Result{}};
            if (r.index() == 1) {
                diag.set_client_message("operation exceeded timeouts::deadline");
                co_return std::tuple{error_code(client_error::deadline_exceeded), Result{}};
            }
            co_return std::get<0>(std::move(r));
        }
        co_return co_await std::move(op);
    } catch (const boost::system::system_error& e) {
        co_return std::tuple{e.code(), Result{}};
    } catch (const std::bad_alloc&) {
        co_return std::tuple{error_code(std::make_error_code(std::errc::not_enough_memory)), Result{}};
    }
}

template <class Result, class Handler, class MakeOp>
void launch(std::shared_ptr<client_impl> self, diagnostics* user_diag, Handler handler, MakeOp make_op) {
    auto record = std::make_shared<op_record>(make_strand_executor(self->ex, self->opts.thread_safe));
    auto diag = user_diag ? std::shared_ptr<diagnostics>(std::shared_ptr<diagnostics>{}, user_diag)
                          : std::make_shared<diagnostics>();
    diag->clear();
    {
        std::lock_guard lock(self->ops_mu);
        // A closed client still runs the operation: its pool refuses it with pool_closed, through the
        // same completion path as every other failure (never inline).
        self->ops.insert(record);
    }
    // Forward the caller's cancellation to our signal, on the operation's strand.
    auto user_slot = asio::get_associated_cancellation_slot(handler);
    if (user_slot.is_connected())
        user_slot.assign([record](asio::cancellation_type t) {
            asio::post(record->strand, [record, t] { record->signal.emit(t); });
        });
    auto handler_ex = asio::get_associated_executor(handler, self->ex);
    auto op = guarded<Result>(self, make_op(self, *diag), *diag);
    asio::co_spawn(
        record->strand, std::move(op),
        asio::bind_cancellation_slot(
            record->signal.slot(),
            asio::bind_executor(handler_ex, [self, record, diag, user_slot, h = std::move(handler)](
                                                std::exception_ptr e, std::tuple<error_code, Result> r) mutable {
                {
                    std::lock_guard lock(self->ops_mu);
                    self->ops.erase(record);
                }
                if (user_slot.is_connected()) user_slot.clear();
                if (e) {
                    std::get<0>(r) = std::make_error_code(std::errc::state_not_recoverable);
                    diag->set_client_message("internal error: unexpected exception");
                }
                std::move(h)(std::get<0>(r), std::move(std::get<1>(r)));
            })));
}

}  // namespace

void async_get_digits_erased(std::shared_ptr<client_impl> self, digits_request req, diagnostics* diag,
                             digits_handler handler) {
    launch<digits_result>(std::move(self), diag, std::move(handler),
                          [req = std::move(req)](std::shared_ptr<client_impl> s, diagnostics& d) mutable {
                              return run_digits(std::move(s), std::move(req), d);
                          });
}

void async_detect_erased(std::shared_ptr<client_impl> self, detect_request req, diagnostics* diag,
                         detect_handler handler) {
    launch<detect_result>(std::move(self), diag, std::move(handler),
                          [req = std::move(req)](std::shared_ptr<client_impl> s, diagnostics& d) mutable {
                              return run_detect(std::move(s), std::move(req), d, "/face/livedetectfour");
                          });
}

void async_idcard_detect_erased(std::shared_ptr<client_impl> self, idcard_detect_request req, diagnostics* diag,
                                detect_handler handler) {
    launch<detect_result>(std::move(self), diag, std::move(handler),
                          [req = std::move(req)](std::shared_ptr<client_impl> s, diagnostics& d) mutable {
                              return run_detect(std::move(s), std::move(req), d, "/face/idcardlivedetectfour");
                          });
}

}  // namespace livefour::detail

namespace livefour {

client::client(executor_type ex, client_options opts) {
    if (auto ec = validate(opts)) {
        std::string why;
        detail::endpoint_info info;
        if (ec == client_error::bad_endpoint || ec == client_error::insecure_http_refused)
            detail::parse_endpoint(opts.endpoint, opts.allow_insecure_http, info, why);
        if (why.empty()) throw boost::system::system_error(ec);
        throw boost::system::system_error(ec, why);
    }
    impl_ = std::make_shared<detail::client_impl>(std::move(ex), std::move(opts));
}

client::~client() { close(); }
client::client(client&&) noexcept = default;
client& client::operator=(client&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

client::executor_type client::get_executor() const noexcept { return impl_ ? impl_->ex : executor_type{}; }

void client::close() {
    if (!impl_) return;
    std::set<std::shared_ptr<detail::op_record>> ops;
    {
        std::lock_guard lock(impl_->ops_mu);
        if (impl_->closed) return;
        impl_->closed = true;
        ops = impl_->ops;
    }
    impl_->connections.close();
    for (auto& r : ops) boost::asio::post(r->strand, [r] { r->signal.emit(boost::asio::cancellation_type::terminal); });
}

pool_stats client::stats() const { return impl_ ? impl_->connections.stats() : pool_stats{}; }

}  // namespace livefour
