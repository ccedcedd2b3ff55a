// livefour-emulator — the API behaviour, independent of HTTP.
//
// The server (server.cpp) handles sockets, TLS and HTTP framing; this class gets the already
// extracted pieces (Authorization value, JSON body, multipart part summaries) and returns the
// JSON reply. Keeping it free of Beast keeps the heavy translation unit small and lets the
// behaviour be unit-tested without a socket. Not thread-safe: the server runs one thread.
#pragma once

#include "auth.hpp"
#include "multipart_stream.hpp"
#include "verdict.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// The API endpoints the emulator implements.
enum class endpoint { livegetfour, livedetectfour, idcardlivedetectfour };

/// Behaviour settings (the command line, minus transport options).
struct service_config {
    auth_config auth;
    std::chrono::seconds digits_ttl{600};
    std::optional<std::string> fixed_digits;  ///< livegetfour always issues these (still single use)
    switches force;                           ///< command-line switches, applied to API requests
    std::uint64_t force_count = 0;            ///< apply `force` to the first N requests only; 0 = all
};

/// A reply to send (or, with `drop`, to withhold).
struct reply {
    unsigned http_status = 200;
    std::string body;  ///< JSON
    int code = 0;      ///< top-level code, for the log line
    bool drop = false; ///< close the connection without answering
    std::chrono::milliseconds delay{0};
};

/// State and rules of the emulated service.
class service {
public:
    explicit service(service_config config);

    /// Counts an accepted connection.
    void on_connection() noexcept { ++stats_.connections_accepted; }
    /// Counts request body bytes (after de-chunking) as they arrive.
    void on_body_bytes(std::uint64_t n) noexcept { stats_.bytes_received += n; }
    /// Counts an API request once its header has been read.
    void on_request(endpoint e) noexcept;

    /// Checks the Authorization header value at UNIX time `now`.
    [[nodiscard]] signature_check authenticate(std::string_view authorization, std::int64_t now) const;

    /// POST /face/livegetfour with an already authenticated signature and the raw JSON body.
    reply livegetfour(const signature_check& auth, std::string_view body);

    /// POST /face/livedetectfour or /face/idcardlivedetectfour, given the parts of a complete,
    /// well-formed multipart body.
    reply detect(endpoint e, const signature_check& auth, const std::vector<part_info>& parts);

    /// A bare error envelope `{"code":N,"message":...}` (with `seq` when known).
    reply error(int code, std::string message = {}, const std::optional<std::string>& seq = std::nullopt);

    /// GET /_emulator/stats body.
    [[nodiscard]] std::string stats_json() const;
    /// POST /_emulator/reset: zeroes every counter and forgets the last parts (issued digits stay).
    void reset_stats();

private:
    struct counters {
        std::uint64_t requests = 0, livegetfour = 0, livedetectfour = 0, idcardlivedetectfour = 0;
        std::uint64_t connections_accepted = 0, bytes_received = 0, dropped = 0;
        std::map<int, std::uint64_t> codes;
        std::vector<part_info> last_parts;
    };

    reply finish(reply r);
    switches effective_switches(const switches& from_seq);
    std::string issue_digits();
    bool consume_digits(const std::string& digits);

    service_config config_;
    counters stats_;
    std::uint64_t forced_so_far_ = 0;
    std::multimap<std::string, std::chrono::steady_clock::time_point> digits_;
    std::mt19937 rng_;
};

}  // namespace livefour::emulator
