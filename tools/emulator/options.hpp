// livefour-emulator — command-line options (documented in docs/emulator.md and by --help).
#pragma once

#include "service.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace livefour::emulator {

/// What a connection reads at a time, and the size of the buffer a request body streams through.
inline constexpr std::size_t io_chunk_bytes = 64 * 1024;

/// The most a connection's read buffer may hold: one read (io_chunk_bytes) on top of an element
/// that must be whole before it parses, up to `max_header_bytes`: the header, a chunk-size line
/// with its extensions, or a trailer. Beast 1.81 applies the header limit to the header only;
/// past this maximum it fails the read with http::error::buffer_overflow instead of growing the
/// buffer without end (found by test/fuzz; the fuzz target uses this function too).
constexpr std::size_t connection_buffer_max(std::size_t max_header_bytes) noexcept {
    return max_header_bytes + io_chunk_bytes;
}

/// Transport and behaviour settings of one emulator run.
struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0 = let the system pick
    bool plain = false;      ///< HTTP instead of HTTPS
    std::string cert_file;   ///< PEM chain; with key_file, replaces the generated PKI
    std::string key_file;
    std::string write_ca_file;               ///< where to write the generated CA certificate
    std::vector<std::string> tls_names;      ///< extra names of the generated certificate (--tls-name)
    std::uint64_t max_body_bytes = 6291456;  ///< 0 = unlimited
    std::size_t max_header_bytes = 8192;
    std::chrono::seconds idle_timeout{30};      ///< keep-alive idle and per-read/write stall limit
    std::chrono::seconds request_timeout{120};  ///< whole request must arrive within; 0 = none
    std::chrono::seconds shutdown_grace{10};    ///< after SIGINT/SIGTERM, then connections are cut
    bool keep_alive = true;
    bool quiet = false;
    service_config service;
};

/// Result of parsing: run with `opts`, or print help, or report `error`.
struct parse_result {
    options opts;
    bool help = false;
    std::string error;  ///< non-empty: invalid command line
};

/// Parses `args` (without argv[0]). `getenv` supplies LIVEFOUR_APPID, LIVEFOUR_SECRET_ID and
/// LIVEFOUR_SECRET_KEY when the flags are absent (it returns nullptr for an unset variable).
parse_result parse_options(const std::vector<std::string>& args, const std::function<const char*(const char*)>& getenv);

/// The --help text.
std::string usage_text();

}  // namespace livefour::emulator
