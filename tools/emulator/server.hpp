// livefour-emulator — the HTTP(S) server: sockets, TLS, HTTP/1.1 framing, timeouts, shutdown.
//
// The only translation unit of the emulator that includes Boost.Beast and Asio's SSL layer;
// the API behaviour itself lives in service.hpp.
#pragma once

#include "options.hpp"

namespace livefour::emulator {

/// Binds, prints the "listening on" line, serves until SIGINT/SIGTERM and returns the process
/// exit code (0 after a graceful shutdown). Throws std::exception on set-up failures (bind,
/// certificate loading, CA file writing).
int run_server(const options& opts);

}  // namespace livefour::emulator
