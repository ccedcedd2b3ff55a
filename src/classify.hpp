// Internal: the one classification of every error livefour can report or receive — its coarse
// condition, how resending it relates to the request's progress, and whether the connection that
// produced it may carry another request. condition_of(), is_retryable(), is_fatal_for_connection(),
// the retry rules (retry.cpp), the keep-alive resend and the pool's reuse decision all read it, so
// a new code is classified in exactly one place.
#pragma once

#include <livefour/error.hpp>

#include <optional>

namespace livefour::detail {

using livefour::retry_class;

/// How a failure relates to the request's progress (docs/protocol.md §6).
enum class failure_phase : unsigned char {
    never,            ///< resending cannot help or is not ours to decide (input, cancellation, verdicts, ...)
    before_request,   ///< while connecting: the server has not seen a byte of the request
    during_exchange,  ///< a transport failure whose safety depends on how far the exchange got
    answered,         ///< the server answered with an API code: its retry class decides
};

/// The classification of one error code.
struct failure_class {
    std::optional<condition> cond;  ///< nullopt: success, or a foreign code livefour does not know
    failure_phase phase = failure_phase::never;
    retry_class retry = retry_class::never;  ///< for phase == answered
    bool fatal_for_connection = true;        ///< the connection must not carry another request
    bool peer_closed = false;                ///< the peer closed or reset the connection (keep-alive race)
};

/// Classifies `ec` (any category). Success is {nullopt, never, never, false, false}.
failure_class classify(const error_code& ec) noexcept;

/// The message of a client_error (nullptr for a value outside the enumeration).
const char* client_error_message(client_error e) noexcept;

/// The condition of a legacy API code (error.cpp): nullopt for codes livefour does not know.
std::optional<condition> api_code_condition(int code) noexcept;

/// True for an OpenSSL "certificate verify failed" in Asio's SSL category.
bool is_tls_verify_failure(const error_code& ec) noexcept;

}  // namespace livefour::detail
