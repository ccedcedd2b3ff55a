// Internal: the client's connection pool. Bounded, FIFO waiters, idle eviction, liveness probe of
// idle connections before reuse. Thread-safe: state under one mutex; connections are handed to
// waiters through concurrent channels so no I/O object is ever touched by two threads at once.
#pragma once

#include "strand.hpp"
#include "transport.hpp"

#include <livefour/options.hpp>
#include <livefour/pool_stats.hpp>

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace livefour::detail {

/// A pooled connection: the connection plus the strand all of its I/O runs on. Operations hop to
/// this strand for every exchange, so Beast's stream timer (bound to the stream's executor) never
/// races the exchange that uses it, however many threads run the io_context. Without
/// `thread_safe` there is no strand and no hop (nothing runs concurrently).
struct pooled_connection {
    pooled_connection(const asio::any_io_executor& ex, ssl::context* ctx, bool thread_safe)
        : strand(make_strand_executor(ex, thread_safe)), conn(strand, ctx) {}
    asio::any_io_executor strand;  ///< a strand, or the client's executor (make_strand_executor)
    connection conn;
};

using connection_ptr = std::unique_ptr<pooled_connection>;

class pool {
public:
    pool(asio::any_io_executor ex, ssl::context* ctx, pool_options opts, bool thread_safe)
        : ex_(std::move(ex)), ctx_(ctx), opts_(opts), thread_safe_(thread_safe) {}

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
    /// coroutine's cancellation.
    asio::awaitable<lease> acquire(std::chrono::milliseconds wait);

    /// A new, not yet opened connection for a slot obtained from acquire().
    connection_ptr make_connection() { return std::make_unique<pooled_connection>(ex_, ctx_, thread_safe_); }

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

    bool alive(pooled_connection& c) const;
    /// try_acquire's check, under mu_; evicted connections go to `dead` (closed after unlock).
    bool take_locked(lease& out, std::vector<connection_ptr>& dead);

    asio::any_io_executor ex_;
    ssl::context* ctx_;
    pool_options opts_;
    bool thread_safe_;
    mutable std::mutex mu_;
    std::vector<connection_ptr> idle_;  // most recently used at the back
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t open_ = 0;  // slots taken: in use + idle
    bool closed_ = false;
    pool_stats stats_;
};

}  // namespace livefour::detail
