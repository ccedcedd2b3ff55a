// livefour — the client: signed, verified-TLS calls of the liveness API from any completion token.
//
// The initiating functions below are thin templates. Everything that instantiates Beast and
// OpenSSL is compiled once in src/client.cpp behind a type-erased handler
// (asio::any_completion_handler), so a user translation unit pays only for Asio's core headers.
#pragma once

#include <livefour/detail/initiation.hpp>
#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/options.hpp>
#include <livefour/pool_stats.hpp>
#include <livefour/requests.hpp>
#include <livefour/types.hpp>
#include <livefour/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace livefour {

namespace detail {
struct client_impl;
using digits_handler = boost::asio::any_completion_handler<void(error_code, digits_result)>;
using detect_handler = boost::asio::any_completion_handler<void(error_code, detect_result)>;
void async_get_digits_erased(std::shared_ptr<client_impl>, digits_request, diagnostics*, digits_handler);
void async_detect_erased(std::shared_ptr<client_impl>, detect_request, diagnostics*, detect_handler);
void async_idcard_detect_erased(std::shared_ptr<client_impl>, idcard_detect_request, diagnostics*, detect_handler);
}  // namespace detail

/// One client per endpoint and credential set. Share it between coroutines: operations may run
/// concurrently, on an io_context driven by one thread or several. The client owns no thread.
///
/// Every operation completes exactly once with `void(error_code, Result)`:
///  * success: `ec` is clear and Result holds the reply (a negative verdict is still a success of
///    the call: see decide());
///  * the server answered a non-zero `code`: `ec` is that api_error and Result still holds the reply;
///  * anything else: `ec` says what (client_error, asio/ssl errors) and Result is empty.
/// Server text goes to `diagnostics::server_message()`, livefour's explanation to
/// `client_message()`; pass a diagnostics object that outlives the operation.
///
/// Handlers are never invoked from inside the initiating function; they run through their
/// associated executor (by default the client's). Per-operation cancellation: bind a cancellation
/// slot and emit `terminal` (what cancel_after and the awaitable operators emit): the operation
/// stops, closes the connection it was using and completes with `asio::error::operation_aborted`.
/// Connect and exchange also accept partial and total (docs/reference.md, "Cancellation").
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Throws boost::system::system_error with the code of validate(opts) if the options are
    /// unusable (bad URL, http:// without opt-in, missing credentials, bad limits). The secret
    /// never appears in the exception text.
    client(executor_type ex, client_options opts);
    /// Closes the client (see close()).
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    executor_type get_executor() const noexcept;

    /// livegetfour: the digits for the user to read aloud.
    template <boost::asio::completion_token_for<void(error_code, digits_result)> CompletionToken = default_token>
    auto async_get_digits(digits_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, digits_result)>(
            initiate_digits{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, digits_result)> CompletionToken = default_token>
    auto async_get_digits(digits_request req = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, digits_result)>(
            initiate_digits{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// livedetectfour: liveness (and comparison with `card` when given), the video streamed from
    /// its source. Input is checked before any byte is sent: empty digits, a missing or unreadable
    /// file, a body over client_options::max_upload_bytes each complete with their own error.
    template <boost::asio::completion_token_for<void(error_code, detect_result)> CompletionToken = default_token>
    auto async_detect(detect_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, detect_result)>(
            initiate_detect{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, detect_result)> CompletionToken = default_token>
    auto async_detect(detect_request req, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, detect_result)>(
            initiate_detect{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// idcardlivedetectfour: liveness plus comparison with the identity authority's photo.
    template <boost::asio::completion_token_for<void(error_code, detect_result)> CompletionToken = default_token>
    auto async_idcard_detect(idcard_detect_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, detect_result)>(
            initiate_idcard{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, detect_result)> CompletionToken = default_token>
    auto async_idcard_detect(idcard_detect_request req, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, detect_result)>(
            initiate_idcard{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// Cancels every outstanding operation (they complete with operation_aborted), closes idle
    /// connections and refuses new operations with client_error::pool_closed. Idempotent;
    /// thread-safe.
    void close();

    /// Pool counters; thread-safe.
    pool_stats stats() const;

private:
    using digits_signature = void(error_code, digits_result);
    using detect_signature = void(error_code, detect_result);
    using initiate_digits = detail::initiation<digits_signature, &detail::async_get_digits_erased>;
    using initiate_detect = detail::initiation<detect_signature, &detail::async_detect_erased>;
    using initiate_idcard = detail::initiation<detect_signature, &detail::async_idcard_detect_erased>;

    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace livefour
