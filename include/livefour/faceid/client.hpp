// livefour — the client of Tencent Cloud API 3.0 `faceid` (GetLiveCode → LivenessCompare, and
// LivenessRecognition), TC3-HMAC-SHA256 signed, videos streamed from their source into base64
// inside the JSON body. Same pool, TLS, timeouts, cancellation, retries and completion tokens as
// livefour::client (docs/reference.md).
#pragma once

#include <livefour/detail/initiation.hpp>
#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/faceid/options.hpp>
#include <livefour/faceid/requests.hpp>
#include <livefour/faceid/types.hpp>
#include <livefour/pool_stats.hpp>
#include <livefour/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <memory>

namespace livefour::faceid {

namespace detail {
struct client_impl;
using live_code_handler = boost::asio::any_completion_handler<void(error_code, live_code_result)>;
using action_sequence_handler = boost::asio::any_completion_handler<void(error_code, action_sequence_result)>;
using liveness_handler = boost::asio::any_completion_handler<void(error_code, liveness_result)>;
void async_get_live_code_erased(std::shared_ptr<client_impl>, diagnostics*, live_code_handler);
void async_get_action_sequence_erased(std::shared_ptr<client_impl>, action_sequence_request, diagnostics*,
                                      action_sequence_handler);
void async_compare_erased(std::shared_ptr<client_impl>, compare_request, diagnostics*, liveness_handler);
void async_recognize_erased(std::shared_ptr<client_impl>, recognition_request, diagnostics*, liveness_handler);
}  // namespace detail

/// One client per endpoint and credential set (or provider). Share it between coroutines:
/// operations may run concurrently, on an io_context driven by one thread or several. It owns no
/// thread. Every operation completes exactly once with `void(error_code, Result)`:
///  * success: `ec` clear. For the liveness actions this includes a negative `Result` (e.g.
///    FailedOperation.LipVoiceLow): a business outcome of a processed call; see decide();
///  * the service refused the call (`Response.Error`): `ec` is its faceid::errc, the code string
///    in diagnostics::server_code(), its message in server_message();
///  * anything else: `ec` says what (client_error, Asio/SSL errors) and Result is empty.
/// The RequestId is in the result and, also on errors, in diagnostics::request_id(). Handlers
/// never run inside the initiating function; cancellation and close() work as for
/// livefour::client (docs/reference.md, "Cancellation").
class client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Throws boost::system::system_error with the code of validate(opts) if the options are
    /// unusable; the key never appears in the exception text.
    client(executor_type ex, client_options opts);
    /// Closes the client (see close()).
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    executor_type get_executor() const noexcept;

    /// `GetLiveCode`: the digits for a LIP video. Free: resent when it is safe.
    template <boost::asio::completion_token_for<void(error_code, live_code_result)> CompletionToken = default_token>
    auto async_get_live_code(diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, live_code_result)>(
            initiate_live_code{get_executor()}, token, impl_, &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, live_code_result)> CompletionToken = default_token>
    auto async_get_live_code(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, live_code_result)>(
            initiate_live_code{get_executor()}, token, impl_, static_cast<diagnostics*>(nullptr));
    }

    /// `GetActionSequence`: the actions for an ACTION video. Free.
    template <
        boost::asio::completion_token_for<void(error_code, action_sequence_result)> CompletionToken = default_token>
    auto async_get_action_sequence(action_sequence_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, action_sequence_result)>(
            initiate_action_sequence{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <
        boost::asio::completion_token_for<void(error_code, action_sequence_result)> CompletionToken = default_token>
    auto async_get_action_sequence(action_sequence_request req = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, action_sequence_result)>(
            initiate_action_sequence{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// `LivenessCompare` (billed): the video and the photo are streamed from their sources into
    /// base64 inside the JSON body; nothing the size of the video is held in memory. Input is
    /// checked before anything is sent (empty or oversized sources, bad fields).
    template <boost::asio::completion_token_for<void(error_code, liveness_result)> CompletionToken = default_token>
    auto async_compare(compare_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, liveness_result)>(
            initiate_compare{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, liveness_result)> CompletionToken = default_token>
    auto async_compare(compare_request req, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, liveness_result)>(
            initiate_compare{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// `LivenessRecognition` (billed): liveness, and similarity to the identity authority's photo.
    template <boost::asio::completion_token_for<void(error_code, liveness_result)> CompletionToken = default_token>
    auto async_recognize(recognition_request req, diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, liveness_result)>(
            initiate_recognize{get_executor()}, token, impl_, std::move(req), &diag);
    }
    template <boost::asio::completion_token_for<void(error_code, liveness_result)> CompletionToken = default_token>
    auto async_recognize(recognition_request req, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, liveness_result)>(
            initiate_recognize{get_executor()}, token, impl_, std::move(req), static_cast<diagnostics*>(nullptr));
    }

    /// Cancels every outstanding operation, closes idle connections, refuses new operations with
    /// client_error::pool_closed. Idempotent; thread-safe.
    void close();

    /// Pool counters; thread-safe.
    pool_stats stats() const;

private:
    using initiate_live_code =
        livefour::detail::initiation<void(error_code, live_code_result), &detail::async_get_live_code_erased>;
    using initiate_action_sequence = livefour::detail::initiation<void(error_code, action_sequence_result),
                                                                  &detail::async_get_action_sequence_erased>;
    using initiate_compare =
        livefour::detail::initiation<void(error_code, liveness_result), &detail::async_compare_erased>;
    using initiate_recognize =
        livefour::detail::initiation<void(error_code, liveness_result), &detail::async_recognize_erased>;

    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace livefour::faceid
