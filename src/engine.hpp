// Internal: the engine runs operations (operation.hpp) for a client of any backend — endpoint,
// TLS, the connection pool, the retry loop and budget, the deadline, cancellation and close().
// Its heavy parts (Beast, OpenSSL, the pool) live in engine.cpp; what a backend's translation unit
// sees here is Asio's coroutine machinery and the templates that give an operation its typed
// result and its completion handler.
#pragma once

#include "endpoint.hpp"
#include "operation.hpp"
#include "strand.hpp"

#include <livefour/options.hpp>
#include <livefour/pool_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <tuple>

namespace livefour::detail {

namespace asio = boost::asio;

/// What the engine needs of a client's options: the shared part and the endpoint. Credentials and
/// signing options stay with the backend.
struct engine_config : connection_options {
    std::string endpoint;
    std::uint64_t max_upload_bytes = 0;  ///< 0: no limit
};

/// The engine's part of a client's options.
engine_config engine_config_of(const connection_options& o, std::string endpoint, std::uint64_t max_upload_bytes);

/// Checks what every client checks (endpoint, limits, timeouts, retry policy) and parses the
/// endpoint: the one place these rules live. On failure `why` explains, in words.
error_code validate(const engine_config& c, endpoint_info& ep, std::string& why);

/// One operation in flight, so that close() can cancel it on its own strand.
struct op_record {
    explicit op_record(asio::any_io_executor s) : strand(std::move(s)) {}
    asio::any_io_executor strand;  ///< a strand, or the client's executor (make_strand_executor)
    asio::cancellation_signal signal;
    bool finished = false;  ///< completed (under the engine's lock): add() then does not register it
};

/// How engine::run() ended.
struct operation_outcome {
    error_code ec;
    bool replied = false;  ///< the last attempt got a reply, which the operation's parse() read
};

class engine {
public:
    /// `ep` is `cfg.endpoint` parsed (validate()). Throws system_error for an unreadable CA file.
    engine(asio::any_io_executor ex, engine_config cfg, endpoint_info ep);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const asio::any_io_executor& executor() const noexcept { return ex_; }
    const engine_config& config() const noexcept { return cfg_; }

    /// Runs `op` to its end on the calling coroutine's strand: its body prepared and checked
    /// before anything is sent, then attempts through the pool, signed one by one, with the
    /// retry policy's retries and backoff.
    asio::awaitable<operation_outcome> run(operation& op, diagnostics& diag);

    /// Registers an operation in flight (close() cancels it), once its coroutine is spawned with
    /// its signal connected; if close() came first, cancels it as close() would have.
    void add(const std::shared_ptr<op_record>& r);
    /// Unregisters a completed operation (possibly before add(), on another thread).
    void remove(const std::shared_ptr<op_record>& r);
    /// Cancels every operation in flight, closes idle connections, refuses new operations
    /// (client_error::pool_closed). Idempotent, thread-safe.
    void close();
    pool_stats stats() const;

private:
    struct parts;  // the pool, the TLS context, the session cache, the budget (engine.cpp)

    asio::any_io_executor ex_;
    engine_config cfg_;
    std::unique_ptr<parts> parts_;
    std::mutex ops_mu_;
    std::set<std::shared_ptr<op_record>> ops_;
    bool closed_ = false;
};

/// Builds an operation from a request: checks its input (nothing is sent if it fails) and says
/// how the reply becomes a Result. Signature: error_code(operation&, Result&, diagnostics&).
template <class Result, class Build>
asio::awaitable<std::tuple<error_code, Result>> run_typed(std::shared_ptr<engine> e, Build build, diagnostics& diag) {
    Result out;
    operation op;
    if (auto ec = build(op, out, diag)) co_return std::tuple{ec, Result{}};
    const auto r = co_await e->run(op, diag);
    // The last attempt got no reply: an earlier attempt's reply is not this outcome's.
    if (!r.replied) out = Result{};
    co_return std::tuple{r.ec, std::move(out)};
}

/// Wraps an operation: lets every cancellation type through, bounds it by the overall deadline,
/// and never lets an exception escape into the handler's executor.
template <class Result>
asio::awaitable<std::tuple<error_code, Result>> guarded(std::shared_ptr<engine> e,
                                                        asio::awaitable<std::tuple<error_code, Result>> op,
                                                        diagnostics& diag) {
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    try {
        const auto deadline = e->config().timeout.deadline;
        if (deadline.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
            auto r = co_await (std::move(op) || timer.async_wait(tuple));
            if (r.index() == 1) {
                // The timer's branch also completes first when the caller cancels (operation_aborted).
                if (std::get<0>(std::get<1>(r)))
                    co_return std::tuple{error_code(asio::error::operation_aborted), Result{}};
                diag.set_client_message("operation exceeded timeouts::deadline");
                co_return std::tuple{error_code(client_error::deadline_exceeded), Result{}};
            }
            co_return std::get<0>(std::move(r));
        }
        co_return co_await std::move(op);
    } catch (const boost::system::system_error& ex) {
        co_return std::tuple{ex.code(), Result{}};
    } catch (const std::bad_alloc&) {
        co_return std::tuple{error_code(std::make_error_code(std::errc::not_enough_memory)), Result{}};
    }
}

/// Starts an operation for a completion handler: registers it for close(), forwards the caller's
/// cancellation to it on its strand, runs it (never inline) and completes the handler on its
/// associated executor with (error_code, Result).
template <class Result, class Handler, class Build>
void launch(std::shared_ptr<engine> e, diagnostics* user_diag, Handler handler, Build build) {
    auto record = std::make_shared<op_record>(make_strand_executor(e->executor(), e->config().thread_safe));
    auto diag = user_diag ? std::shared_ptr<diagnostics>(std::shared_ptr<diagnostics>{}, user_diag)
                          : std::make_shared<diagnostics>();
    diag->clear();
    // Forward the caller's cancellation to our signal, on the operation's strand.
    auto user_slot = asio::get_associated_cancellation_slot(handler);
    if (user_slot.is_connected())
        user_slot.assign([record](asio::cancellation_type t) {
            asio::post(record->strand, [record, t] { record->signal.emit(t); });
        });
    auto handler_ex = asio::get_associated_executor(handler, e->executor());
    auto op = guarded<Result>(e, run_typed<Result>(e, std::move(build), *diag), *diag);
    asio::co_spawn(
        record->strand, std::move(op),
        asio::bind_cancellation_slot(
            record->signal.slot(),
            asio::bind_executor(handler_ex, [e, record, diag, user_slot, h = std::move(handler)](
                                                std::exception_ptr ex, std::tuple<error_code, Result> r) mutable {
                e->remove(record);
                if (user_slot.is_connected()) user_slot.clear();
                if (ex) {
                    std::get<0>(r) = std::make_error_code(std::errc::state_not_recoverable);
                    diag->set_client_message("internal error: unexpected exception");
                }
                std::move(h)(std::get<0>(r), std::move(std::get<1>(r)));
            })));
    // Registered only now that co_spawn has connected the signal: a close() on another thread
    // posts its emit after this (the engine's lock orders them), never into a signal that co_spawn
    // is still connecting. A closed client still runs the operation: engine::run() refuses it with
    // pool_closed before anything else (add()'s emit arrives after), through the same completion
    // path as every other failure (never inline).
    e->add(record);
}

}  // namespace livefour::detail
