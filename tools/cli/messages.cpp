// livefour CLI — failures and verdicts in the CLI's language.
#include "messages.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <livefour/faceid/error.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace livefour::cli {
namespace {

using livefour::client_error;

bool is_client(const error_code& ec, client_error e) { return ec == make_error_code(e); }

/// The headline of a top-level API code. Code 3's library message always carries the arrears
/// reading of "account abnormal,errorno is:2"; here it is given only when the server said so.
std::string api_headline(int code) { return code == 3 ? std::string("bad request") : livefour::api_message(code); }

std::string api_hint(int code, const std::string& server_message) {
    if (code == 3 && server_message.find("account abnormal") != std::string::npos)
        return "the service's \"account abnormal,errorno is:2\" means the account is in arrears";
    if (code == 9) return "signatures are made from this machine's clock: check that it is right";
    return {};
}

/// A faceid `Response.Error`, by its wire code: "RequestLimitExceeded: request rate limit
/// exceeded" (the message of livefour's table, or of the code's family for a code it does not
/// know).
std::string faceid_headline(const std::string& server_code) {
    if (server_code.empty()) return "the service refused the call";
    return server_code + ": " + std::string(faceid::classify(server_code).message);
}

/// What to try for a faceid error code, only where its condition holds.
std::string faceid_hint(const std::string& code, const settings& cfg) {
    const auto& f = cfg.faceid_options;
    if (code == "AuthFailure.SignatureExpire")
        return "signatures carry this machine's clock, which the service allows 5 minutes off: check that it is right";
    if (code == "AuthFailure.SignatureFailure" && f.unsigned_payload)
        return "whether the service accepts --unsigned-payload is not documented: try without it";
    if (code == "AuthFailure.SignatureFailure") return "check the SecretKey (" + cfg.secret_key_source + ")";
    if ((code == "AuthFailure.SecretIdNotFound" || code == "AuthFailure.InvalidSecretId"))
        return "check the SecretId (" + cfg.secret_id_source + ")";
    if (code == "AuthFailure.TokenFailure" && !cfg.token_source.empty())
        return "a session token was sent (" + cfg.token_source +
               "): it must belong to these temporary credentials, and long-term keys take none";
    if (code == "AuthFailure.TokenFailure")
        return "temporary credentials need their session token (TENCENTCLOUD_SESSION_TOKEN, or token= in "
               "--credentials)";
    return {};
}

}  // namespace

std::string number_text(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return r.ec == std::errc{} ? std::string(buf, r.ptr) : std::to_string(v);
}

int exit_for(const error_code& ec, bool code_answered) {
    if (!ec) return accepted;
    if (ec.category() == livefour::api_category() || ec.category() == livefour::faceid::category()) return api_code;
    // The retries ran out while the service kept answering a retryable code (15, 107, 108;
    // faceid's RequestLimitExceeded, InternalError, ...): it answered, and the reply is printed.
    if (is_client(ec, client_error::retries_exhausted) && code_answered) return api_code;
    // Input the library refused before sending: the same class as the CLI's own checks.
    if (ec.category() == livefour::client_category() &&
        (ec == livefour::condition::bad_request || is_client(ec, client_error::missing_credentials)))
        return usage;
    return no_answer;
}

std::string cli_terms(std::string text) {
    // Longest names first, so that "client_options::max_upload_bytes" is not half replaced.
    static const std::pair<std::string_view, std::string_view> terms[] = {
        {"client_options::allow_insecure_http", "--insecure-http"},
        {"client_options::max_upload_bytes", "--max-upload-bytes"},
        {"client_options::max_response_bytes", "the 4 MiB response limit"},
        {"timeouts::handshake", "the 10 s TLS handshake bound"},
        {"timeouts::connect", "--connect-timeout"},
        {"timeouts::deadline", "--deadline"},
        {"timeouts::stall", "--stall-timeout"},
        {"max_upload_bytes", "--max-upload-bytes"},
        {"allow_insecure_http", "--insecure-http"},
        {"livefour::signer: ", ""},
        {"part 'validate_data'", "--validate-data"},
        {"part 'video'", "--video"},
        {"part 'card'", "--card"},
        {"validate_data contains", "--validate-data contains"},
        {"validate_data is empty", "--validate-data is empty"},
        {"best_frames must", "--best-frames must"},
        {"id_card is empty", "--id-card is empty"},
    };
    for (const auto& [from, to] : terms)
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
            text.replace(at, from.size(), to);
    return text;
}

error_info describe_usage(const std::string& message) {
    error_info e;
    e.kind = "usage";
    e.category = "usage";
    e.value = usage;
    e.headline = message;
    return e;
}

error_info describe_failure(const error_code& ec, const diagnostics& diag, const failure_context& ctx) {
    error_info e;
    const bool faceid_code = !diag.server_code().empty();  // the last reply was a Response.Error
    const int status = exit_for(ec, ctx.reply_code != 0 || faceid_code);
    e.kind = status == api_code ? "api" : status == usage ? "usage" : "transport";
    e.category = ec.category().name();
    e.value = ec.value();
    e.http_status = diag.http_status();
    e.server_message = diag.server_message();
    e.server_code = diag.server_code();
    e.request_id = diag.request_id();
    e.detail = cli_terms(diag.client_message());
    const auto& t = ctx.cfg.connection().timeout;
    const std::string request_id = e.request_id.empty() ? "" : " (RequestId " + e.request_id + ")";

    if (ec.category() == livefour::api_category()) {
        e.headline = api_headline(ec.value());
        e.hint = api_hint(ec.value(), e.server_message);
        e.detail.clear();  // "HTTP 200: API error 14: ..." repeats the headline
    } else if (ec.category() == livefour::faceid::category()) {
        e.headline = faceid_headline(e.server_code) + request_id;
        e.hint = faceid_hint(e.server_code, ctx.cfg);
        e.detail.clear();
    } else if (is_client(ec, client_error::retries_exhausted)) {
        const std::string attempts = ", still after " + std::to_string(diag.attempts()) + " attempts";
        if (ctx.reply_code != 0) {
            // The service kept answering a retryable code: that code is the news, and the status.
            e.headline = api_headline(ctx.reply_code) + attempts;
            e.category = livefour::api_category().name();
            e.value = ctx.reply_code;
            e.hint = api_hint(ctx.reply_code, e.server_message);
            e.detail.clear();
        } else if (faceid_code) {
            e.headline = faceid_headline(e.server_code) + attempts + request_id;
            e.category = livefour::faceid::category().name();
            e.value = static_cast<int>(faceid::error_for(e.server_code));
            e.hint = faceid_hint(e.server_code, ctx.cfg);
            e.detail.clear();
        } else {
            e.headline = "no answer after " + std::to_string(diag.attempts()) + " attempts";
        }
    } else if (is_client(ec, client_error::deadline_exceeded)) {
        e.headline = "the operation took longer than --deadline (" + seconds_text(t.deadline) + ")";
        e.detail.clear();
    } else if (is_client(ec, client_error::stall_timeout)) {
        e.headline = "no progress for --stall-timeout (" + seconds_text(t.stall) + ")";
    } else if (is_client(ec, client_error::connect_timeout) || is_client(ec, client_error::resolve_timeout)) {
        e.headline = std::string(is_client(ec, client_error::resolve_timeout) ? "resolving the host" : "connecting") +
                     " took longer than --connect-timeout (" + seconds_text(t.connect) + ")";
    } else if (is_client(ec, client_error::upload_too_large) && ctx.cfg.faceid()) {
        // API 3.0 caps a TC3-signed body at 10 MB, and each medium on its own at 8 MB (video) and
        // 3 MB (image) of base64: both near their maxima cannot go in one request.
        e.headline = "--video " + printable(ctx.cfg.video, 200) + " and --image " + printable(ctx.cfg.image, 200) +
                     " together make a body over API 3.0's 10 MB limit (8 MB of video and 3 MB of image do not "
                     "fit in one request); nothing was sent";
        e.detail.clear();
    } else if (is_client(ec, client_error::upload_too_large)) {
        e.headline = "the request body is larger than --max-upload-bytes (" +
                     std::to_string(ctx.cfg.options.max_upload_bytes) + ")";
    } else if (is_client(ec, client_error::video_too_large)) {
        e.headline = "--video " + printable(ctx.cfg.video, 200) +
                     ": too large: its base64 would be over API 3.0's 8 MB limit (VideoBase64); nothing was sent";
        e.detail.clear();
    } else if (is_client(ec, client_error::image_too_large)) {
        e.headline = "--image " + printable(ctx.cfg.image, 200) +
                     ": too large: its base64 would be over API 3.0's 3 MB limit (ImageBase64); nothing was sent";
        e.detail.clear();
    } else if (is_client(ec, client_error::empty_source)) {
        // The CLI refuses empty files itself; this is a file emptied after that check.
        e.headline = "--video or --image became empty (0 bytes) before it was sent; nothing was sent";
    } else {
        e.headline = cli_terms(ec.message());
    }

    // Hints, each only where its condition holds.
    const bool tls_trust =
        is_client(ec, client_error::tls_untrusted_certificate) || is_client(ec, client_error::tls_verification_failed);
    if (tls_trust && ctx.cfg.connection().tls.ca_file.empty())
        e.hint =
            "the server's certificate does not lead to a CA of the system trust store; for a test server, "
            "pass its CA with --ca-file";
    else if (tls_trust)
        e.hint = "the server's certificate does not lead to a CA in " + ctx.cfg.ca_source + " " +
                 ctx.cfg.connection().tls.ca_file;
    // A plain-HTTP server answering a TLS handshake: every attempt (the retried ones, and the last
    // unless the retries ran out, when only the retried ones are known) said so.
    auto plain_http = [](const error_code& x) {
        return x.category() == boost::asio::error::get_ssl_category() &&
               ERR_GET_REASON(static_cast<unsigned long>(x.value())) == SSL_R_WRONG_VERSION_NUMBER;
    };
    const bool exhausted = is_client(ec, client_error::retries_exhausted);
    if ((exhausted ? !diag.retries().empty() : plain_http(ec)) &&
        std::all_of(diag.retries().begin(), diag.retries().end(), [&](const auto& r) { return plain_http(r.error); }))
        e.hint = "the server does not speak TLS on this port; for a plain-HTTP server use http:// and --insecure-http";
    // Through a proxy the user may not know they use (an inherited HTTPS_PROXY): name its source.
    const bool proxy_failed = ec.category() == livefour::client_category() &&
                              ec.value() >= static_cast<int>(client_error::proxy_unreachable) &&
                              ec.value() <= static_cast<int>(client_error::proxy_bad_response);
    if (proxy_failed)
        e.hint = "the proxy comes from " + ctx.cfg.proxy_source +
                 (is_client(ec, client_error::proxy_auth_required) ? " (check the user:password in it)" : "") +
                 "; --proxy '' connects directly";
    // A reply lost after the whole body went out: the one failure that may still have been billed.
    const bool lost_reply = is_client(ec, client_error::connection_closed) ||
                            is_client(ec, client_error::stall_timeout) ||
                            (ec.category() != livefour::client_category() && ec == livefour::condition::transport);
    if (ctx.billed && ctx.body_fully_sent && lost_reply && diag.http_status() == 0)
        e.hint = "the request was sent in full (" + std::to_string(ctx.body_bytes) +
                 " bytes) and got no reply: the service may have processed and billed it, so it is not resent";
    return e;
}

const char* kind_name(verdict_kind k) {
    switch (k) {
    case verdict_kind::accepted: return "accepted";
    case verdict_kind::api_error: return "api_error";
    case verdict_kind::not_live: return "not_live";
    case verdict_kind::compare_failed: return "compare_failed";
    case verdict_kind::below_threshold: return "below_threshold";
    case verdict_kind::no_comparison: return "no_comparison";
    }
    return "unknown";
}

std::string verdict_text(const verdict& v, const detect_result& r, int threshold, const std::string& what_compared) {
    const std::string sim = std::to_string(v.sim), thr = std::to_string(threshold);
    switch (v.kind) {
    case verdict_kind::accepted:
        return v.sim >= 0 ? "accepted (sim " + sim + " >= threshold " + thr + ")" : "accepted (liveness only)";
    case verdict_kind::api_error: return "not accepted: the service answered code " + std::to_string(r.code);
    case verdict_kind::not_live:
        if (!r.live_status) return "not accepted: the reply has no live_status";
        return "not accepted: " + livefour::api_message(*r.live_status) + " (live_status " +
               std::to_string(*r.live_status) + ")";
    case verdict_kind::compare_failed:
        if (r.compare_status && *r.compare_status != 0)
            return "not accepted: " + livefour::api_message(*r.compare_status) + " (compare_status " +
                   std::to_string(*r.compare_status) + ")";
        return "not accepted: the comparison succeeded but the reply has no sim";
    case verdict_kind::below_threshold: return "not accepted: sim " + sim + " < threshold " + thr;
    case verdict_kind::no_comparison:
        return "not accepted: the reply has no comparison (no compare_status) although " + what_compared;
    }
    return "not accepted";
}

std::string verdict_text(const faceid::verdict& v, const faceid::liveness_result& r, int threshold) {
    const std::string sim = number_text(v.sim), thr = std::to_string(threshold);
    const std::string result = "Result " + (r.result.empty() ? std::string("(none)") : r.result);
    switch (v.kind) {
    case verdict_kind::accepted: return "accepted (sim " + sim + " >= threshold " + thr + ")";
    case verdict_kind::below_threshold: return "not accepted: sim " + sim + " < threshold " + thr + " (" + result + ")";
    case verdict_kind::no_comparison: return "not accepted: the reply has no Sim (" + result + ")";
    case verdict_kind::not_live:
    case verdict_kind::compare_failed:
    case verdict_kind::api_error:
        // The Result's meaning from livefour's table (its family's for a code it does not know);
        // the service's own Description is in the reply.
        return "not accepted: " + std::string(faceid::classify(r.result).message) + " (" + result +
               (r.sim ? ", sim " + number_text(*r.sim) : std::string()) + ")";
    }
    return "not accepted (" + result + ")";
}

}  // namespace livefour::cli
