// livefour — what the faceid client sends: one value type per API 3.0 action.
#pragma once

#include <livefour/multipart.hpp>
#include <livefour/requests.hpp>

#include <optional>
#include <string>

namespace livefour::faceid {

/// `LivenessType`: how the user proved being alive on the video.
enum class liveness_type {
    lip,     ///< read aloud the digits of GetLiveCode (`ValidateData` = those digits)
    action,  ///< performed the actions of GetActionSequence (`ValidateData` = the sequence, e.g. "1,2")
    silent,  ///< just looked into the camera (`ValidateData` empty)
};

/// `GetActionSequence`.
struct action_sequence_request {
    /// `ActionType`: empty (the default) lets the service choose; the API documents no values.
    std::string action_type;
};

/// `LivenessCompare`: liveness of `video` and its similarity to `image`.
struct compare_request {
    liveness_type liveness = liveness_type::lip;
    /// The digits (LIP) or the action sequence (ACTION); empty for SILENT.
    std::string validate_data;
    /// The photo to compare with (jpg/png; sent as `ImageBase64`, at most 3 MB of base64).
    body_source image;
    /// The recorded video (mp4/avi/flv; sent as `VideoBase64`, at most 8 MB of base64).
    body_source video;
    /// `Optional.BestFrameNum`: also return this many best frames (2..10). Empty: none.
    std::optional<int> best_frames;
    /// Called after each socket write of the body (bytes sent so far, total).
    progress_callback on_progress;
};

/// `LivenessRecognition`: liveness of `video` and its similarity to the photo the identity
/// authority holds for (id_card, name).
struct recognition_request {
    std::string id_card;  ///< `IdCard`: the national ID number
    std::string name;     ///< `Name`: UTF-8
    liveness_type liveness = liveness_type::lip;
    std::string validate_data;
    body_source video;
    std::optional<int> best_frames;
    progress_callback on_progress;
};

}  // namespace livefour::faceid
