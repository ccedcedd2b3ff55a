// livefour-emulator — the API behaviour, independent of HTTP.
//
// The server (server.cpp) handles sockets, TLS and HTTP framing; this class gets the already
// extracted pieces (Authorization value, JSON body, multipart part summaries) and returns the
// JSON reply. Keeping it free of Beast keeps the heavy translation unit small and lets the
// behaviour be unit-tested without a socket. Not thread-safe: the server runs one thread.
#pragma once

#include "auth.hpp"
#include "faceid_verdict.hpp"
#include "faults.hpp"
#include "json_stream.hpp"
#include "multipart_stream.hpp"
#include "tc3_auth.hpp"
#include "verdict.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// The API endpoints the emulator implements: the legacy paths, and API 3.0 (`POST /`, every
/// action; the action travels in X-TC-Action).
enum class endpoint { livegetfour, livedetectfour, idcardlivedetectfour, faceid };

// An 8×8 grey baseline JPEG (159 bytes, made with libjpeg): the "best frame" the real service
// returns in `photo` / `video_photo`, and in API 3.0's `BestFrameBase64`. Small, but decodable by any JPEG library.
inline constexpr std::string_view tiny_jpeg_base64 =
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1R"
    "V19iZ2hnPk1xeXBkeFxlZ2P/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAA"
    "AAD/2gAIAQEAAD8AP//Z";

/// The URL path of `e` (one of api_paths).
std::string_view endpoint_path(endpoint e) noexcept;
/// The endpoint served at `path` (no query string), if any.
std::optional<endpoint> endpoint_for_path(std::string_view path) noexcept;

/// Behaviour settings (the command line, minus transport options).
struct service_config {
    auth_config auth;
    std::chrono::seconds digits_ttl{600};
    std::optional<std::string> fixed_digits;  ///< livegetfour always issues these (still single use)
    switches force;                           ///< command-line switches, applied to API requests
    std::uint64_t force_count = 0;            ///< apply `force` to the first N requests only; 0 = all
    std::vector<fault> faults;                ///< installed at start-up, in order (--fault and friends)
    tc3_settings tc3;                         ///< API 3.0: token, skew, limits
};

/// A reply to send (or, with `drop`, to withhold).
struct reply {
    unsigned http_status = 200;
    std::string body;  ///< JSON, unless content_type says otherwise (faults)
    std::string content_type = "application/json";
    int code = 0;           ///< top-level code, for the log line
    std::string api3_code;  ///< API 3.0 replies: the Error code, or the Result ("Success"); else empty
    bool drop = false;      ///< close the connection without answering
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
    /// Counts an API request once its header has been read (`requests_started`).
    void on_request_started(endpoint e) noexcept { ++stats_.started[static_cast<std::size_t>(e)]; }
    /// Counts an API request once it has arrived completely, body included (`requests`).
    void on_request_complete(endpoint e) noexcept;
    /// Counts a connection the server closed while it waited for the next request.
    void on_idle_close() noexcept { ++stats_.connections_closed_idle; }
    /// Counts a connection closed because a TLS handshake, a request header or a request body
    /// did not arrive within its time limit (slow clients, slowloris).
    void on_slow_close() noexcept { ++stats_.connections_closed_slow; }
    /// Counts a request refused because a chunk-size line, its extensions or the trailer
    /// outgrew the connection's read buffer (connection_buffer_max()).
    void on_chunk_framing_refused() noexcept { ++stats_.chunk_framing_refused; }
    /// Takes back the `codes` count of a reply that a fault withheld (close or reset).
    void on_reply_withheld(const reply& r) noexcept;
    /// Counts a fault that acted (`faults_fired`).
    void on_fault_fired(fault_kind k) noexcept { ++stats_.faults_fired[static_cast<std::size_t>(k)]; }

    /// The fault the request to `e` that has just arrived must suffer, if any: first the rate
    /// limit (a refused request takes no queued fault), then the oldest matching queued fault.
    /// Taking it uses it up; the server counts it with on_fault_fired() when it acts.
    std::optional<fault> take_fault(endpoint e, std::chrono::steady_clock::time_point now);
    /// The idle limit for a keep-alive connection that has served a request, when a
    /// keepalive_close setting is active.
    [[nodiscard]] std::optional<std::chrono::milliseconds> keepalive_close() const noexcept { return keepalive_close_; }
    /// The reply of a fault that replaces_reply() to a request to `e` (counted in `codes` when it
    /// has a code; for API 3.0 in `faceid.codes`).
    reply fault_reply(const fault& f, endpoint e = endpoint::livedetectfour);

    /// POST /_emulator/faults: installs one fault or an array of them (all or nothing).
    reply add_faults(std::string_view body, std::chrono::steady_clock::time_point now);
    /// DELETE /_emulator/faults: empties the queue and removes the rate limit and the
    /// keepalive_close setting, including those from the command line.
    reply clear_faults();
    /// GET /_emulator/faults body: the queue and the settings.
    [[nodiscard]] std::string faults_json() const;

    /// Checks the Authorization header value at UNIX time `now`.
    [[nodiscard]] signature_check authenticate(std::string_view authorization, std::int64_t now) const;

    /// POST /face/livegetfour with an already authenticated signature and the raw JSON body.
    reply livegetfour(const signature_check& auth, std::string_view body);

    /// POST /face/livedetectfour or /face/idcardlivedetectfour, given the parts of a complete,
    /// well-formed multipart body.
    reply detect(endpoint e, const signature_check& auth, const std::vector<part_info>& parts);

    // --- API 3.0 (service_faceid.cpp) ---

    /// The API 3.0 settings.
    [[nodiscard]] const tc3_settings& tc3() const noexcept { return config_.tc3; }
    /// The header checks of a TC3 request at UNIX time `now` (tc3_auth.hpp).
    [[nodiscard]] tc3_check authenticate_tc3(const tc3_head& head, std::int64_t now) const;
    /// Counts an API 3.0 request whose body arrived completely, per X-TC-Action.
    void on_faceid_complete(std::string_view action, std::uint64_t body_bytes);
    /// POST / once the body has streamed through `body` and `auth` has been completed with
    /// check_body(): the reply of the action, or its Response.Error.
    reply faceid(const tc3_head& head, const tc3_check& auth, const json_body_scanner& body);
    /// `{"Response":{"Error":{"Code","Message"},"RequestId"}}`, HTTP 200.
    reply faceid_error(std::string code, std::string message);

    /// A bare error envelope `{"code":N,"message":...}` (with `seq` when known).
    reply error(int code, std::string message = {}, const std::optional<std::string>& seq = std::nullopt);

    /// GET /_emulator/stats body.
    [[nodiscard]] std::string stats_json() const;
    /// POST /_emulator/reset: zeroes every counter and forgets the last parts (issued digits stay).
    void reset_stats();

private:
    struct counters {
        std::uint64_t requests = 0, livegetfour = 0, livedetectfour = 0, idcardlivedetectfour = 0;
        std::array<std::uint64_t, api_paths.size()> started{};
        std::uint64_t connections_accepted = 0, bytes_received = 0, dropped = 0, connections_closed_idle = 0;
        std::uint64_t connections_closed_slow = 0, chunk_framing_refused = 0;
        std::array<std::uint64_t, fault_names.size()> faults_fired{};
        std::map<int, std::uint64_t> codes;
        std::vector<part_info> last_parts;
        // API 3.0: per action (faceid_action_names, then "other"), codes, the last media
        std::array<std::uint64_t, faceid_action_names.size() + 1> faceid_requests{}, faceid_bytes{};
        std::map<std::string, std::uint64_t> faceid_codes;
        std::string faceid_last_action;
        std::map<std::string, media_summary> faceid_last_media;
        std::map<std::string, std::string> faceid_last_fields;
    };

    // The rate_limit setting: its spec, its bucket, and how many more refusals (0 = unlimited).
    struct rate_limit_state {
        fault spec;
        token_bucket bucket;
        std::uint64_t refusals_left = 0;
    };

    reply finish(reply r);
    reply faceid_reply(boost::json::object response);
    [[nodiscard]] boost::json::object faceid_stats() const;
    std::string request_id();
    void install(const fault& f, std::chrono::steady_clock::time_point now);
    switches effective_switches(const switches& from_seq);
    std::string issue_digits();
    bool consume_digits(const std::string& digits);

    service_config config_;
    counters stats_;
    std::uint64_t forced_so_far_ = 0;
    fault_queue faults_;
    std::optional<rate_limit_state> rate_limit_;
    std::optional<std::chrono::milliseconds> keepalive_close_;
    std::multimap<std::string, std::chrono::steady_clock::time_point> digits_;
    std::mt19937 rng_;
};

}  // namespace livefour::emulator
