// livefour — what the caller sends: one value type per API operation.
#pragma once

#include <livefour/multipart.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace livefour {

/// Called after each socket write of the request body: bytes of the body sent so far and the
/// body's total size (nullopt for chunked uploads of unsized sources). Runs on the operation's
/// I/O thread; keep it short.
using progress_callback = std::function<void(std::uint64_t sent, std::optional<std::uint64_t> total)>;

/// `POST /face/livegetfour`: ask for the digits the user will read aloud.
struct digits_request {
    /// Echoed back by the service; free text without control characters.
    std::optional<std::string> seq;
};

/// `POST /face/livedetectfour`: liveness of `video`, and when `card` is given, comparison with it
/// (compare_flag=true).
struct detect_request {
    /// The digits from livegetfour (non-empty).
    std::string validate_data;
    /// The video the user recorded while reading the digits.
    body_source video;
    /// A photo to compare against; its presence sets compare_flag=true.
    std::optional<body_source> card;
    std::optional<std::string> seq;
    progress_callback on_progress;
};

/// `POST /face/idcardlivedetectfour`: liveness plus comparison with the photo the identity
/// authority holds for (idcard_number, idcard_name).
struct idcard_detect_request {
    std::string validate_data;
    body_source video;
    std::string idcard_number;
    /// UTF-8.
    std::string idcard_name;
    std::optional<std::string> seq;
    progress_callback on_progress;
};

}  // namespace livefour
