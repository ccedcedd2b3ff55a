// livefour — the replies of API 3.0 `faceid` as plain values, their parsing, and the
// accept/reject decision.
//
// A reply is `{"Response":{...,"RequestId":"..."}}`. A refused call carries `Response.Error`
// ({Code, Message}): parsing returns its code as a faceid::errc error_code (an unknown code maps to
// errc::unknown; its string stays in diagnostics::server_code()). A liveness call the service
// processed answers `Result`: "Success", or a `FailedOperation.*` outcome such as
// "FailedOperation.LipVoiceLow" — not an error of the call, like the legacy verdicts: decide()
// turns it into accept or reject, with a reason. The RequestId is always in
// diagnostics::request_id(), errors included.
#pragma once

#include <livefour/diagnostics.hpp>
#include <livefour/faceid/error.hpp>
#include <livefour/types.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::faceid {

/// Reply of `GetLiveCode`.
struct live_code_result {
    std::string live_code;   ///< `LiveCode`: the digits the user reads aloud (LIP)
    std::string request_id;  ///< `RequestId`
};

/// Reply of `GetActionSequence`.
struct action_sequence_result {
    std::string action_sequence;  ///< `ActionSequence`, e.g. "1,2" (1 open the mouth, 2 close the eyes)
    std::string request_id;       ///< `RequestId`
};

/// Reply of `LivenessCompare` and `LivenessRecognition`.
struct liveness_result {
    std::string result;                    ///< `Result` as received: "Success" or a FailedOperation.* code
    std::string description;               ///< `Description` (server text, untrusted)
    std::optional<double> sim;             ///< `Sim`, 0.00..100.00, when the service compared
    std::string best_frame_base64;         ///< `BestFrameBase64` (JPEG), may be empty
    std::vector<std::string> best_frames;  ///< `BestFrameList` (with compare_request::best_frames)
    std::string request_id;                ///< `RequestId`

    /// The outcome as a code: errc{} (clear) for "Success", else the Result's enumerator
    /// (errc::unknown for a code this version does not know; `result` keeps the string).
    errc outcome() const noexcept;
    /// The best frame, base64-decoded; nullopt when absent or not valid base64.
    std::optional<std::string> decode_best_frame() const;
};

/// How decide() judges a liveness reply. China-site documentation: a fixed threshold of 70
/// (1/10,000 false accepts); the international site documents 70 (1/1,000) and 80 (1/10,000).
struct decision_policy {
    double threshold = 70;  ///< accept when sim >= threshold
};

/// The decision and its reason.
struct verdict {
    verdict_kind kind =
        verdict_kind::api_error;  ///< accepted, not_live, compare_failed, below_threshold, no_comparison
    /// Why it was not accepted: the Result's faceid::errc, client_error::similarity_below_threshold,
    /// or client_error::comparison_missing (Success without `Sim`). Clear when accepted.
    error_code reason;
    double sim = -1;  ///< the similarity when known, else -1
    /// True when kind == accepted.
    bool accepted() const noexcept { return kind == verdict_kind::accepted; }
};

/// Result "Success" and sim >= threshold: accepted. A Result of the liveness checks (Lip*, Action*,
/// Silent*, Livess*) is not_live; of the photo, the comparison or the identity (LifePhoto*,
/// Compare*, Id*, Name*): compare_failed; any other Result: not_live.
verdict decide(const liveness_result& result, decision_policy policy = {});

/// Parses a GetLiveCode reply: success (LiveCode then required), the Response.Error code (a
/// faceid::errc error_code), client_error::non_json_response when the body is not JSON,
/// client_error::malformed_response for a missing `Response` or a field of the wrong type.
/// `diag` receives the HTTP status, RequestId, the error's code string and message.
error_code parse_live_code_response(std::string_view body, int http_status, live_code_result& out, diagnostics& diag);
/// Parses a GetActionSequence reply (same contract; ActionSequence required).
error_code parse_action_sequence_response(std::string_view body, int http_status, action_sequence_result& out,
                                          diagnostics& diag);
/// Parses a LivenessCompare / LivenessRecognition reply (same contract; Result required; Sim, when
/// present, a number in 0..100).
error_code parse_liveness_response(std::string_view body, int http_status, liveness_result& out, diagnostics& diag);

}  // namespace livefour::faceid
