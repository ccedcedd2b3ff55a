// Internal: what the client's pool holds — a connection and the strand all of its I/O runs on.
#pragma once

#include "pool.hpp"
#include "strand.hpp"
#include "transport.hpp"

#include <chrono>

namespace livefour::detail {

/// A pooled connection: the connection plus the strand all of its I/O runs on. Operations hop to
/// this strand for every exchange, so Beast's stream timer (bound to the stream's executor) never
/// races the exchange that uses it, however many threads run the io_context. Without
/// `thread_safe` there is no strand and no hop (nothing runs concurrently).
struct pooled_connection {
    pooled_connection(const asio::any_io_executor& ex, ssl::context* ctx, bool thread_safe)
        : strand(make_strand_executor(ex, thread_safe)), conn(strand, ctx) {}
    /// A non-blocking probe before reuse: false when the server closed the idle connection (or
    /// sent something unasked).
    bool alive();
    /// Closes the socket (see connection::close()).
    void close() noexcept { conn.close(); }

    asio::any_io_executor strand;  ///< a strand, or the client's executor (make_strand_executor)
    connection conn;
    std::chrono::steady_clock::time_point last_used{};
};

using pool = basic_pool<pooled_connection>;
using connection_ptr = pool::connection_ptr;

extern template class basic_pool<pooled_connection>;

}  // namespace livefour::detail
