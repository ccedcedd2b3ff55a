// livefour — the faceid (API 3.0) error table (see include/livefour/faceid/error.hpp).
#include <livefour/faceid/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace livefour::faceid {
namespace {

// Same scheme as the categories in error.cpp: a fixed id keeps category comparison working across
// shared-library boundaries.
constexpr unsigned long long faceid_category_id = 0x6c6976656634'0004ULL;

constexpr code_info unknown_row{"",           errc::unknown,      "faceid code not in livefour's table",
                                std::nullopt, retry_class::never, false};

// The table: wire code, enumerator, message, condition, retry class, billed. docs/errors.md
// explains each retry class. Rows are in enumerator order (checked below), so info() indexes it.
// clang-format off
constexpr code_info table[] = {
    {"ActionOffline", errc::action_offline, "the action has been taken offline", condition::bad_request, retry_class::never, false},
    {"AuthFailure.InvalidAuthorization", errc::auth_failure_invalid_authorization, "the Authorization header is malformed", condition::auth, retry_class::never, false},
    {"AuthFailure.InvalidSecretId", errc::auth_failure_invalid_secret_id, "invalid SecretId (not a cloud API key)", condition::auth, retry_class::never, false},
    {"AuthFailure.MFAFailure", errc::auth_failure_mfa_failure, "multi-factor authentication failed", condition::auth, retry_class::never, false},
    {"AuthFailure.SecretIdNotFound", errc::auth_failure_secret_id_not_found, "SecretId not found or disabled", condition::auth, retry_class::never, false},
    {"AuthFailure.SignatureExpire", errc::auth_failure_signature_expire, "signature expired: the timestamp is more than 5 minutes from the server's clock", condition::auth, retry_class::resign_once, false},
    {"AuthFailure.SignatureFailure", errc::auth_failure_signature_failure, "signature check failed", condition::auth, retry_class::never, false},
    {"AuthFailure.TokenFailure", errc::auth_failure_token_failure, "temporary credential token invalid or expired", condition::auth, retry_class::never, false},
    {"AuthFailure.UnauthorizedOperation", errc::auth_failure_unauthorized_operation, "the key is not authorised for this action (CAM)", condition::auth, retry_class::never, false},
    {"DryRunOperation", errc::dry_run_operation, "dry run: the request would have succeeded", condition::bad_request, retry_class::never, false},
    {"FailedOperation", errc::failed_operation, "operation failed", condition::server, retry_class::never, false},
    {"InternalError", errc::internal_error, "internal error", condition::server, retry_class::retry, false},
    {"InvalidAction", errc::invalid_action, "unknown action or action not found", condition::bad_request, retry_class::never, false},
    {"InvalidParameter", errc::invalid_parameter, "invalid parameter", condition::bad_request, retry_class::never, false},
    {"InvalidParameterValue", errc::invalid_parameter_value, "invalid parameter value", condition::bad_request, retry_class::never, false},
    {"InvalidRequest", errc::invalid_request, "malformed request body (multipart)", condition::bad_request, retry_class::never, false},
    {"IpInBlacklist", errc::ip_in_blacklist, "the client IP is in the account's blacklist", condition::auth, retry_class::never, false},
    {"IpNotInWhitelist", errc::ip_not_in_whitelist, "the client IP is not in the account's whitelist", condition::auth, retry_class::never, false},
    {"LimitExceeded", errc::limit_exceeded, "quota exceeded", condition::rate_limit, retry_class::never, false},
    {"MissingParameter", errc::missing_parameter, "a required parameter is missing", condition::bad_request, retry_class::never, false},
    {"NoSuchProduct", errc::no_such_product, "no such product", condition::bad_request, retry_class::never, false},
    {"NoSuchVersion", errc::no_such_version, "no such API version", condition::bad_request, retry_class::never, false},
    {"RequestLimitExceeded", errc::request_limit_exceeded, "request rate limit exceeded", condition::rate_limit, retry_class::throttle, false},
    {"RequestLimitExceeded.GlobalRegionUinLimitExceeded", errc::request_limit_exceeded_global_region_uin_limit_exceeded, "request rate limit of the account over all regions exceeded", condition::rate_limit, retry_class::throttle, false},
    {"RequestLimitExceeded.IPLimitExceeded", errc::request_limit_exceeded_ip_limit_exceeded, "request rate limit of the client IP exceeded", condition::rate_limit, retry_class::throttle, false},
    {"RequestLimitExceeded.UinLimitExceeded", errc::request_limit_exceeded_uin_limit_exceeded, "request rate limit of the main account exceeded", condition::rate_limit, retry_class::throttle, false},
    {"RequestSizeLimitExceeded", errc::request_size_limit_exceeded, "request body too large (TC3 POST: at most 10 MB)", condition::bad_request, retry_class::never, false},
    {"ResourceInUse", errc::resource_in_use, "resource in use", condition::bad_request, retry_class::never, false},
    {"ResourceInsufficient", errc::resource_insufficient, "insufficient resources", condition::server, retry_class::never, false},
    {"ResourceNotFound", errc::resource_not_found, "resource not found", condition::bad_request, retry_class::never, false},
    {"ResourceUnavailable", errc::resource_unavailable, "resource unavailable", condition::server, retry_class::retry, false},
    {"ResponseSizeLimitExceeded", errc::response_size_limit_exceeded, "response too large", condition::server, retry_class::never, false},
    {"ServiceUnavailable", errc::service_unavailable, "service temporarily unavailable", condition::server, retry_class::retry, false},
    {"UnauthorizedOperation", errc::unauthorized_operation, "unauthorised operation", condition::auth, retry_class::never, false},
    {"UnknownParameter", errc::unknown_parameter, "unknown parameter", condition::bad_request, retry_class::never, false},
    {"UnsupportedOperation", errc::unsupported_operation, "unsupported operation", condition::bad_request, retry_class::never, false},
    {"UnsupportedProtocol", errc::unsupported_protocol, "unsupported protocol (HTTPS is required)", condition::bad_request, retry_class::never, false},
    {"UnsupportedRegion", errc::unsupported_region, "the action is not offered in this region", condition::bad_request, retry_class::never, false},
    {"FailedOperation.DbError", errc::failed_operation_db_error, "database error", condition::server, retry_class::retry, false},
    {"FailedOperation.DetectEngineSystemError", errc::failed_operation_detect_engine_system_error, "detection engine call failed, please retry", condition::server, retry_class::retry, false},
    {"FailedOperation.FileSaveError", errc::failed_operation_file_save_error, "file save failed, please retry later", condition::server, retry_class::retry, false},
    {"FailedOperation.RequestLimitExceeded", errc::failed_operation_request_limit_exceeded, "call quota exceeded", condition::rate_limit, retry_class::never, false},
    {"FailedOperation.UnKnown", errc::failed_operation_unknown, "unknown internal error", condition::server, retry_class::never, false},
    {"InternalError.EncryptSystemError", errc::internal_error_encrypt_system_error, "encryption system error", condition::server, retry_class::retry, false},
    {"InternalError.UnKnown", errc::internal_error_unknown, "unknown internal error", condition::server, retry_class::retry, false},
    {"UnauthorizedOperation.Activating", errc::unauthorized_operation_activating, "the service is being activated", condition::auth, retry_class::never, false},
    {"UnauthorizedOperation.ActivateError", errc::unauthorized_operation_activate_error, "service activation failed", condition::auth, retry_class::never, false},
    {"UnauthorizedOperation.Arrears", errc::unauthorized_operation_arrears, "the account is in arrears", condition::auth, retry_class::never, false},
    {"UnauthorizedOperation.ChargeStatusException", errc::unauthorized_operation_charge_status_exception, "abnormal charge status", condition::auth, retry_class::never, false},
    {"UnauthorizedOperation.NonAuthorize", errc::unauthorized_operation_non_authorize, "the account has not completed real-name verification", condition::auth, retry_class::never, false},
    {"UnauthorizedOperation.Nonactivated", errc::unauthorized_operation_nonactivated, "the service is not activated", condition::auth, retry_class::never, false},
    {"FailedOperation.ActionCloseEye", errc::failed_operation_action_close_eye, "action: eyes not closed as asked", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionFaceClose", errc::failed_operation_action_face_close, "action: face too close to the camera", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionFaceFar", errc::failed_operation_action_face_far, "action: face too far from the camera", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionFaceLeft", errc::failed_operation_action_face_left, "action: face turned left", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionFaceRight", errc::failed_operation_action_face_right, "action: face turned right", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionFirstAction", errc::failed_operation_action_first_action, "action: the first action was not detected", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionLightDark", errc::failed_operation_action_light_dark, "action: light too dark", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionLightStrong", errc::failed_operation_action_light_strong, "action: light too strong", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionNodetectFace", errc::failed_operation_action_nodetect_face, "action: no face detected", condition::verdict, retry_class::never, false},
    {"FailedOperation.ActionOpenMouth", errc::failed_operation_action_open_mouth, "action: mouth not opened as asked", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipFaceIncomplete", errc::failed_operation_lip_face_incomplete, "lip: the face is not fully visible", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipMoveSmall", errc::failed_operation_lip_move_small, "lip: lip movement too small", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipNetFailed", errc::failed_operation_lip_net_failed, "lip: fetching the video failed, please retry", condition::server, retry_class::retry, false},
    {"FailedOperation.LipSizeError", errc::failed_operation_lip_size_error, "lip: video empty or of the wrong size (record about 6 s)", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipVideoInvalid", errc::failed_operation_lip_video_invalid, "lip: invalid video format", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipVideoQuaility", errc::failed_operation_lip_video_quaility, "lip: video resolution too low", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipVoiceDetect", errc::failed_operation_lip_voice_detect, "lip: no voice detected", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipVoiceLow", errc::failed_operation_lip_voice_low, "lip: voice too quiet", condition::verdict, retry_class::never, false},
    {"FailedOperation.LipVoiceRecognize", errc::failed_operation_lip_voice_recognize, "lip: speech recognition failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentDetectFail", errc::failed_operation_silent_detect_fail, "silent: liveness detection failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentEyeLiveFail", errc::failed_operation_silent_eye_live_fail, "silent: eye liveness failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentFaceDetectFail", errc::failed_operation_silent_face_detect_fail, "silent: face detection failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentFaceQualityFail", errc::failed_operation_silent_face_quality_fail, "silent: face quality too low", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentFaceWithMaskFail", errc::failed_operation_silent_face_with_mask_fail, "silent: face covered (mask)", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentMouthLiveFail", errc::failed_operation_silent_mouth_live_fail, "silent: mouth liveness failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentMultiFaceFail", errc::failed_operation_silent_multi_face_fail, "silent: several faces in the video", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentPictureLiveFail", errc::failed_operation_silent_picture_live_fail, "silent: suspected recapture of a picture", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentThreshold", errc::failed_operation_silent_threshold, "silent: liveness score below the threshold", condition::verdict, retry_class::never, false},
    {"FailedOperation.SilentTooShort", errc::failed_operation_silent_too_short, "silent: video too short (record over 2 s)", condition::verdict, retry_class::never, false},
    {"FailedOperation.LivessBestFrameError", errc::failed_operation_livess_best_frame_error, "liveness: best frame extraction failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.LivessDetectFail", errc::failed_operation_livess_detect_fail, "liveness detection failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.LivessDetectFake", errc::failed_operation_livess_detect_fake, "liveness: suspected non-live recording", condition::verdict, retry_class::never, false},
    {"FailedOperation.LivessSystemError", errc::failed_operation_livess_system_error, "liveness engine call failed", condition::server, retry_class::retry, false},
    {"FailedOperation.LivessUnknownError", errc::failed_operation_livess_unknown_error, "liveness: unknown engine error", condition::server, retry_class::never, false},
    {"FailedOperation.LifePhotoDetectFaces", errc::failed_operation_life_photo_detect_faces, "photo: several faces detected", condition::verdict, retry_class::never, false},
    {"FailedOperation.LifePhotoDetectFake", errc::failed_operation_life_photo_detect_fake, "photo: suspected fake photo", condition::verdict, retry_class::never, false},
    {"FailedOperation.LifePhotoDetectNoFaces", errc::failed_operation_life_photo_detect_no_faces, "photo: no face detected", condition::verdict, retry_class::never, false},
    {"FailedOperation.LifePhotoPoorQuality", errc::failed_operation_life_photo_poor_quality, "photo: quality too low", condition::verdict, retry_class::never, false},
    {"FailedOperation.LifePhotoSizeError", errc::failed_operation_life_photo_size_error, "photo: size not supported", condition::verdict, retry_class::never, false},
    {"FailedOperation.CompareFail", errc::failed_operation_compare_fail, "face comparison failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.CompareLowSimilarity", errc::failed_operation_compare_low_similarity, "similarity below the service's threshold", condition::verdict, retry_class::never, true},
    {"FailedOperation.CompareSystemError", errc::failed_operation_compare_system_error, "comparison engine call failed", condition::server, retry_class::retry, false},
    {"FailedOperation.ImageDecodeFailed", errc::failed_operation_image_decode_failed, "image decode failed", condition::verdict, retry_class::never, false},
    {"FailedOperation.DownLoadError", errc::failed_operation_down_load_error, "downloading the URL input failed", condition::bad_request, retry_class::never, false},
    {"FailedOperation.DownLoadTimeoutError", errc::failed_operation_down_load_timeout_error, "downloading the URL input timed out", condition::bad_request, retry_class::never, false},
    {"FailedOperation.CompressVideoError", errc::failed_operation_compress_video_error, "video compression failed (try again or send a smaller video)", condition::verdict, retry_class::never, false},
    {"FailedOperation.CompareLibServiceUnavailable", errc::failed_operation_compare_lib_service_unavailable, "the identity comparison library is under maintenance", condition::server, retry_class::never, false},
    {"FailedOperation.DecryptSystemError", errc::failed_operation_decrypt_system_error, "decryption failed", condition::bad_request, retry_class::never, false},
    {"FailedOperation.IdFormatError", errc::failed_operation_id_format_error, "ID number format error", condition::identity, retry_class::never, false},
    {"FailedOperation.IdNameMisMatch", errc::failed_operation_id_name_mis_match, "name and ID number do not match", condition::identity, retry_class::never, true},
    {"FailedOperation.IdNoExistSystem", errc::failed_operation_id_no_exist_system, "the ID number is not in the national database", condition::identity, retry_class::never, false},
    {"FailedOperation.IdPhotoNoExist", errc::failed_operation_id_photo_no_exist, "no photo on file for this ID", condition::identity, retry_class::never, false},
    {"FailedOperation.IdPhotoPoorQuality", errc::failed_operation_id_photo_poor_quality, "the photo on file is of poor quality", condition::identity, retry_class::never, false},
    {"FailedOperation.IdentityAuthLimitExceeded", errc::failed_operation_identity_auth_limit_exceeded, "identity checks for this ID exceeded today's limit", condition::rate_limit, retry_class::never, false},
    {"FailedOperation.NameFormatError", errc::failed_operation_name_format_error, "name format error", condition::identity, retry_class::never, false},
    {"FailedOperation.StsUnAuthErrError", errc::failed_operation_sts_un_auth_err_error, "STS not authorised", condition::auth, retry_class::never, false},
    {"InvalidParameter.UnsupportEncryptField", errc::invalid_parameter_unsupport_encrypt_field, "a field named in EncryptList cannot be encrypted", condition::bad_request, retry_class::never, false},
};
// clang-format on

constexpr int first_row_value = static_cast<int>(errc::unknown) + 1;

constexpr bool rows_in_enumerator_order() {
    for (std::size_t i = 0; i < std::size(table); ++i)
        if (static_cast<int>(table[i].code) != first_row_value + static_cast<int>(i)) return false;
    return true;
}
static_assert(rows_in_enumerator_order(), "table rows must follow the order of faceid::errc");

// Row indices sorted by wire code, for a binary search in error_for().
constexpr auto by_wire = [] {
    std::array<std::uint16_t, std::size(table)> idx{};
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::uint16_t>(i);
    std::sort(idx.begin(), idx.end(), [](auto a, auto b) { return table[a].wire < table[b].wire; });
    return idx;
}();

constexpr bool wire_codes_unique() {
    for (std::size_t i = 1; i < by_wire.size(); ++i)
        if (table[by_wire[i - 1]].wire == table[by_wire[i]].wire) return false;
    return true;
}
static_assert(wire_codes_unique(), "a wire code appears twice in the table");

constexpr std::string_view success_wire = "Success";

const code_info* find(std::string_view wire) noexcept {
    const auto it = std::lower_bound(by_wire.begin(), by_wire.end(), wire,
                                     [](std::uint16_t i, std::string_view w) { return table[i].wire < w; });
    if (it == by_wire.end() || table[*it].wire != wire) return nullptr;
    return &table[*it];
}

class faceid_category_impl final : public boost::system::error_category {
public:
    constexpr faceid_category_impl() noexcept : error_category(faceid_category_id) {}
    const char* name() const noexcept override { return "livefour.faceid"; }
    std::string message(int ev) const override {
        if (ev == 0) return "success";
        return std::string(info(static_cast<errc>(ev)).message);
    }
};

}  // namespace

const boost::system::error_category& category() noexcept {
    static const faceid_category_impl instance;
    return instance;
}

errc error_for(std::string_view wire) noexcept {
    if (wire == success_wire) return errc{};
    const auto* row = find(wire);
    return row ? row->code : errc::unknown;
}

std::string_view wire_code(errc e) noexcept {
    if (e == errc{}) return success_wire;
    return info(e).wire;
}

const code_info& info(errc e) noexcept {
    const int i = static_cast<int>(e) - first_row_value;
    if (i < 0 || i >= static_cast<int>(std::size(table))) return unknown_row;
    return table[static_cast<std::size_t>(i)];
}

const code_info& classify(std::string_view wire) noexcept {
    if (const auto* row = find(wire)) return *row;
    if (const auto dot = wire.find('.'); dot != std::string_view::npos)
        if (const auto* family = find(wire.substr(0, dot))) return *family;
    return unknown_row;
}

std::span<const code_info> codes() noexcept { return table; }

}  // namespace livefour::faceid
