// The legacy API as operation values (legacy_backend.hpp).
#include "legacy_backend.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <string_view>
#include <type_traits>

namespace livefour::detail::legacy {

namespace {

bool has_control_chars(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

/// What every legacy request has: a POST to `path` that accepts JSON, signed by `sig`.
void describe(operation& op, const std::shared_ptr<signature>& sig, std::string_view path, bool idempotent) {
    op.request.path = path;
    op.request.name = path.substr(path.rfind('/') + 1);  // static: a literal of this file
    op.request.headers.push_back({"Accept", "application/json"});
    op.request.idempotent = idempotent;
    op.signer = sig;
}

/// livedetectfour and idcardlivedetectfour share everything but their fields.
template <class Request>
error_code build_detect(const std::shared_ptr<signature>& sig, const engine_config& cfg, Request req, operation& op,
                        detect_result& out, diagnostics& diag, std::string_view path) {
    auto fail = [&](error_code ec, std::string why) {
        diag.set_client_message(std::move(why));
        return ec;
    };
    if (req.validate_data.empty()) return fail(client_error::invalid_argument, "validate_data is empty");

    auto form = std::make_shared<multipart_form>();
    form->add_field("appid", sig->appid());
    form->add_field("validate_data", req.validate_data);
    if constexpr (std::is_same_v<Request, detect_request>) {
        form->add_field("compare_flag", req.card ? "true" : "false");
    } else {
        if (req.idcard_number.empty() || req.idcard_name.empty())
            return fail(client_error::invalid_argument, "idcard_number and idcard_name are required");
        form->add_field("idcard_number", req.idcard_number);
        form->add_field("idcard_name", req.idcard_name);
    }
    if (req.seq) form->add_field("seq", *req.seq);
    form->add_file("video", req.video);
    if constexpr (std::is_same_v<Request, detect_request>) {
        if (req.card) form->add_file("card", *req.card);
    }
    form->write_buffer_size = cfg.write_buffer_size;
    form->max_body_bytes = cfg.max_upload_bytes;  // stops an unsized source that runs long

    static constexpr std::array<std::string_view, 1> video_part{"video"};
    describe(op, sig, path, /*idempotent=*/false);  // billed
    op.request.body = make_multipart_encoding(std::move(form), video_part);
    op.request.on_progress = std::move(req.on_progress);
    op.parse = [&out](const reply& r, diagnostics& d) { return parse_detect_response(r.body, r.status, out, d); };
    return {};
}

}  // namespace

error_code signature::sign(const request_description&, const signing_context&, std::vector<header_field>& out,
                           diagnostics&) {
    out.push_back({"Authorization", signer_.authorization()});
    return {};
}

error_code get_digits(const std::shared_ptr<signature>& sig, digits_request req, operation& op, digits_result& out,
                      diagnostics& diag) {
    if (req.seq && has_control_chars(*req.seq)) {
        diag.set_client_message("seq contains control characters");
        return client_error::invalid_field;
    }
    boost::json::object body;
    body["appid"] = sig->appid();
    if (req.seq) body["seq"] = *req.seq;
    describe(op, sig, "/face/livegetfour", /*idempotent=*/true);  // free
    op.request.body = make_memory_encoding(boost::json::serialize(body), "application/json");
    op.parse = [&out](const reply& r, diagnostics& d) { return parse_digits_response(r.body, r.status, out, d); };
    return {};
}

error_code detect(const std::shared_ptr<signature>& sig, const engine_config& cfg, detect_request req, operation& op,
                  detect_result& out, diagnostics& diag) {
    return build_detect(sig, cfg, std::move(req), op, out, diag, "/face/livedetectfour");
}

error_code idcard_detect(const std::shared_ptr<signature>& sig, const engine_config& cfg, idcard_detect_request req,
                         operation& op, detect_result& out, diagnostics& diag) {
    return build_detect(sig, cfg, std::move(req), op, out, diag, "/face/idcardlivedetectfour");
}

}  // namespace livefour::detail::legacy
