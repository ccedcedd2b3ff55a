// Internal: `co_await spawn_on(ex, child)` runs a coroutine on another executor (a connection's
// strand) and awaits it, forwarding the awaiting coroutine's cancellation to it.
//
// Why not `co_await co_spawn(ex, child, use_awaitable)`: in Boost 1.81 (Asio 1.26) co_spawn's
// cancellation handler, which lives in the awaiting coroutine's cancellation slot, forwards a
// cancellation by dispatching to `ex` a lambda that holds a raw pointer to a signal inside the
// handler itself. When `ex` is busy on another thread the lambda is queued; if the child completes
// and the awaiting coroutine resumes before the lambda runs, the slot is cleared and the handler
// freed (or its memory recycled for the next co_spawn's handler), and the lambda then emits on
// freed memory: a heap-use-after-free that TSan caught in the cancellation stress test, or a
// cancellation delivered to an unrelated operation. Upstream fixed it by sharing the signal
// (chriskohlhoff/asio#1332); this adapter does the same for any Boost: the signal is owned by a
// shared_ptr that every queued emit holds.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <utility>

namespace livefour::detail {

namespace spawn_on_detail {

namespace asio = boost::asio;

/// Sits in the awaiting coroutine's cancellation slot: posts each cancellation to the child's
/// executor with its own reference to the signal, so that a queued emit outlives this handler.
/// Post, not dispatch: the emit must never run inside a handler of the child's executor that is
/// already on this thread's stack.
struct forward_cancellation {
    std::shared_ptr<asio::cancellation_signal> signal;
    asio::any_io_executor ex;
    void operator()(asio::cancellation_type type) const {
        asio::post(ex, [signal = signal, type] { signal->emit(type); });
    }
};

/// The child's completion handler. It has a cancellation slot (the shared signal's) but no
/// associated executor, on purpose: co_spawn then completes it on the child's executor and passes
/// a cancellation arriving through the slot straight to the child (our emit already runs on the
/// child's executor). It hands the result to the awaiting coroutine on that coroutine's executor,
/// and keeps the signal alive until the child is done.
template <class Handler, class T>
struct complete_awaiter {
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return signal->slot(); }

    void operator()(std::exception_ptr e, T value) {
        auto ex = asio::get_associated_executor(handler);
        asio::dispatch(
            ex, [h = std::move(handler), e, value = std::move(value)]() mutable { std::move(h)(e, std::move(value)); });
    }

    Handler handler;
    std::shared_ptr<asio::cancellation_signal> signal;
};

}  // namespace spawn_on_detail

/// Runs `child` on `ex` and completes with its result (or rethrows its exception) on the awaiting
/// coroutine's executor. A cancellation of the awaiting coroutine reaches `child` on `ex`. Both
/// executors belong to the same execution context (the child's co_spawn keeps it busy).
template <class T>
boost::asio::awaitable<T> spawn_on(const boost::asio::any_io_executor& ex, boost::asio::awaitable<T> child) {
    namespace asio = boost::asio;
    using namespace spawn_on_detail;
    return asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr, T)>(
        [](auto handler, const asio::any_io_executor& ex, asio::awaitable<T> child) {
            auto signal = std::make_shared<asio::cancellation_signal>();
            auto slot = asio::get_associated_cancellation_slot(handler);
            if (slot.is_connected()) slot.template emplace<forward_cancellation>(forward_cancellation{signal, ex});
            asio::co_spawn(ex, std::move(child), complete_awaiter<decltype(handler), T>{std::move(handler), signal});
        },
        asio::use_awaitable, ex, std::move(child));
}

}  // namespace livefour::detail
