// docs/errors.md must not drift from the code: every table row marked `<!-- generated-table: KIND -->`
// is checked against api_message(), ec.message(), condition_of(), is_retryable() and the retry
// loop's default decision (should_retry()), and every code the code knows must have a row.
#include <livefour/error.hpp>
#include <livefour/faceid/error.hpp>
#include <livefour/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using livefour::api_error;
using livefour::client_error;
using livefour::error_code;

std::filesystem::path errors_md() {
    return std::filesystem::path(LIVEFOUR_TEST_PEERS_DIR) / ".." / ".." / "docs" / "errors.md";
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

/// A cell's text: trimmed, and without the backticks of a code span that spans the whole cell.
std::string cell_text(const std::string& raw) {
    std::string s = trim(raw);
    if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
    return s;
}

std::vector<std::string> split_row(const std::string& line) {
    std::vector<std::string> cells;
    std::string cur;
    for (std::size_t i = 1; i < line.size(); ++i) {  // line[0] is the leading '|'
        if (line[i] == '|') {
            cells.push_back(cell_text(cur));
            cur.clear();
        } else {
            cur += line[i];
        }
    }
    return cells;  // text after the trailing '|' (normally nothing) is dropped
}

/// Data rows of every table that follows `<!-- generated-table: kind -->`, header and separator
/// skipped. Fails the test when a marked table is malformed.
std::vector<std::vector<std::string>> rows_of(const std::string& doc, const std::string& kind) {
    const std::string marker = "<!-- generated-table: " + kind + " -->";
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(doc);
    std::string line;
    bool in_table = false, awaiting = false;
    int line_in_table = 0;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line == marker) {
            awaiting = true;
            continue;
        }
        if (awaiting && line.empty()) continue;
        if (awaiting) {
            REQUIRE_MESSAGE(line.rfind('|', 0) == 0, "a table must follow ", marker);
            awaiting = false;
            in_table = true;
            line_in_table = 0;
        }
        if (!in_table) continue;
        if (line.rfind('|', 0) != 0) {
            in_table = false;
            continue;
        }
        if (++line_in_table <= 2) continue;  // header, separator
        rows.push_back(split_row(line));
    }
    return rows;
}

std::string condition_name(const error_code& ec) {
    const auto c = livefour::condition_of(ec);
    if (!c) return "—";
    switch (*c) {
    case livefour::condition::auth: return "auth";
    case livefour::condition::rate_limit: return "rate_limit";
    case livefour::condition::bad_request: return "bad_request";
    case livefour::condition::server: return "server";
    case livefour::condition::verdict: return "verdict";
    case livefour::condition::identity: return "identity";
    case livefour::condition::transport: return "transport";
    }
    return "?";
}

/// The "Retry loop (default policy)" column: should_retry() for a failed first attempt, over the
/// phases spec §6 distinguishes.
std::string retry_loop(const error_code& ec) {
    const livefour::retry_policy policy;
    auto decide = [&](bool fully_sent, bool response_started, bool idempotent) {
        livefour::attempt_info info;
        info.ec = ec;
        info.attempt = 1;
        info.request_fully_sent = fully_sent;
        info.response_started = response_started;
        info.idempotent = idempotent;
        return livefour::should_retry(policy, info);
    };
    const bool unsent = decide(false, false, false);
    const bool sent_billed = decide(true, false, false);
    const bool sent_free = decide(true, false, true);
    const bool answered_free = decide(true, true, true);
    const bool answered_billed = decide(true, true, false);
    if (unsent && sent_billed && sent_free && answered_free && answered_billed) return "yes";
    if (!unsent && !sent_billed && !sent_free && !answered_free && !answered_billed) return "no";
    if (unsent && !sent_billed && sent_free && answered_free && !answered_billed) return "if unsent ¹";
    return "(a pattern docs/errors.md does not describe)";
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

int to_int(const std::string& s) {
    std::size_t used = 0;
    const int v = std::stoi(s, &used);
    REQUIRE_MESSAGE(used == s.size(), "not a number: ", s);
    return v;
}

// Names are spelled out here (not derived), so the compiler checks that each one exists.
const std::map<std::string, int> api_enumerators = {
    {"bad_request", static_cast<int>(api_error::bad_request)},
    {"signature_empty", static_cast<int>(api_error::signature_empty)},
    {"signature_malformed", static_cast<int>(api_error::signature_malformed)},
    {"signature_appid_mismatch", static_cast<int>(api_error::signature_appid_mismatch)},
    {"signature_expired", static_cast<int>(api_error::signature_expired)},
    {"appid_unknown", static_cast<int>(api_error::appid_unknown)},
    {"secret_id_unknown", static_cast<int>(api_error::secret_id_unknown)},
    {"appid_secret_id_mismatch", static_cast<int>(api_error::appid_secret_id_mismatch)},
    {"replay_attack", static_cast<int>(api_error::replay_attack)},
    {"signature_check_failed", static_cast<int>(api_error::signature_check_failed)},
    {"rate_limited", static_cast<int>(api_error::rate_limited)},
    {"bucket_unknown", static_cast<int>(api_error::bucket_unknown)},
    {"invalid_parameter", static_cast<int>(api_error::invalid_parameter)},
    {"body_too_large", static_cast<int>(api_error::body_too_large)},
    {"service_not_enabled", static_cast<int>(api_error::service_not_enabled)},
    {"auth_unavailable_107", static_cast<int>(api_error::auth_unavailable_107)},
    {"auth_unavailable_108", static_cast<int>(api_error::auth_unavailable_108)},
    {"internal_error", static_cast<int>(api_error::internal_error)},
    {"video_feature_failed", static_cast<int>(api_error::video_feature_failed)},
    {"selfie_compare_failed", static_cast<int>(api_error::selfie_compare_failed)},
    {"card_feature_failed", static_cast<int>(api_error::card_feature_failed)},
    {"similarity_failed", static_cast<int>(api_error::similarity_failed)},
    {"photo_decode_failed", static_cast<int>(api_error::photo_decode_failed)},
    {"photo_face_detect_failed", static_cast<int>(api_error::photo_face_detect_failed)},
    {"selfie_face_detect_failed", static_cast<int>(api_error::selfie_face_detect_failed)},
    {"selfie_decode_failed", static_cast<int>(api_error::selfie_decode_failed)},
    {"card_face_detect_failed", static_cast<int>(api_error::card_face_detect_failed)},
    {"card_decode_failed", static_cast<int>(api_error::card_decode_failed)},
    {"invalid_video", static_cast<int>(api_error::invalid_video)},
    {"lip_reading_failed", static_cast<int>(api_error::lip_reading_failed)},
    {"too_few_faces", static_cast<int>(api_error::too_few_faces)},
    {"no_audio", static_cast<int>(api_error::no_audio)},
    {"speech_recognition_failed", static_cast<int>(api_error::speech_recognition_failed)},
    {"no_face_or_mouth", static_cast<int>(api_error::no_face_or_mouth)},
    {"lips_hardly_moved", static_cast<int>(api_error::lips_hardly_moved)},
    {"liveness_failed", static_cast<int>(api_error::liveness_failed)},
    {"too_noisy", static_cast<int>(api_error::too_noisy)},
    {"too_quiet", static_cast<int>(api_error::too_quiet)},
    {"invalid_liveness_level", static_cast<int>(api_error::invalid_liveness_level)},
    {"resolution_too_low", static_cast<int>(api_error::resolution_too_low)},
    {"not_live", static_cast<int>(api_error::not_live)},
    {"idcard_missing", static_cast<int>(api_error::idcard_missing)},
    {"idcard_service_unavailable", static_cast<int>(api_error::idcard_service_unavailable)},
    {"idcard_name_mismatch", static_cast<int>(api_error::idcard_name_mismatch)},
    {"idcard_invalid_number", static_cast<int>(api_error::idcard_invalid_number)},
    {"no_image", static_cast<int>(api_error::no_image)},
};

const std::map<std::string, client_error> client_enumerators = {
    {"bad_endpoint", client_error::bad_endpoint},
    {"insecure_http_refused", client_error::insecure_http_refused},
    {"missing_credentials", client_error::missing_credentials},
    {"invalid_argument", client_error::invalid_argument},
    {"invalid_field", client_error::invalid_field},
    {"file_not_found", client_error::file_not_found},
    {"file_unreadable", client_error::file_unreadable},
    {"file_changed_size", client_error::file_changed_size},
    {"source_failed", client_error::source_failed},
    {"upload_too_large", client_error::upload_too_large},
    {"invalid_signature_validity", client_error::invalid_signature_validity},
    {"response_too_large", client_error::response_too_large},
    {"header_too_large", client_error::header_too_large},
    {"non_json_response", client_error::non_json_response},
    {"malformed_response", client_error::malformed_response},
    {"resolve_timeout", client_error::resolve_timeout},
    {"connect_timeout", client_error::connect_timeout},
    {"handshake_timeout", client_error::handshake_timeout},
    {"stall_timeout", client_error::stall_timeout},
    {"deadline_exceeded", client_error::deadline_exceeded},
    {"pool_wait_timeout", client_error::pool_wait_timeout},
    {"pool_closed", client_error::pool_closed},
    {"retries_exhausted", client_error::retries_exhausted},
    {"tls_verification_failed", client_error::tls_verification_failed},
    {"connection_closed", client_error::connection_closed},
    {"tls_certificate_expired", client_error::tls_certificate_expired},
    {"tls_hostname_mismatch", client_error::tls_hostname_mismatch},
    {"tls_untrusted_certificate", client_error::tls_untrusted_certificate},
    {"similarity_below_threshold", client_error::similarity_below_threshold},
    {"comparison_missing", client_error::comparison_missing},
    {"empty_source", client_error::empty_source},
    {"video_too_large", client_error::video_too_large},
    {"image_too_large", client_error::image_too_large},
    {"bad_proxy", client_error::bad_proxy},
    {"proxy_unreachable", client_error::proxy_unreachable},
    {"proxy_auth_required", client_error::proxy_auth_required},
    {"proxy_refused", client_error::proxy_refused},
    {"proxy_gateway_error", client_error::proxy_gateway_error},
    {"proxy_bad_response", client_error::proxy_bad_response},
};

// The faceid enumerators, spelled out for the same reason.
const std::map<std::string, livefour::faceid::errc> faceid_enumerators = {
    {"action_offline", livefour::faceid::errc::action_offline},
    {"auth_failure_invalid_authorization", livefour::faceid::errc::auth_failure_invalid_authorization},
    {"auth_failure_invalid_secret_id", livefour::faceid::errc::auth_failure_invalid_secret_id},
    {"auth_failure_mfa_failure", livefour::faceid::errc::auth_failure_mfa_failure},
    {"auth_failure_secret_id_not_found", livefour::faceid::errc::auth_failure_secret_id_not_found},
    {"auth_failure_signature_expire", livefour::faceid::errc::auth_failure_signature_expire},
    {"auth_failure_signature_failure", livefour::faceid::errc::auth_failure_signature_failure},
    {"auth_failure_token_failure", livefour::faceid::errc::auth_failure_token_failure},
    {"auth_failure_unauthorized_operation", livefour::faceid::errc::auth_failure_unauthorized_operation},
    {"dry_run_operation", livefour::faceid::errc::dry_run_operation},
    {"failed_operation", livefour::faceid::errc::failed_operation},
    {"internal_error", livefour::faceid::errc::internal_error},
    {"invalid_action", livefour::faceid::errc::invalid_action},
    {"invalid_parameter", livefour::faceid::errc::invalid_parameter},
    {"invalid_parameter_value", livefour::faceid::errc::invalid_parameter_value},
    {"invalid_request", livefour::faceid::errc::invalid_request},
    {"ip_in_blacklist", livefour::faceid::errc::ip_in_blacklist},
    {"ip_not_in_whitelist", livefour::faceid::errc::ip_not_in_whitelist},
    {"limit_exceeded", livefour::faceid::errc::limit_exceeded},
    {"missing_parameter", livefour::faceid::errc::missing_parameter},
    {"no_such_product", livefour::faceid::errc::no_such_product},
    {"no_such_version", livefour::faceid::errc::no_such_version},
    {"request_limit_exceeded", livefour::faceid::errc::request_limit_exceeded},
    {"request_limit_exceeded_global_region_uin_limit_exceeded",
     livefour::faceid::errc::request_limit_exceeded_global_region_uin_limit_exceeded},
    {"request_limit_exceeded_ip_limit_exceeded", livefour::faceid::errc::request_limit_exceeded_ip_limit_exceeded},
    {"request_limit_exceeded_uin_limit_exceeded", livefour::faceid::errc::request_limit_exceeded_uin_limit_exceeded},
    {"request_size_limit_exceeded", livefour::faceid::errc::request_size_limit_exceeded},
    {"resource_in_use", livefour::faceid::errc::resource_in_use},
    {"resource_insufficient", livefour::faceid::errc::resource_insufficient},
    {"resource_not_found", livefour::faceid::errc::resource_not_found},
    {"resource_unavailable", livefour::faceid::errc::resource_unavailable},
    {"response_size_limit_exceeded", livefour::faceid::errc::response_size_limit_exceeded},
    {"service_unavailable", livefour::faceid::errc::service_unavailable},
    {"unauthorized_operation", livefour::faceid::errc::unauthorized_operation},
    {"unknown_parameter", livefour::faceid::errc::unknown_parameter},
    {"unsupported_operation", livefour::faceid::errc::unsupported_operation},
    {"unsupported_protocol", livefour::faceid::errc::unsupported_protocol},
    {"unsupported_region", livefour::faceid::errc::unsupported_region},
    {"failed_operation_db_error", livefour::faceid::errc::failed_operation_db_error},
    {"failed_operation_detect_engine_system_error",
     livefour::faceid::errc::failed_operation_detect_engine_system_error},
    {"failed_operation_file_save_error", livefour::faceid::errc::failed_operation_file_save_error},
    {"failed_operation_request_limit_exceeded", livefour::faceid::errc::failed_operation_request_limit_exceeded},
    {"failed_operation_unknown", livefour::faceid::errc::failed_operation_unknown},
    {"internal_error_encrypt_system_error", livefour::faceid::errc::internal_error_encrypt_system_error},
    {"internal_error_unknown", livefour::faceid::errc::internal_error_unknown},
    {"unauthorized_operation_activating", livefour::faceid::errc::unauthorized_operation_activating},
    {"unauthorized_operation_activate_error", livefour::faceid::errc::unauthorized_operation_activate_error},
    {"unauthorized_operation_arrears", livefour::faceid::errc::unauthorized_operation_arrears},
    {"unauthorized_operation_charge_status_exception",
     livefour::faceid::errc::unauthorized_operation_charge_status_exception},
    {"unauthorized_operation_non_authorize", livefour::faceid::errc::unauthorized_operation_non_authorize},
    {"unauthorized_operation_nonactivated", livefour::faceid::errc::unauthorized_operation_nonactivated},
    {"failed_operation_action_close_eye", livefour::faceid::errc::failed_operation_action_close_eye},
    {"failed_operation_action_face_close", livefour::faceid::errc::failed_operation_action_face_close},
    {"failed_operation_action_face_far", livefour::faceid::errc::failed_operation_action_face_far},
    {"failed_operation_action_face_left", livefour::faceid::errc::failed_operation_action_face_left},
    {"failed_operation_action_face_right", livefour::faceid::errc::failed_operation_action_face_right},
    {"failed_operation_action_first_action", livefour::faceid::errc::failed_operation_action_first_action},
    {"failed_operation_action_light_dark", livefour::faceid::errc::failed_operation_action_light_dark},
    {"failed_operation_action_light_strong", livefour::faceid::errc::failed_operation_action_light_strong},
    {"failed_operation_action_nodetect_face", livefour::faceid::errc::failed_operation_action_nodetect_face},
    {"failed_operation_action_open_mouth", livefour::faceid::errc::failed_operation_action_open_mouth},
    {"failed_operation_lip_face_incomplete", livefour::faceid::errc::failed_operation_lip_face_incomplete},
    {"failed_operation_lip_move_small", livefour::faceid::errc::failed_operation_lip_move_small},
    {"failed_operation_lip_net_failed", livefour::faceid::errc::failed_operation_lip_net_failed},
    {"failed_operation_lip_size_error", livefour::faceid::errc::failed_operation_lip_size_error},
    {"failed_operation_lip_video_invalid", livefour::faceid::errc::failed_operation_lip_video_invalid},
    {"failed_operation_lip_video_quaility", livefour::faceid::errc::failed_operation_lip_video_quaility},
    {"failed_operation_lip_voice_detect", livefour::faceid::errc::failed_operation_lip_voice_detect},
    {"failed_operation_lip_voice_low", livefour::faceid::errc::failed_operation_lip_voice_low},
    {"failed_operation_lip_voice_recognize", livefour::faceid::errc::failed_operation_lip_voice_recognize},
    {"failed_operation_silent_detect_fail", livefour::faceid::errc::failed_operation_silent_detect_fail},
    {"failed_operation_silent_eye_live_fail", livefour::faceid::errc::failed_operation_silent_eye_live_fail},
    {"failed_operation_silent_face_detect_fail", livefour::faceid::errc::failed_operation_silent_face_detect_fail},
    {"failed_operation_silent_face_quality_fail", livefour::faceid::errc::failed_operation_silent_face_quality_fail},
    {"failed_operation_silent_face_with_mask_fail",
     livefour::faceid::errc::failed_operation_silent_face_with_mask_fail},
    {"failed_operation_silent_mouth_live_fail", livefour::faceid::errc::failed_operation_silent_mouth_live_fail},
    {"failed_operation_silent_multi_face_fail", livefour::faceid::errc::failed_operation_silent_multi_face_fail},
    {"failed_operation_silent_picture_live_fail", livefour::faceid::errc::failed_operation_silent_picture_live_fail},
    {"failed_operation_silent_threshold", livefour::faceid::errc::failed_operation_silent_threshold},
    {"failed_operation_silent_too_short", livefour::faceid::errc::failed_operation_silent_too_short},
    {"failed_operation_livess_best_frame_error", livefour::faceid::errc::failed_operation_livess_best_frame_error},
    {"failed_operation_livess_detect_fail", livefour::faceid::errc::failed_operation_livess_detect_fail},
    {"failed_operation_livess_detect_fake", livefour::faceid::errc::failed_operation_livess_detect_fake},
    {"failed_operation_livess_system_error", livefour::faceid::errc::failed_operation_livess_system_error},
    {"failed_operation_livess_unknown_error", livefour::faceid::errc::failed_operation_livess_unknown_error},
    {"failed_operation_life_photo_detect_faces", livefour::faceid::errc::failed_operation_life_photo_detect_faces},
    {"failed_operation_life_photo_detect_fake", livefour::faceid::errc::failed_operation_life_photo_detect_fake},
    {"failed_operation_life_photo_detect_no_faces",
     livefour::faceid::errc::failed_operation_life_photo_detect_no_faces},
    {"failed_operation_life_photo_poor_quality", livefour::faceid::errc::failed_operation_life_photo_poor_quality},
    {"failed_operation_life_photo_size_error", livefour::faceid::errc::failed_operation_life_photo_size_error},
    {"failed_operation_compare_fail", livefour::faceid::errc::failed_operation_compare_fail},
    {"failed_operation_compare_low_similarity", livefour::faceid::errc::failed_operation_compare_low_similarity},
    {"failed_operation_compare_system_error", livefour::faceid::errc::failed_operation_compare_system_error},
    {"failed_operation_image_decode_failed", livefour::faceid::errc::failed_operation_image_decode_failed},
    {"failed_operation_down_load_error", livefour::faceid::errc::failed_operation_down_load_error},
    {"failed_operation_down_load_timeout_error", livefour::faceid::errc::failed_operation_down_load_timeout_error},
    {"failed_operation_compress_video_error", livefour::faceid::errc::failed_operation_compress_video_error},
    {"failed_operation_compare_lib_service_unavailable",
     livefour::faceid::errc::failed_operation_compare_lib_service_unavailable},
    {"failed_operation_decrypt_system_error", livefour::faceid::errc::failed_operation_decrypt_system_error},
    {"failed_operation_id_format_error", livefour::faceid::errc::failed_operation_id_format_error},
    {"failed_operation_id_name_mis_match", livefour::faceid::errc::failed_operation_id_name_mis_match},
    {"failed_operation_id_no_exist_system", livefour::faceid::errc::failed_operation_id_no_exist_system},
    {"failed_operation_id_photo_no_exist", livefour::faceid::errc::failed_operation_id_photo_no_exist},
    {"failed_operation_id_photo_poor_quality", livefour::faceid::errc::failed_operation_id_photo_poor_quality},
    {"failed_operation_identity_auth_limit_exceeded",
     livefour::faceid::errc::failed_operation_identity_auth_limit_exceeded},
    {"failed_operation_name_format_error", livefour::faceid::errc::failed_operation_name_format_error},
    {"failed_operation_sts_un_auth_err_error", livefour::faceid::errc::failed_operation_sts_un_auth_err_error},
    {"invalid_parameter_unsupport_encrypt_field", livefour::faceid::errc::invalid_parameter_unsupport_encrypt_field},
};

std::string retry_class_name(livefour::faceid::retry_class r) {
    switch (r) {
    case livefour::faceid::retry_class::never: return "never";
    case livefour::faceid::retry_class::retry: return "retry";
    case livefour::faceid::retry_class::throttle: return "throttle";
    case livefour::faceid::retry_class::resign_once: return "resign_once";
    }
    return "?";
}

/// Every code spec §5 lists (request level and verdicts), independent of the code's own tables.
const int spec_api_codes[] = {3,     4,     5,     6,     9,     10,    11,    12,    13,    14,    15,    16,
                              21,    23,    24,    107,   108,   213,   -4006, -4007, -4009, -4010, -4011, -4012,
                              -4015, -4016, -4017, -4018, -5001, -5002, -5005, -5007, -5008, -5009, -5010, -5011,
                              -5012, -5013, -5014, -5015, -5016, -5801, -5802, -5803, -5804, -5805};

bool has_message(int api_code) { return livefour::api_message(api_code).rfind("unknown API code", 0) != 0; }

std::string read_doc() {
    std::ifstream f(errors_md());
    REQUIRE_MESSAGE(f.good(), "cannot read ", errors_md().string());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("docs/errors.md: the API code tables match api_message(), condition_of() and the retry defaults") {
    const std::string doc = read_doc();
    const auto rows = rows_of(doc, "api");
    REQUIRE(rows.size() >= std::size(spec_api_codes));

    const livefour::retry_policy defaults;
    std::set<int> documented;
    std::set<std::string> named;
    for (const auto& row : rows) {
        REQUIRE(row.size() == 5);
        const int code = to_int(row[0]);
        CAPTURE(code);
        CHECK_MESSAGE(documented.insert(code).second, "duplicate row");
        const error_code ec = livefour::make_api_error(code);
        CHECK(row[2] == livefour::api_message(code));
        CHECK(row[2] == ec.message());
        CHECK(has_message(code));
        CHECK(row[3] == condition_name(ec));
        const bool by_default = std::count(defaults.retryable_codes.begin(), defaults.retryable_codes.end(), code) > 0;
        CHECK(row[4] == yes_no(by_default));
        CHECK(row[4] == yes_no(livefour::is_retryable(ec)));
        CHECK(row[4] == retry_loop(ec));
        if (row[1] == "—") {
            for (const auto& [name, value] : api_enumerators)
                CHECK_MESSAGE(value != code, "enumerator ", name, " not named");
        } else {
            const auto it = api_enumerators.find(row[1]);
            REQUIRE_MESSAGE(it != api_enumerators.end(), "unknown enumerator ", row[1]);
            CHECK(it->second == code);
            named.insert(row[1]);
        }
    }
    for (int code : spec_api_codes) CHECK_MESSAGE(documented.count(code) == 1, "spec §5 code ", code, " has no row");
    for (int code = -100000; code <= 100000; ++code)
        if (has_message(code)) CHECK_MESSAGE(documented.count(code) == 1, "code ", code, " has a message but no row");
    for (const auto& [name, value] : api_enumerators) CHECK_MESSAGE(named.count(name) == 1, name, " has no row");
}

TEST_CASE("docs/errors.md: the client code table covers every client_error with its message and retry behaviour") {
    const std::string doc = read_doc();
    const auto rows = rows_of(doc, "client");
    std::set<int> documented;
    for (const auto& row : rows) {
        REQUIRE(row.size() == 6);
        const int value = to_int(row[0]);
        CAPTURE(value);
        CHECK_MESSAGE(documented.insert(value).second, "duplicate row");
        const auto it = client_enumerators.find(row[1]);
        REQUIRE_MESSAGE(it != client_enumerators.end(), "unknown enumerator ", row[1]);
        CHECK(static_cast<int>(it->second) == value);
        const error_code ec = livefour::make_error_code(it->second);
        CHECK(row[2] == ec.message());
        CHECK(row[3] == condition_name(ec));
        CHECK(row[4] == yes_no(livefour::is_retryable(ec)));
        CHECK(row[5] == retry_loop(ec));
    }
    for (const auto& [name, e] : client_enumerators)
        CHECK_MESSAGE(documented.count(static_cast<int>(e)) == 1, name, " has no row");
    // A new enumerator gets a row in src/classify.cpp (checked in order at compile time): it must also get a row here.
    for (int v = 0; v < 1000; ++v) {
        const error_code ec(v, livefour::client_category());
        if (ec.message().rfind("unknown client error", 0) == 0) continue;
        CHECK_MESSAGE(documented.count(v) == 1, "client_error value ", v, " (", ec.message(), ") has no row");
    }
}

TEST_CASE("docs/errors.md: the Asio/Beast table matches the classification") {
    namespace ae = boost::asio::error;
    namespace http = boost::beast::http;
    const std::map<std::string, error_code> known = {
        {"asio::error::operation_aborted", ae::operation_aborted},
        {"asio::error::connection_refused", ae::connection_refused},
        {"asio::error::host_unreachable", ae::host_unreachable},
        {"asio::error::network_unreachable", ae::network_unreachable},
        {"asio::error::host_not_found_try_again", ae::host_not_found_try_again},
        {"asio::error::host_not_found", ae::host_not_found},
        {"asio::error::connection_reset", ae::connection_reset},
        {"asio::error::connection_aborted", ae::connection_aborted},
        {"asio::error::broken_pipe", ae::broken_pipe},
        {"asio::error::eof", ae::eof},
        {"asio::error::timed_out", ae::timed_out},
        {"asio::error::network_down", ae::network_down},
        {"asio::error::network_reset", ae::network_reset},
        {"asio::ssl::error::stream_truncated", boost::asio::ssl::error::stream_truncated},
        {"beast::error::timeout", boost::beast::error::timeout},
        {"beast::http::error::end_of_stream", http::error::end_of_stream},
        {"beast::http::error::partial_message", http::error::partial_message},
        {"beast::http::error::bad_version", http::error::bad_version},
    };
    const auto rows = rows_of(read_doc(), "foreign");
    std::set<std::string> documented;
    for (const auto& row : rows) {
        REQUIRE(row.size() == 4);
        CAPTURE(row[0]);
        const auto it = known.find(row[0]);
        REQUIRE_MESSAGE(it != known.end(), "the test does not know ", row[0]);
        documented.insert(row[0]);
        CHECK(row[1] == condition_name(it->second));
        CHECK(row[2] == yes_no(livefour::is_retryable(it->second)));
        CHECK(row[3] == retry_loop(it->second));
    }
    CHECK(documented.size() == known.size());
}

TEST_CASE("docs/errors.md: the condition table matches the condition category") {
    const std::map<std::string, livefour::condition> names = {
        {"auth", livefour::condition::auth},
        {"rate_limit", livefour::condition::rate_limit},
        {"bad_request", livefour::condition::bad_request},
        {"server", livefour::condition::server},
        {"verdict", livefour::condition::verdict},
        {"identity", livefour::condition::identity},
        {"transport", livefour::condition::transport},
    };
    const auto rows = rows_of(read_doc(), "condition");
    CHECK(rows.size() == names.size());
    for (const auto& row : rows) {
        REQUIRE(row.size() == 3);
        CAPTURE(row[1]);
        const auto it = names.find(row[1]);
        REQUIRE(it != names.end());
        CHECK(to_int(row[0]) == static_cast<int>(it->second));
        CHECK(row[2] == livefour::condition_category().message(static_cast<int>(it->second)));
    }
}

TEST_CASE("docs/errors.md: the faceid table matches faceid::info(), row for row") {
    namespace fe = livefour::faceid;
    const auto rows = rows_of(read_doc(), "faceid");
    std::set<std::string> documented;
    for (const auto& row : rows) {
        REQUIRE(row.size() == 7);
        CAPTURE(row[0]);
        CHECK_MESSAGE(documented.insert(row[0]).second, "duplicate row");
        const auto it = faceid_enumerators.find(row[1]);
        REQUIRE_MESSAGE(it != faceid_enumerators.end(), "unknown enumerator ", row[1]);
        const auto& info = fe::info(it->second);
        CHECK(info.code == it->second);
        CHECK(row[0] == info.wire);
        CHECK(fe::error_for(row[0]) == it->second);
        CHECK(row[2] == info.message);
        CHECK(row[2] == fe::make_error_code(it->second).message());
        CHECK(row[3] == condition_name(fe::make_error_code(it->second)));
        CHECK(row[4] == retry_class_name(info.retry));
        CHECK(row[5] == yes_no(info.billed));
        CHECK_MESSAGE(!row[6].empty(), "every code says why it is or is not retried");
    }
    CHECK(faceid_enumerators.size() == fe::codes().size());
    for (const auto& row : fe::codes())
        CHECK_MESSAGE(documented.count(std::string(row.wire)) == 1, row.wire, " has no row in docs/errors.md");
}

TEST_CASE("docs/errors.md checker: it notices a wrong row") {
    // The parser must not silently skip what it cannot read: a doctored table yields rows that
    // the checks above would reject.
    const std::string doc =
        "<!-- generated-table: client -->\n"
        "| Value | Enumerator | Message | Condition | is_retryable | loop |\n"
        "|---:|---|---|---|---|---|\n"
        "| 19 | `stall_timeout` | `a wrong message` | transport | no | yes |\n"
        "\nafter the table\n| 1 | not | a | marked | table | row |\n";
    const auto rows = rows_of(doc, "client");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][1] == "stall_timeout");
    CHECK(rows[0][2] != livefour::make_error_code(client_error::stall_timeout).message());
    CHECK(rows[0][4] != yes_no(livefour::is_retryable(client_error::stall_timeout)));
    CHECK(rows[0][5] != retry_loop(client_error::stall_timeout));
}
