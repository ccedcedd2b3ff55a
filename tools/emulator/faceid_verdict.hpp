// livefour-emulator — API 3.0 `faceid` rules: actions, test switches and verdicts.
//
// Like verdict.hpp for the legacy endpoints: the real service runs lip reading, liveness and
// face comparison; the emulator replaces them with rules a test can predict (container and image
// magic bytes, live codes it issued, the digests of the uploads) plus a switch header,
// `X-Emulator-Force`, that makes any Error or Result reachable. Pure logic, no I/O.
#pragma once

#include "verdict.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace livefour::emulator {

/// The API 3.0 actions the emulator serves.
enum class faceid_action { get_live_code, get_action_sequence, liveness_compare, liveness_recognition };

/// Wire names (X-TC-Action), indexed by faceid_action.
inline constexpr std::array<std::string_view, 4> faceid_action_names{"GetLiveCode", "GetActionSequence",
                                                                     "LivenessCompare", "LivenessRecognition"};

/// The action named `name` (exact match), if any.
std::optional<faceid_action> faceid_action_named(std::string_view name) noexcept;

/// Forced outcomes, from the `X-Emulator-Force` request header: comma-separated items
/// `error=CODE` (answer Response.Error with CODE, nothing processed, a live code not used up),
/// `result=CODE` (the Result of a liveness action), `sim=N` (0..100, decimals allowed),
/// `delay_ms=N` (0..600000), `drop` (read the request, close without a reply).
struct faceid_switches {
    std::optional<std::string> error;
    std::optional<std::string> result;
    std::optional<double> sim;
    std::optional<int> delay_ms;
    bool drop = false;
};

/// Parses the header value; nullopt with `error` set on an unknown key or a bad value, so that a
/// typo in a test fails loudly. An empty value gives no switches.
std::optional<faceid_switches> parse_faceid_switches(std::string_view header, std::string* error = nullptr);

/// What a liveness verdict depends on, already extracted from the request.
struct faceid_input {
    faceid_action action = faceid_action::liveness_compare;
    std::string liveness_type;  ///< LIP, ACTION or SILENT
    bool code_ok = false;       ///< LIP: ValidateData was issued by GetLiveCode, unexpired, unused
    video_kind video = video_kind::unknown;
    image_kind image = image_kind::unknown;  ///< LivenessCompare only
    std::string id_card;                     ///< LivenessRecognition only
    std::string video_sha256_hex;
    std::string reference_sha256_hex;  ///< the image's digest, or a digest of IdCard + Name
    faceid_switches force;
};

/// The outcome fields of a LivenessCompare / LivenessRecognition reply.
struct faceid_verdict {
    std::string result = "Success";
    std::string description;
    double sim = 0;
    bool best_frame = false;  ///< include BestFrameBase64 (and the BestFrameList entries)
};

/// The rules of docs/emulator.md: the forced result, else an unrecognised video container →
/// FailedOperation.LipVideoInvalid (LIP) or FailedOperation.LivessDetectFail (ACTION, SILENT);
/// LIP with a live code never issued, expired or used → FailedOperation.LipVoiceRecognize;
/// LivenessCompare with an image that is not JPEG/PNG/BMP → FailedOperation.ImageDecodeFailed;
/// LivenessRecognition with an invalid IdCard → FailedOperation.IdFormatError; else Sim (forced,
/// or 70.00..99.99 from the digests) and Success when Sim ≥ 70, else
/// FailedOperation.CompareLowSimilarity (fixed threshold 70, api3.md §0).
faceid_verdict decide_faceid(const faceid_input& in);

}  // namespace livefour::emulator
