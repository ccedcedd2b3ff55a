// Internal: the client's connection pool. Bounded, FIFO waiters, idle eviction by age and by a
// liveness probe before reuse. Thread-safe: state under one mutex; connections are handed to
// waiters through concurrent channels so no I/O object is ever touched by two threads at once.
//
// A template over the connection it pools and the clock that ages idle connections, so that
// test/unit/pool_test.cpp drives it step by step with a fake connection and a manual clock
// (Boost.MySQL tests its pool the same way). The client's pool is basic_pool<pooled_connection>,
// instantiated once in pool.cpp.
#pragma once

#include "strand.hpp"

#include <livefour/error.hpp>
#include <livefour/options.hpp>
#include <livefour/pool_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace livefour::detail {

namespace asio = boost::asio;

/// Connection: `bool alive()` (a non-blocking probe of an idle connection: false when the peer
/// closed it or sent something), `void close()`, and a `last_used` time point of Clock.
template <class Connection, class Clock = std::chrono::steady_clock>
class basic_pool {
public:
    using connection_ptr = std::unique_ptr<Connection>;

    basic_pool(asio::any_io_executor ex, pool_options opts) : ex_(std::move(ex)), opts_(opts) {}

    /// What acquire() hands out: an open connection to reuse, or the right to open a new one
    /// (`conn` null, `ec` clear).
    struct lease {
        error_code ec;
        connection_ptr conn;
    };

    /// Without waiting: an idle connection, a free slot, or pool_closed (true); false when the
    /// caller has to wait in acquire(). Saves the common case a coroutine frame.
    bool try_acquire(lease& out);

    /// Waits at most `wait` (0 = unbounded) for a connection or a free slot. Honours the calling
    /// coroutine's cancellation, also one that arrives as a connection is handed over.
    asio::awaitable<lease> acquire(std::chrono::milliseconds wait);

    /// Gives a slot back: `c` is reused if `reusable`, else closed. Null `c` frees the slot of a
    /// connection that could not be opened.
    void release(connection_ptr c, bool reusable);

    /// Closes idle connections and fails every waiter with pool_closed; later acquires fail too.
    void close();

    pool_stats stats() const;
    void count_request(bool reused);
    void count_created(bool tls_resumed);

private:
    using channel = asio::experimental::concurrent_channel<void(error_code, connection_ptr)>;
    struct waiter {
        explicit waiter(const asio::any_io_executor& ex) : ch(ex, 1) {}
        channel ch;
    };

    /// try_acquire's check, under mu_; evicted connections go to `dead` (closed after unlock).
    bool take_locked(lease& out, std::vector<connection_ptr>& dead);
    static void close_all(std::vector<connection_ptr>& dead) {
        for (auto& d : dead) d->close();
    }

    asio::any_io_executor ex_;
    pool_options opts_;
    mutable std::mutex mu_;
    std::vector<connection_ptr> idle_;  // most recently used at the back
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t open_ = 0;  // slots taken: in use + idle
    bool closed_ = false;
    pool_stats stats_;
};

template <class Connection, class Clock>
bool basic_pool<Connection, Clock>::take_locked(lease& out, std::vector<connection_ptr>& dead) {
    if (closed_) {
        out = lease{client_error::pool_closed, nullptr};
        return true;
    }
    const auto now = Clock::now();
    while (!idle_.empty()) {
        connection_ptr c = std::move(idle_.back());
        idle_.pop_back();
        const bool too_old = opts_.max_idle.count() > 0 && now - c->last_used > opts_.max_idle;
        if (too_old || !c->alive()) {
            ++stats_.evicted;
            --open_;
            dead.push_back(std::move(c));
            continue;
        }
        ++stats_.in_use;
        stats_.idle = idle_.size();
        out = lease{{}, std::move(c)};
        return true;
    }
    stats_.idle = 0;
    if (open_ < opts_.max_connections) {
        ++open_;
        ++stats_.in_use;
        out = lease{{}, nullptr};
        return true;
    }
    return false;
}

template <class Connection, class Clock>
bool basic_pool<Connection, Clock>::try_acquire(lease& out) {
    std::vector<connection_ptr> dead;
    bool done;
    {
        std::lock_guard lock(mu_);
        done = take_locked(out, dead);
    }
    close_all(dead);
    return done;
}

template <class Connection, class Clock>
asio::awaitable<typename basic_pool<Connection, Clock>::lease> basic_pool<Connection, Clock>::acquire(
    std::chrono::milliseconds wait) {
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    std::vector<connection_ptr> dead;
    std::shared_ptr<waiter> w;
    {
        std::lock_guard lock(mu_);
        lease now;
        if (take_locked(now, dead)) {
            close_all(dead);
            co_return now;
        }
        w = std::make_shared<waiter>(co_await asio::this_coro::executor);
        waiters_.push_back(w);
        stats_.waiters = waiters_.size();
    }
    close_all(dead);

    error_code ec;
    connection_ptr got;
    bool timed_out = false;
    if (wait.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, wait);
        auto r = co_await (w->ch.async_receive(tuple) || timer.async_wait(tuple));
        if (r.index() == 0)
            std::tie(ec, got) = std::get<0>(std::move(r));
        else
            timed_out = true;
    } else {
        std::tie(ec, got) = co_await w->ch.async_receive(tuple);
    }
    if (cs.cancelled() != asio::cancellation_type::none) {
        // Cancelled: whichever branch completed first, this is not a timeout. A slot that was
        // handed over already goes back (to the next waiter, or idle).
        if (!timed_out && !ec) {
            const bool has_conn = got != nullptr;
            release(std::move(got), has_conn);
            co_return lease{asio::error::operation_aborted, nullptr};
        }
        timed_out = false;
        ec = asio::error::operation_aborted;
    }
    if (timed_out || ec == asio::error::operation_aborted || ec == asio::experimental::error::channel_cancelled) {
        connection_ptr handed;
        bool was_handed = false;
        {
            std::lock_guard lock(mu_);
            auto it = std::find(waiters_.begin(), waiters_.end(), w);
            if (it != waiters_.end()) {
                waiters_.erase(it);
                stats_.waiters = waiters_.size();
            } else {
                // A releaser chose us before we gave up; senders send under the lock, so its
                // hand-over is already in the channel. Take it and give it back: the slot must
                // not be lost.
                w->ch.try_receive([&](error_code e, connection_ptr c) {
                    was_handed = !e;
                    handed = std::move(c);
                });
            }
        }
        if (was_handed) {
            const bool has_conn = handed != nullptr;
            release(std::move(handed), has_conn);
        }
        co_return lease{
            timed_out ? error_code(client_error::pool_wait_timeout) : error_code(asio::error::operation_aborted),
            nullptr};
    }
    co_return lease{ec, std::move(got)};
}

template <class Connection, class Clock>
void basic_pool<Connection, Clock>::release(connection_ptr c, bool reusable) {
    connection_ptr to_close;
    {
        std::lock_guard lock(mu_);
        if (stats_.in_use) --stats_.in_use;
        if (c && reusable && !closed_)
            c->last_used = Clock::now();
        else if (c)
            to_close = std::move(c);
        // Hand the slot (with the connection, if reusable) straight to the oldest waiter. A
        // waiter whose receive was cancelled refuses it: Asio 1.81 leaves a buffered channel
        // unable to take a value once its only receiver was cancelled (cancel_by_key sets its send
        // state to `block`), so a failed send means "this waiter is leaving": try the next one, and
        // never drop the connection or the slot with it (test/unit/pool_test.cpp).
        bool handed = false;
        while (!handed && !waiters_.empty() && !closed_) {
            auto w = std::move(waiters_.front());
            waiters_.pop_front();
            stats_.waiters = waiters_.size();
            handed = w->ch.try_send(error_code{}, std::move(c));
        }
        if (handed)
            ++stats_.in_use;
        else if (c) {
            idle_.push_back(std::move(c));
            stats_.idle = idle_.size();
        } else {
            --open_;
        }
    }
    if (to_close) to_close->close();
}

template <class Connection, class Clock>
void basic_pool<Connection, Clock>::close() {
    std::vector<connection_ptr> idle;
    std::deque<std::shared_ptr<waiter>> waiters;
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
        idle.swap(idle_);
        waiters.swap(waiters_);
        open_ -= idle.size();
        stats_.idle = 0;
        stats_.waiters = 0;
        for (auto& w : waiters) w->ch.try_send(error_code(client_error::pool_closed), connection_ptr{});
    }
    close_all(idle);
}

template <class Connection, class Clock>
pool_stats basic_pool<Connection, Clock>::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

template <class Connection, class Clock>
void basic_pool<Connection, Clock>::count_created(bool tls_resumed) {
    std::lock_guard lock(mu_);
    ++stats_.created;
    if (tls_resumed) ++stats_.tls_resumed;
}

template <class Connection, class Clock>
void basic_pool<Connection, Clock>::count_request(bool reused) {
    std::lock_guard lock(mu_);
    ++stats_.requests;
    if (reused) ++stats_.reused;
}

}  // namespace livefour::detail
