// livefour — cancel_after: bound any asynchronous operation by a timeout, with any completion token.
//
// Boost 1.81's Asio has no asio::cancel_after (it arrived in Asio 1.30 / Boost 1.86), so livefour
// ships its own. It is a completion-token adapter:
//
//     co_await sock.async_read_some(buf, livefour::cancel_after(5s, asio::use_awaitable));
//     client.async_detect(req, livefour::cancel_after(30s, [](error_code ec, detect_result r) {...}));
//
// When the wrapped operation is initiated, a steady_timer is started; if it expires first it emits
// a cancellation (terminal by default) into a cancellation_signal bound to the operation's handler,
// and the operation completes the way it completes on any cancellation (usually with
// asio::error::operation_aborted). If the operation completes first, the timer is cancelled, so no
// stray wait keeps an io_context::run() busy. A cancellation slot the caller bound to the handler
// keeps working: emissions on it are forwarded to the operation.
//
// Where the timer lives: on the executor passed to cancel_after(executor, ...) if any; otherwise on
// the initiation's I/O executor (every Asio and Beast I/O object provides one); otherwise on the
// handler's associated executor (a coroutine's executor for use_awaitable). livefour::client's
// initiations expose the client's executor, so a plain callback works with them. A plain callback
// on an operation whose initiation exposes no executor (a user's own async_initiate function
// object, or an adapter applied outside, as in as_tuple(cancel_after(d, cb))) has none of these:
// that is a compile-time error that asks for cancel_after(executor, duration, token).
//
// Threading: the timer's handler runs on the handler's associated executor (falling back to the
// timer's executor), the same executor the operation completes on. The operation, its completion
// and the timer therefore share one executor, and must be serialised by it exactly as Asio requires
// for the I/O object itself: when the io_context is run by several threads, that executor must be a
// strand, and the operation must be initiated from it.
//
// Composition: bind your own cancellation slot *inside*, i.e.
// cancel_after(d, bind_cancellation_slot(slot, token)). Written the other way round,
// bind_cancellation_slot(slot, cancel_after(d, token)) replaces the adapter's slot with yours and
// the timeout can no longer reach the operation.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace livefour {

namespace detail {

/// Marks a cancel_after_t whose timer executor is found at initiation time.
struct cancel_after_no_executor {};

/// What the adapter's handler and its timer share. Lives until both have run (or been destroyed).
template <class Executor>
struct cancel_after_state {
    cancel_after_state(const Executor& ex, boost::asio::cancellation_type_t t) : timer(ex), type(t) {}

    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                      Executor>
        timer;
    boost::asio::cancellation_signal signal;  ///< the operation's slot is this signal's
    boost::asio::cancellation_type_t type;
    bool done = false;  ///< the operation has completed; nothing may be emitted any more
};

/// The timer's handler: cancel the operation unless it has completed already.
template <class Executor>
struct cancel_after_timer_handler {
    std::shared_ptr<cancel_after_state<Executor>> state;
    void operator()(const boost::system::error_code& ec) const {
        if (!ec && !state->done) state->signal.emit(state->type);
    }
};

/// Installed in the caller's own slot: forwards the caller's cancellation to the operation.
/// Holds the state weakly: the caller's signal may outlive the operation by far.
template <class Executor>
struct cancel_after_forwarder {
    std::weak_ptr<cancel_after_state<Executor>> state;
    void operator()(boost::asio::cancellation_type_t t) const {
        if (auto s = state.lock(); s && !s->done) s->signal.emit(t);
    }
};

/// The handler the wrapped operation sees: the caller's handler with our cancellation slot, and a
/// completion step that stops the timer and unhooks the caller's slot. Every other associated
/// property (executor, allocator) is the caller's handler's, see the associator below.
template <class Handler, class Executor>
class cancel_after_handler {
public:
    using cancellation_slot_type = boost::asio::cancellation_slot;

    cancel_after_handler(Handler h, std::shared_ptr<cancel_after_state<Executor>> s,
                         boost::asio::cancellation_slot user_slot)
        : handler_(std::move(h)), state_(std::move(s)), user_slot_(user_slot) {}

    cancellation_slot_type get_cancellation_slot() const noexcept {
        return state_ ? state_->signal.slot() : cancellation_slot_type{};
    }

    /// The wrapped handler, for associators.
    const Handler& inner() const noexcept { return handler_; }

    template <class... Args>
    void operator()(Args&&... args) {
        if (state_) {
            state_->done = true;
            state_->timer.cancel();
            if (user_slot_.is_connected()) user_slot_.clear();
        }
        std::move(handler_)(std::forward<Args>(args)...);
    }

private:
    Handler handler_;
    std::shared_ptr<cancel_after_state<Executor>> state_;
    boost::asio::cancellation_slot user_slot_;
};

/// Picks the timer's executor: the explicit one, else the initiation's, else the handler's.
template <class Executor, class Initiation, class Handler>
auto cancel_after_timer_executor(const Executor& explicit_ex, const Initiation& init, const Handler& h) {
    if constexpr (std::is_same_v<Executor, cancel_after_no_executor>) {
        (void)explicit_ex;
        auto ex = boost::asio::get_associated_executor(init, boost::asio::get_associated_executor(h));
        static_assert(!std::is_same_v<decltype(ex), boost::asio::system_executor>,
                      "livefour::cancel_after: neither the operation nor its handler has an I/O executor "
                      "to run the timer on; use cancel_after(executor, duration, token)");
        return ex;
    } else {
        (void)init;
        (void)h;
        return explicit_ex;
    }
}

/// The initiation the inner token sees: starts the timer, then the wrapped operation.
template <class Initiation, class Executor>
struct cancel_after_initiation {
    Initiation initiation;
    std::chrono::steady_clock::duration timeout;
    boost::asio::cancellation_type_t type;
    Executor executor;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) {
        using handler_type = std::decay_t<Handler>;
        auto timer_ex = cancel_after_timer_executor(executor, initiation, handler);
        using timer_executor = decltype(timer_ex);
        auto state = std::make_shared<cancel_after_state<timer_executor>>(timer_ex, type);

        auto user_slot = boost::asio::get_associated_cancellation_slot(handler);
        if (user_slot.is_connected()) user_slot.assign(cancel_after_forwarder<timer_executor>{state});

        // The timer starts first: an operation that completes during its own initiation then
        // still finds a timer to cancel, instead of leaving one behind.
        auto completion_ex = boost::asio::get_associated_executor(handler, timer_ex);
        state->timer.expires_after(timeout);
        state->timer.async_wait(
            boost::asio::bind_executor(completion_ex, cancel_after_timer_handler<timer_executor>{state}));

        try {
            std::move(initiation)(
                cancel_after_handler<handler_type, timer_executor>(std::forward<Handler>(handler), state, user_slot),
                std::forward<Args>(args)...);
        } catch (...) {
            // The operation never started: leave no timer and no forwarder behind.
            state->done = true;
            state->timer.cancel();
            if (user_slot.is_connected()) user_slot.clear();
            throw;
        }
    }
};

}  // namespace detail

/// The completion token returned by cancel_after(): `token` plus a timeout. Use it wherever
/// `Token` is accepted; the operation's completion signature is unchanged.
template <class Token, class Executor = detail::cancel_after_no_executor>
class cancel_after_t {
public:
    /// Prefer cancel_after(), which deduces the types.
    template <class T>
    cancel_after_t(T&& token, std::chrono::steady_clock::duration timeout, boost::asio::cancellation_type_t type,
                   Executor ex = Executor{})
        : token_(std::forward<T>(token)), timeout_(timeout), type_(type), executor_(std::move(ex)) {}

    Token token_;                                  ///< the wrapped token
    std::chrono::steady_clock::duration timeout_;  ///< relative to the operation's initiation
    boost::asio::cancellation_type_t type_;        ///< what the timer emits
    Executor executor_;                            ///< the timer's executor, when given explicitly
};

/// Adapts `token` so that the operation is cancelled with `type` (terminal by default) if it has
/// not completed `timeout` after its initiation. The timer's executor is deduced (see above).
template <class Token>
[[nodiscard]] cancel_after_t<std::decay_t<Token>> cancel_after(
    std::chrono::steady_clock::duration timeout, Token&& token,
    boost::asio::cancellation_type_t type = boost::asio::cancellation_type::terminal) {
    return cancel_after_t<std::decay_t<Token>>(std::forward<Token>(token), timeout, type);
}

/// Same, with the timer on `ex` — needed when neither the operation nor the handler has an I/O
/// executor. `ex` must be the executor the operation completes on (or a strand of it).
template <class Executor, class Token>
requires(boost::asio::execution::is_executor<Executor>::value || boost::asio::is_executor<Executor>::value)
    [[nodiscard]] cancel_after_t<std::decay_t<Token>, Executor> cancel_after(
        const Executor& ex, std::chrono::steady_clock::duration timeout, Token&& token,
        boost::asio::cancellation_type_t type = boost::asio::cancellation_type::terminal) {
    return cancel_after_t<std::decay_t<Token>, Executor>(std::forward<Token>(token), timeout, type, ex);
}

/// Same, with the timer on `ctx.get_executor()` (an io_context, for instance).
template <class ExecutionContext, class Token>
requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
[[nodiscard]] auto cancel_after(ExecutionContext& ctx, std::chrono::steady_clock::duration timeout, Token&& token,
                                boost::asio::cancellation_type_t type = boost::asio::cancellation_type::terminal) {
    return cancel_after(ctx.get_executor(), timeout, std::forward<Token>(token), type);
}

}  // namespace livefour

namespace boost::asio {

/// Asio hook: how an operation initiated with a cancel_after_t token starts and what it returns
/// (whatever the wrapped token returns: an awaitable, a deferred operation, a future, nothing).
template <class Token, class Executor, class... Signatures>
struct async_result<livefour::cancel_after_t<Token, Executor>, Signatures...> {
    template <class Initiation>
    using wrapped_initiation = livefour::detail::cancel_after_initiation<std::decay_t<Initiation>, Executor>;

    /// How the wrapped token is handed on: Token& / const Token& from an lvalue adapter, Token&&
    /// from an rvalue one, so that async_initiate moves it (move-only callbacks work).
    template <class RawToken>
    using inner_token = decltype((std::declval<RawToken>().token_));

    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& init, RawToken&& token, Args&&... args)
        -> decltype(async_initiate<inner_token<RawToken>, Signatures...>(
            std::declval<wrapped_initiation<Initiation>>(),
            std::declval<std::remove_reference_t<inner_token<RawToken>>&>(), std::declval<Args>()...)) {
        wrapped_initiation<Initiation> wrapped{std::forward<Initiation>(init), token.timeout_, token.type_,
                                               token.executor_};
        // async_initiate takes the token as an lvalue and moves from it when its type is not a
        // reference.
        return async_initiate<inner_token<RawToken>, Signatures...>(std::move(wrapped), token.token_,
                                                                    std::forward<Args>(args)...);
    }
};

/// Forwards every associator except the cancellation slot (which is the adapter's own) to the
/// wrapped handler, so the operation completes on the caller's executor with the caller's allocator.
template <template <class, class> class Associator, class Handler, class Executor, class DefaultCandidate>
struct associator<Associator, livefour::detail::cancel_after_handler<Handler, Executor>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const livefour::detail::cancel_after_handler<Handler, Executor>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.inner());
    }
    static auto get(const livefour::detail::cancel_after_handler<Handler, Executor>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.inner(), c)) {
        return Associator<Handler, DefaultCandidate>::get(h.inner(), c);
    }
};

}  // namespace boost::asio
