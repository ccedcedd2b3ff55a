// livefour — the initiation every client operation shares (internal).
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <utility>

namespace livefour::detail {

/// How a client operation starts: the handler is type-erased into `Erased`, a function compiled
/// once in src/ (so a user translation unit includes Asio's core only), and the client's executor
/// is the operation's I/O executor, so that adapters such as livefour::cancel_after find a place
/// to run their timer. `Erased` takes the initiation's arguments, then the erased handler.
template <class Signature, auto Erased>
struct initiation {
    using executor_type = boost::asio::any_io_executor;
    executor_type ex;
    executor_type get_executor() const noexcept { return ex; }

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) const {
        Erased(std::forward<Args>(args)...,
               boost::asio::any_completion_handler<Signature>(std::forward<Handler>(handler)));
    }
};

}  // namespace livefour::detail
