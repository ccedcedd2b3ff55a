#include "pool.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <sys/socket.h>

#include <algorithm>

namespace livefour::detail {

using namespace asio::experimental::awaitable_operators;

bool pool::alive(pooled_connection& c) const {
    // A server that closed an idle keep-alive connection has sent FIN (or RST): peek without
    // blocking. Anything readable on an idle HTTP/1.1 connection is also a reason to drop it.
    auto& sock = c.conn.lowest().socket();
    if (!sock.is_open()) return false;
    char byte;
    const ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool pool::take_locked(lease& out, std::vector<connection_ptr>& dead) {
    if (closed_) {
        out = lease{client_error::pool_closed, nullptr};
        return true;
    }
    const auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
        connection_ptr c = std::move(idle_.back());
        idle_.pop_back();
        const bool too_old = opts_.max_idle.count() > 0 && now - c->conn.last_used > opts_.max_idle;
        if (too_old || !alive(*c)) {
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

bool pool::try_acquire(lease& out) {
    std::vector<connection_ptr> dead;
    bool done;
    {
        std::lock_guard lock(mu_);
        done = take_locked(out, dead);
    }
    for (auto& d : dead) d->conn.close();
    return done;
}

asio::awaitable<pool::lease> pool::acquire(std::chrono::milliseconds wait) {
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    std::vector<connection_ptr> dead;
    std::shared_ptr<waiter> w;
    {
        std::lock_guard lock(mu_);
        lease now;
        if (take_locked(now, dead)) {
            for (auto& d : dead) d->conn.close();
            co_return now;
        }
        w = std::make_shared<waiter>(co_await asio::this_coro::executor);
        waiters_.push_back(w);
        stats_.waiters = waiters_.size();
    }
    for (auto& d : dead) d->conn.close();

    error_code ec;
    connection_ptr got;
    bool timed_out = false;
    if (wait.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, wait);
        auto r = co_await (w->ch.async_receive(use_tuple) || timer.async_wait(use_tuple));
        if (r.index() == 0) {
            std::tie(ec, got) = std::get<0>(std::move(r));
        } else {
            timed_out = true;
        }
    } else {
        std::tie(ec, got) = co_await w->ch.async_receive(use_tuple);
    }
    if (stop_requested(cs)) {
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

void pool::release(connection_ptr c, bool reusable) {
    connection_ptr to_close;
    {
        std::lock_guard lock(mu_);
        if (stats_.in_use) --stats_.in_use;
        if (c && reusable && !closed_) {
            c->conn.last_used = std::chrono::steady_clock::now();
        } else if (c) {
            to_close = std::move(c);
        }
        if (!waiters_.empty() && !closed_) {
            // Hand the slot (with the connection, if reusable) straight to the oldest waiter.
            auto w = std::move(waiters_.front());
            waiters_.pop_front();
            stats_.waiters = waiters_.size();
            ++stats_.in_use;
            w->ch.try_send(error_code{}, std::move(c));
        } else if (c) {
            idle_.push_back(std::move(c));
            stats_.idle = idle_.size();
        } else {
            --open_;
        }
    }
    if (to_close) to_close->conn.close();
}

void pool::close() {
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
    for (auto& c : idle) c->conn.close();
}

pool_stats pool::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void pool::count_created(bool tls_resumed) {
    std::lock_guard lock(mu_);
    ++stats_.created;
    if (tls_resumed) ++stats_.tls_resumed;
}

void pool::count_request(bool reused) {
    std::lock_guard lock(mu_);
    ++stats_.requests;
    if (reused) ++stats_.reused;
}

}  // namespace livefour::detail
