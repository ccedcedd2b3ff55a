// livefour — the replies of the API as plain values, their parsing, and the accept/reject decision.
//
// Parsing follows docs/protocol.md §1: the JSON envelope {code, message, data} is read whatever the HTTP
// status; trailing commas and unknown fields are accepted (the provider's own sample has a trailing
// comma), wrong types are rejected. Request types that carry files live with the multipart and
// client headers, not here.
#pragma once

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace livefour {

/// Reply of `POST /face/livegetfour` (docs/protocol.md §3).
struct digits_result {
    int code = 0;               ///< top-level `code`; 0 = success
    std::string message;        ///< top-level `message` (server text, untrusted)
    std::string validate_data;  ///< the digits the user must read aloud (`data.validate_data`)
};

/// Reply of `POST /face/livedetectfour` and `/face/idcardlivedetectfour` (docs/protocol.md §4).
struct detect_result {
    int code = 0;                       ///< top-level `code`; 0 = request processed
    std::string message;                ///< top-level `message` (server text, untrusted)
    std::optional<int> live_status;     ///< 0 = live; else an api_error verdict code
    std::string live_msg;               ///< symbolic, e.g. "VIDEO_AUDIO_RECOG_FAILED"
    std::optional<int> compare_status;  ///< present when a comparison was requested; 0 = success
    std::string compare_msg;            ///< symbolic message of the comparison
    std::optional<int> sim;             ///< similarity 0..100, present when the comparison succeeded
    std::string photo;                  ///< base64 JPEG of the best frame ("photo" or "video_photo")

    /// The best frame, base64-decoded; nullopt when absent or not valid base64.
    std::optional<std::string> decode_photo() const;
};

/// Outcome of decide().
enum class verdict_kind {
    accepted,         ///< live, and (if compared) similar enough
    api_error,        ///< top-level `code` != 0: the request itself failed
    not_live,         ///< `live_status` != 0 (or absent)
    compare_failed,   ///< `compare_status` != 0, or success without `sim`
    below_threshold,  ///< `sim` < threshold
    no_comparison,    ///< a comparison was required but the reply has none
};

/// The decision and its reason.
struct verdict {
    verdict_kind kind = verdict_kind::api_error;  ///< what was decided
    /// Why it was not accepted: the api_error code (top-level code, live_status or compare_status),
    /// client_error::similarity_below_threshold, comparison_missing or malformed_response.
    /// Empty (success) when accepted.
    error_code reason;
    int sim = -1;  ///< the similarity when known, else -1
    /// True when kind == accepted.
    bool accepted() const noexcept { return kind == verdict_kind::accepted; }
};

/// How decide() judges a reply. Threshold 70 ≈ 1/1000 false accepts, 80 ≈ 1/10000 (provider).
struct decision_policy {
    int threshold = 70;               ///< accept when sim >= threshold
    bool require_comparison = false;  ///< reject a liveness-only reply (no compare_status)
};

/// The provider's decision order: code → live_status → compare_status → sim >= threshold.
/// Without compare_status (liveness only) a live reply is accepted unless require_comparison.
verdict decide(const detect_result& result, decision_policy policy = {});

/// Parses a livegetfour reply. Returns success when code == 0 (validate_data then required);
/// the api_error `code` when non-zero (`out` still filled); client_error::non_json_response when
/// the body is not a JSON object; client_error::malformed_response for a missing `code` or a field
/// of the wrong type. `diag` receives the HTTP status, the server's message and an explanation.
error_code parse_digits_response(std::string_view body, int http_status, digits_result& out, diagnostics& diag);

/// Parses a livedetectfour / idcardlivedetectfour reply (photo from "photo" or "video_photo").
/// Same contract as parse_digits_response(); live_status is required when code == 0, and sim
/// must be an integer in 0..100.
error_code parse_detect_response(std::string_view body, int http_status, detect_result& out, diagnostics& diag);

/// The parsed result written back as a JSON envelope {code, message, data}. Not the body as
/// received: fields livefour does not model (such as an echoed "seq") are dropped, and `data`
/// is always written (for digits, with "validate_data", empty on an error reply).
std::string to_json(const digits_result& r);
/// As above; absent optionals and an empty photo are omitted, and the photo is written as
/// "photo" even when the reply called it "video_photo".
std::string to_json(const detect_result& r);

}  // namespace livefour
