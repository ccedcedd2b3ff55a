// livefour-emulator — the deterministic "brain": file recognition, test switches and verdicts.
//
// The real service runs lip reading and face comparison; the emulator replaces both with rules a
// test can predict (container magic bytes, digits issued by livegetfour, hashes of the uploads)
// plus explicit switches so that every documented code is reachable. Pure logic, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace livefour::emulator {

/// Video containers recognised by their first bytes.
enum class video_kind { unknown, mp4, mov, threegp, flv, matroska_webm, avi };
/// Still-image formats accepted for the `card` photo.
enum class image_kind { unknown, jpeg, png, bmp };

/// Detects the container from the first bytes of the upload (at least 12 are needed).
video_kind detect_video(std::string_view head) noexcept;
/// Detects the image format from the first bytes of the upload.
image_kind detect_image(std::string_view head) noexcept;

/// Forced outcomes. They come from the `seq` field (`force:live_status=-5002,sim=55`) or from
/// command-line flags; a seq switch wins over a flag.
struct switches {
    std::optional<int> code;  ///< top-level code (no data; digits not consumed)
    std::optional<int> live_status;
    std::optional<int> compare_status;  ///< only when the request compares
    std::optional<int> sim;             ///< only when compare_status ends up 0
    std::optional<int> delay_ms;        ///< wait before replying (client timeout tests)
    bool drop = false;                  ///< read the request, then close without replying

    /// Fills every unset switch from `fallback`.
    void inherit(const switches& fallback);
};

/// Parses a `seq` value. A value that does not start with `force:` yields empty switches; after
/// the prefix come comma-separated `key=value` items (each may repeat the `force:` prefix), keys
/// `code`, `live_status`, `compare_status`, `sim`, `delay_ms`, `drop`. nullopt (with `error` set)
/// on an unknown key or a bad number, so a typo in a test is loud instead of silently ignored.
std::optional<switches> parse_switches(std::string_view seq, std::string* error = nullptr);

/// Everything the verdict depends on, already extracted from the request.
struct detect_input {
    bool compare = false;    ///< compare_flag true, or the idcard endpoint
    bool idcard = false;     ///< /face/idcardlivedetectfour
    bool digits_ok = false;  ///< validate_data was issued, unexpired and unused
    video_kind video = video_kind::unknown;
    image_kind card = image_kind::unknown;  ///< livedetectfour with compare only
    std::string idcard_number;              ///< idcard endpoint only
    std::string idcard_name;                ///< idcard endpoint only
    std::string video_sha256_hex;
    std::string reference_sha256_hex;  ///< the card's digest, or a digest of number+name
    switches force;
};

/// The `data` object of a detect reply.
struct verdict {
    int live_status = 0;
    std::string live_msg;
    std::optional<int> compare_status;
    std::optional<std::string> compare_msg;
    std::optional<int> sim;
    bool photo = false;  ///< include `photo` / `video_photo` (only with sim)
};

/// Applies the rules documented in docs/emulator.md:
/// live_status: forced value, else -5001 for an unrecognised container, else -5008 for digits
/// not issued/expired/used, else 0. compare_status: forced value, else -5005 when liveness failed
/// (as the real service answered in the one observed sample), else -4018 for a card that is not
/// JPEG/PNG/BMP, -5801 for an empty ID name or number, -5804 for an invalid ID number, else 0.
/// sim: forced value, else 60..99 derived from the two digests.
verdict decide(const detect_input& in);

/// Symbolic message for a verdict code ("OK" for 0, e.g. "VIDEO_AUDIO_RECOG_FAILED" for -5008).
std::string verdict_message(int status);

/// Top-level `message` for a request code ("OK" for 0, "invalid request" for 3, ...).
std::string code_message(int code);

/// HTTP status the emulator answers a top-level code with: 400 for 3, 21 and 23, else 200.
unsigned http_status_for_code(int code) noexcept;

/// Mainland ID number check: 18 characters, 17 digits then a digit or X, a plausible birth
/// date, and the ISO 7064 MOD 11-2 check character.
bool valid_idcard_number(std::string_view number) noexcept;

}  // namespace livefour::emulator
