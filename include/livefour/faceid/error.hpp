// livefour — the error vocabulary of Tencent Cloud API 3.0 `faceid` (api3.md §3–4).
//
// API 3.0 names its errors with strings (`Response.Error.Code`, and the `Result` of the liveness
// actions, which uses the same `FailedOperation.*` names). Each string the research notes list
// has an enumerator of `faceid::errc`, in one constexpr table (src/faceid_error.cpp) that also
// says, per code, its English message, its coarse livefour::condition, how a retry loop should
// treat it and whether the outcome is billed. docs/errors.md ("faceid (API 3.0)") shows the table
// and justifies the retry classes; test/unit/docs_errors_test.cpp keeps the two equal.
//
// A string that is not in the table maps to `errc::unknown`; the caller keeps the string itself
// (diagnostics) because an enumerator cannot. `Result: "Success"` maps to errc{} (value 0), which
// makes a clear error_code.
#pragma once

#include <livefour/error.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace livefour::faceid {

/// Every faceid code of api3.md §3–4. Value 0 is success (`Success`); the values are livefour's
/// own (API 3.0 codes are strings) and may change between releases: store wire_code() instead.
enum class errc : int {
    unknown = 1,                                              ///< a code that is not in the table
    action_offline,                                           ///< `ActionOffline`
    auth_failure_invalid_authorization,                       ///< `AuthFailure.InvalidAuthorization`
    auth_failure_invalid_secret_id,                           ///< `AuthFailure.InvalidSecretId`
    auth_failure_mfa_failure,                                 ///< `AuthFailure.MFAFailure`
    auth_failure_secret_id_not_found,                         ///< `AuthFailure.SecretIdNotFound`
    auth_failure_signature_expire,                            ///< `AuthFailure.SignatureExpire`
    auth_failure_signature_failure,                           ///< `AuthFailure.SignatureFailure`
    auth_failure_token_failure,                               ///< `AuthFailure.TokenFailure`
    auth_failure_unauthorized_operation,                      ///< `AuthFailure.UnauthorizedOperation`
    dry_run_operation,                                        ///< `DryRunOperation`
    failed_operation,                                         ///< `FailedOperation`
    internal_error,                                           ///< `InternalError`
    invalid_action,                                           ///< `InvalidAction`
    invalid_parameter,                                        ///< `InvalidParameter`
    invalid_parameter_value,                                  ///< `InvalidParameterValue`
    invalid_request,                                          ///< `InvalidRequest`
    ip_in_blacklist,                                          ///< `IpInBlacklist`
    ip_not_in_whitelist,                                      ///< `IpNotInWhitelist`
    limit_exceeded,                                           ///< `LimitExceeded`
    missing_parameter,                                        ///< `MissingParameter`
    no_such_product,                                          ///< `NoSuchProduct`
    no_such_version,                                          ///< `NoSuchVersion`
    request_limit_exceeded,                                   ///< `RequestLimitExceeded`
    request_limit_exceeded_global_region_uin_limit_exceeded,  ///< `RequestLimitExceeded.GlobalRegionUinLimitExceeded`
    request_limit_exceeded_ip_limit_exceeded,                 ///< `RequestLimitExceeded.IPLimitExceeded`
    request_limit_exceeded_uin_limit_exceeded,                ///< `RequestLimitExceeded.UinLimitExceeded`
    request_size_limit_exceeded,                              ///< `RequestSizeLimitExceeded`
    resource_in_use,                                          ///< `ResourceInUse`
    resource_insufficient,                                    ///< `ResourceInsufficient`
    resource_not_found,                                       ///< `ResourceNotFound`
    resource_unavailable,                                     ///< `ResourceUnavailable`
    response_size_limit_exceeded,                             ///< `ResponseSizeLimitExceeded`
    service_unavailable,                                      ///< `ServiceUnavailable`
    unauthorized_operation,                                   ///< `UnauthorizedOperation`
    unknown_parameter,                                        ///< `UnknownParameter`
    unsupported_operation,                                    ///< `UnsupportedOperation`
    unsupported_protocol,                                     ///< `UnsupportedProtocol`
    unsupported_region,                                       ///< `UnsupportedRegion`
    failed_operation_db_error,                                ///< `FailedOperation.DbError`
    failed_operation_detect_engine_system_error,              ///< `FailedOperation.DetectEngineSystemError`
    failed_operation_file_save_error,                         ///< `FailedOperation.FileSaveError`
    failed_operation_request_limit_exceeded,                  ///< `FailedOperation.RequestLimitExceeded`
    failed_operation_unknown,                                 ///< `FailedOperation.UnKnown`
    internal_error_encrypt_system_error,                      ///< `InternalError.EncryptSystemError`
    internal_error_unknown,                                   ///< `InternalError.UnKnown`
    unauthorized_operation_activating,                        ///< `UnauthorizedOperation.Activating`
    unauthorized_operation_activate_error,                    ///< `UnauthorizedOperation.ActivateError`
    unauthorized_operation_arrears,                           ///< `UnauthorizedOperation.Arrears`
    unauthorized_operation_charge_status_exception,           ///< `UnauthorizedOperation.ChargeStatusException`
    unauthorized_operation_non_authorize,                     ///< `UnauthorizedOperation.NonAuthorize`
    unauthorized_operation_nonactivated,                      ///< `UnauthorizedOperation.Nonactivated`
    failed_operation_action_close_eye,                        ///< `FailedOperation.ActionCloseEye`
    failed_operation_action_face_close,                       ///< `FailedOperation.ActionFaceClose`
    failed_operation_action_face_far,                         ///< `FailedOperation.ActionFaceFar`
    failed_operation_action_face_left,                        ///< `FailedOperation.ActionFaceLeft`
    failed_operation_action_face_right,                       ///< `FailedOperation.ActionFaceRight`
    failed_operation_action_first_action,                     ///< `FailedOperation.ActionFirstAction`
    failed_operation_action_light_dark,                       ///< `FailedOperation.ActionLightDark`
    failed_operation_action_light_strong,                     ///< `FailedOperation.ActionLightStrong`
    failed_operation_action_nodetect_face,                    ///< `FailedOperation.ActionNodetectFace`
    failed_operation_action_open_mouth,                       ///< `FailedOperation.ActionOpenMouth`
    failed_operation_lip_face_incomplete,                     ///< `FailedOperation.LipFaceIncomplete`
    failed_operation_lip_move_small,                          ///< `FailedOperation.LipMoveSmall`
    failed_operation_lip_net_failed,                          ///< `FailedOperation.LipNetFailed`
    failed_operation_lip_size_error,                          ///< `FailedOperation.LipSizeError`
    failed_operation_lip_video_invalid,                       ///< `FailedOperation.LipVideoInvalid`
    failed_operation_lip_video_quaility,                      ///< `FailedOperation.LipVideoQuaility`
    failed_operation_lip_voice_detect,                        ///< `FailedOperation.LipVoiceDetect`
    failed_operation_lip_voice_low,                           ///< `FailedOperation.LipVoiceLow`
    failed_operation_lip_voice_recognize,                     ///< `FailedOperation.LipVoiceRecognize`
    failed_operation_silent_detect_fail,                      ///< `FailedOperation.SilentDetectFail`
    failed_operation_silent_eye_live_fail,                    ///< `FailedOperation.SilentEyeLiveFail`
    failed_operation_silent_face_detect_fail,                 ///< `FailedOperation.SilentFaceDetectFail`
    failed_operation_silent_face_quality_fail,                ///< `FailedOperation.SilentFaceQualityFail`
    failed_operation_silent_face_with_mask_fail,              ///< `FailedOperation.SilentFaceWithMaskFail`
    failed_operation_silent_mouth_live_fail,                  ///< `FailedOperation.SilentMouthLiveFail`
    failed_operation_silent_multi_face_fail,                  ///< `FailedOperation.SilentMultiFaceFail`
    failed_operation_silent_picture_live_fail,                ///< `FailedOperation.SilentPictureLiveFail`
    failed_operation_silent_threshold,                        ///< `FailedOperation.SilentThreshold`
    failed_operation_silent_too_short,                        ///< `FailedOperation.SilentTooShort`
    failed_operation_livess_best_frame_error,                 ///< `FailedOperation.LivessBestFrameError`
    failed_operation_livess_detect_fail,                      ///< `FailedOperation.LivessDetectFail`
    failed_operation_livess_detect_fake,                      ///< `FailedOperation.LivessDetectFake`
    failed_operation_livess_system_error,                     ///< `FailedOperation.LivessSystemError`
    failed_operation_livess_unknown_error,                    ///< `FailedOperation.LivessUnknownError`
    failed_operation_life_photo_detect_faces,                 ///< `FailedOperation.LifePhotoDetectFaces`
    failed_operation_life_photo_detect_fake,                  ///< `FailedOperation.LifePhotoDetectFake`
    failed_operation_life_photo_detect_no_faces,              ///< `FailedOperation.LifePhotoDetectNoFaces`
    failed_operation_life_photo_poor_quality,                 ///< `FailedOperation.LifePhotoPoorQuality`
    failed_operation_life_photo_size_error,                   ///< `FailedOperation.LifePhotoSizeError`
    failed_operation_compare_fail,                            ///< `FailedOperation.CompareFail`
    failed_operation_compare_low_similarity,                  ///< `FailedOperation.CompareLowSimilarity`
    failed_operation_compare_system_error,                    ///< `FailedOperation.CompareSystemError`
    failed_operation_image_decode_failed,                     ///< `FailedOperation.ImageDecodeFailed`
    failed_operation_down_load_error,                         ///< `FailedOperation.DownLoadError`
    failed_operation_down_load_timeout_error,                 ///< `FailedOperation.DownLoadTimeoutError`
    failed_operation_compress_video_error,                    ///< `FailedOperation.CompressVideoError`
    failed_operation_compare_lib_service_unavailable,         ///< `FailedOperation.CompareLibServiceUnavailable`
    failed_operation_decrypt_system_error,                    ///< `FailedOperation.DecryptSystemError`
    failed_operation_id_format_error,                         ///< `FailedOperation.IdFormatError`
    failed_operation_id_name_mis_match,                       ///< `FailedOperation.IdNameMisMatch`
    failed_operation_id_no_exist_system,                      ///< `FailedOperation.IdNoExistSystem`
    failed_operation_id_photo_no_exist,                       ///< `FailedOperation.IdPhotoNoExist`
    failed_operation_id_photo_poor_quality,                   ///< `FailedOperation.IdPhotoPoorQuality`
    failed_operation_identity_auth_limit_exceeded,            ///< `FailedOperation.IdentityAuthLimitExceeded`
    failed_operation_name_format_error,                       ///< `FailedOperation.NameFormatError`
    failed_operation_sts_un_auth_err_error,                   ///< `FailedOperation.StsUnAuthErrError`
    invalid_parameter_unsupport_encrypt_field,                ///< `InvalidParameter.UnsupportEncryptField`
};

/// How a retry loop treats a code that arrived as `Response.Error.Code` (livefour::retry_class).
/// A `Result` outcome is never resent, whatever its class: the service processed the request.
using livefour::retry_class;

/// One row of the table.
struct code_info {
    std::string_view wire;          ///< the code as the service spells it
    errc code;                      ///< its enumerator
    std::string_view message;       ///< English, for ec.message()
    std::optional<condition> cond;  ///< coarse grouping (nullopt for `unknown`)
    retry_class retry;              ///< see retry_class
    bool billed;                    ///< the outcome is charged (api3.md §3.7)
};

/// Category of `errc` ("livefour.faceid"); message() is the table's message.
const boost::system::error_category& category() noexcept;

/// Makes `errc` usable as an error_code (found by ADL). errc{} gives a clear error_code.
inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

/// The enumerator of a wire code; "Success" gives errc{}, a string not in the table
/// errc::unknown. Exact, case-sensitive match.
errc error_for(std::string_view wire_code) noexcept;

/// The wire string of `e` ("Success" for errc{}, "" for unknown and out-of-range values).
std::string_view wire_code(errc e) noexcept;

/// The row of `e`; the `unknown` row for errc::unknown, errc{} and out-of-range values.
const code_info& info(errc e) noexcept;

/// The row that classifies `wire_code`: its own row when the table has it, else the row of its
/// family (the text before the first '.') when the table has that, else the `unknown` row. So a
/// code added by the service later, say `RequestLimitExceeded.NewLimit`, is throttled like
/// `RequestLimitExceeded`, and `InternalError.Something` is retried like `InternalError`.
const code_info& classify(std::string_view wire_code) noexcept;

/// Every row of the table, in enumerator order (`unknown` is not a row).
std::span<const code_info> codes() noexcept;

}  // namespace livefour::faceid

namespace boost::system {
template <>
struct is_error_code_enum<livefour::faceid::errc> : std::true_type {};
}  // namespace boost::system
