// Internal: where an operation's (and a connection's) handlers run.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace livefour::detail {

/// A strand on `ex`, type-erased. On an io_context's own executor (the common case) the strand is
/// built on that concrete type: a strand asks its inner executor for its allocator on every
/// handler it runs, and through `any_io_executor` that query heap-allocates a
/// `std::allocator<void>` — about 40 allocations per small request (callgrind; scenario 3 in
/// docs/benchmarks.md). Any other executor gets a strand on the erased one. Without `thread_safe`
/// (client_options) `ex` itself: the caller runs it on one thread at a time.
inline boost::asio::any_io_executor make_strand_executor(const boost::asio::any_io_executor& ex, bool thread_safe) {
    if (!thread_safe) return ex;
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>()) return boost::asio::make_strand(*io);
    return boost::asio::make_strand(ex);
}

}  // namespace livefour::detail
