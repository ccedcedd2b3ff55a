// What the C++ snippets of README.md and docs/ may take for granted (test/docs/check_docs.py).
//
// A snippet of kind "statements" runs inside SNIPPET_COROUTINE, where the parameters below are the
// names the docs use for "your client", "your request" and so on (`fclient`, `fopts` and `result`
// for the API 3.0 faceid client, its options and a liveness reply). The functions of snippet_env
// stand for the reader's own code (logging, reporting, accepting). Nothing else is provided: a
// snippet that uses a name not declared here or in livefour does not compile, and the build fails
// with the doc's file and line.
#pragma once

#include <livefour/livefour.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cassert>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;

namespace snippet_env {

/// The reader's own code, called by the examples.
template <class... Args>
void log(Args&&...) {}
template <class... Args>
void report(Args&&...) {}
template <class... Args>
void reject(Args&&...) {}
template <class... Args>
void accept(Args&&...) {}
[[noreturn]] inline void die(const std::string&) { std::abort(); }
struct metrics_sink {
    template <class... Args>
    void retry(Args&&...) {}
};
inline metrics_sink metrics;
inline std::string key_from_your_vault;

}  // namespace snippet_env

// The names the "statements" snippets find in scope. Each snippet runs in a block of its own
// inside this coroutine, so it may declare the same names again.
#define SNIPPET_COROUTINE                                                                                             \
    [[maybe_unused]] asio::awaitable<void> snippet(                                                                   \
        [[maybe_unused]] asio::io_context& ioc, [[maybe_unused]] livefour::client& client,                            \
        [[maybe_unused]] livefour::client_options& opts, [[maybe_unused]] livefour::client_options& a,                \
        [[maybe_unused]] livefour::client_options& b, [[maybe_unused]] livefour::diagnostics& diag,                   \
        [[maybe_unused]] livefour::digits_request dreq, [[maybe_unused]] livefour::detect_request req,                \
        [[maybe_unused]] livefour::detect_result reply, [[maybe_unused]] std::string seq,                             \
        [[maybe_unused]] std::string digits, [[maybe_unused]] std::filesystem::path video,                            \
        [[maybe_unused]] livefour::faceid::client& fclient, [[maybe_unused]] livefour::faceid::client_options& fopts, \
        [[maybe_unused]] livefour::faceid::liveness_result result)
