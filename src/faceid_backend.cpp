// API 3.0 `faceid` as operation values (faceid_backend.hpp).
#include "faceid_backend.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <string>

namespace livefour::detail::faceid_api {

namespace {

std::string_view liveness_name(faceid::liveness_type t) noexcept {
    switch (t) {
    case faceid::liveness_type::lip: return "LIP";
    case faceid::liveness_type::action: return "ACTION";
    case faceid::liveness_type::silent: return "SILENT";
    }
    return "LIP";
}

bool has_control_chars(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

/// Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF): a Name that is not would make
/// the JSON body invalid.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size()) return false;  // the continuation bytes must all be there
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

void describe(operation& op, const context& c, std::string_view action, bool idempotent) {
    op.request.path = "/";
    op.request.name = action;  // static: a literal of this file
    op.request.headers = c.common;
    op.request.headers.push_back({"X-TC-Action", std::string(action)});
    op.request.idempotent = idempotent;
    op.signer = c.sig;
}

/// A refused timestamp teaches the signer the service's clock before the retry (resign_once).
template <class Result, class Parse>
std::function<error_code(const reply&, diagnostics&)> parser(const context& c, Result& out, Parse parse) {
    return [sig = c.sig, &out, parse](const reply& r, diagnostics& d) {
        const auto ec = parse(r.body, r.status, out, d);
        if (ec == faceid::errc::auth_failure_signature_expire) {
            if (const auto by = sig->learn_clock(r.server_time))
                d.set_client_message("the signature's timestamp was refused: this clock is " +
                                     std::to_string(by > 0 ? by : -by) + " s " + (by > 0 ? "behind" : "ahead of") +
                                     " the service's; corrected for the next attempt");
            else
                d.set_client_message("the signature's timestamp was refused (clock skew); the reply had no Date");
        }
        return ec;
    };
}

/// LivenessType, ValidateData and Optional, checked: shared by compare and recognize.
error_code liveness_members(faceid::liveness_type liveness, const std::string& validate_data,
                            const std::optional<int>& best_frames, std::vector<json_member>& m, diagnostics& diag) {
    if (has_control_chars(validate_data)) {
        diag.set_client_message("validate_data contains control characters");
        return client_error::invalid_field;
    }
    if (liveness != faceid::liveness_type::silent && validate_data.empty()) {
        diag.set_client_message("validate_data is empty: LIP needs the live code, ACTION the action sequence");
        return client_error::invalid_argument;
    }
    m.push_back({"LivenessType", std::string(liveness_name(liveness))});
    if (!validate_data.empty()) m.push_back({"ValidateData", validate_data});
    if (best_frames) {
        if (*best_frames < 2 || *best_frames > 10) {
            diag.set_client_message("best_frames must be 2..10 (Optional.BestFrameNum)");
            return client_error::invalid_argument;
        }
        // `Optional` is a JSON document inside a JSON string (api3.md §3.2).
        m.push_back({"Optional", "{\"BestFrameNum\":" + std::to_string(*best_frames) + "}"});
    }
    return {};
}

json_member source_member(std::string name, body_source src, std::uint64_t max, client_error too_large) {
    json_member m;
    m.name = std::move(name);
    m.source = std::move(src);
    m.max_base64 = max;
    m.too_large = too_large;
    return m;
}

}  // namespace

tc3_signature::tc3_signature(const faceid::client_options& o)
    : creds_(o.creds), provider_(o.provider), clock_(o.clock), unsigned_payload_(o.unsigned_payload) {}

std::int64_t tc3_signature::local_now() const {
    if (clock_) return clock_();
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t tc3_signature::learn_clock(std::int64_t server_time) {
    if (server_time <= 0) return 0;
    const auto by = server_time - local_now();
    offset_.store(by, std::memory_order_relaxed);
    return by;
}

error_code tc3_signature::sign(const request_description&, const signing_context& ctx, std::vector<header_field>& out,
                               diagnostics& diag) {
    const faceid::credentials fetched = provider_ ? provider_() : faceid::credentials{};
    const faceid::credentials& c = provider_ ? fetched : creds_;
    if (c.secret_id.empty() || c.secret_key.empty()) {
        diag.set_client_message(provider_ ? "the credentials provider returned an empty secret_id or secret_key"
                                          : "secret_id or secret_key is empty");
        return client_error::missing_credentials;
    }
    const std::int64_t now = local_now() + offset_.load(std::memory_order_relaxed);
    const tc3::header signed_headers[] = {{"content-type", ctx.content_type}, {"host", ctx.host}};
    tc3::sign_input in;
    in.method = ctx.method;
    in.headers = signed_headers;
    in.payload_hash = unsigned_payload_ ? tc3::unsigned_payload : ctx.payload_sha256;
    in.secret_id = c.secret_id;
    in.secret_key = c.secret_key.reveal();
    in.service = service;
    in.timestamp = now;
    try {
        out.push_back({"Authorization", keys_.authorization(in)});
    } catch (const std::exception&) {
        // Only what cannot be canonicalised (a CR/LF in a header) throws: ours never do.
        diag.set_client_message("cannot sign the request (a header cannot be canonicalised)");
        return client_error::invalid_field;
    }
    out.push_back({"X-TC-Timestamp", tc3::timestamp_text(now)});
    if (!c.token.empty()) out.push_back({"X-TC-Token", std::string(c.token.reveal())});
    return {};
}

error_code get_live_code(const context& c, operation& op, faceid::live_code_result& out, diagnostics&) {
    describe(op, c, "GetLiveCode", /*idempotent=*/true);
    op.request.body = make_memory_encoding("{}", "application/json");
    op.parse = parser(c, out, faceid::parse_live_code_response);
    return {};
}

error_code get_action_sequence(const context& c, faceid::action_sequence_request req, operation& op,
                               faceid::action_sequence_result& out, diagnostics& diag) {
    if (has_control_chars(req.action_type)) {
        diag.set_client_message("action_type contains control characters");
        return client_error::invalid_field;
    }
    boost::json::object body;
    if (!req.action_type.empty()) body["ActionType"] = req.action_type;
    describe(op, c, "GetActionSequence", /*idempotent=*/true);
    op.request.body = make_memory_encoding(boost::json::serialize(body), "application/json");
    op.parse = parser(c, out, faceid::parse_action_sequence_response);
    return {};
}

error_code compare(const context& c, faceid::compare_request req, operation& op, faceid::liveness_result& out,
                   diagnostics& diag) {
    std::vector<json_member> m;
    if (auto ec = liveness_members(req.liveness, req.validate_data, req.best_frames, m, diag)) return ec;
    m.push_back(source_member("ImageBase64", std::move(req.image), max_image_base64, client_error::image_too_large));
    m.push_back(source_member("VideoBase64", std::move(req.video), max_video_base64, client_error::video_too_large));
    describe(op, c, "LivenessCompare", /*idempotent=*/false);  // billed
    op.request.body = make_json_base64_encoding(std::move(m), c.write_buffer_size);
    op.request.on_progress = std::move(req.on_progress);
    op.parse = parser(c, out, faceid::parse_liveness_response);
    return {};
}

error_code recognize(const context& c, faceid::recognition_request req, operation& op, faceid::liveness_result& out,
                     diagnostics& diag) {
    if (req.id_card.empty() || has_control_chars(req.id_card)) {
        diag.set_client_message("id_card is empty or contains control characters");
        return req.id_card.empty() ? error_code(client_error::invalid_argument)
                                   : error_code(client_error::invalid_field);
    }
    if (req.name.empty() || has_control_chars(req.name) || !valid_utf8(req.name)) {
        diag.set_client_message("name must be non-empty UTF-8 without control characters");
        return req.name.empty() ? error_code(client_error::invalid_argument) : error_code(client_error::invalid_field);
    }
    std::vector<json_member> m;
    m.push_back({"IdCard", req.id_card});
    m.push_back({"Name", req.name});
    if (auto ec = liveness_members(req.liveness, req.validate_data, req.best_frames, m, diag)) return ec;
    m.push_back(source_member("VideoBase64", std::move(req.video), max_video_base64, client_error::video_too_large));
    describe(op, c, "LivenessRecognition", /*idempotent=*/false);  // billed
    op.request.body = make_json_base64_encoding(std::move(m), c.write_buffer_size);
    op.request.on_progress = std::move(req.on_progress);
    op.parse = parser(c, out, faceid::parse_liveness_response);
    return {};
}

}  // namespace livefour::detail::faceid_api
