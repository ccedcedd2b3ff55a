// API 3.0 replies: the `Response` envelope, its fields, and decide() (faceid/types.hpp).
#include <livefour/detail/crypto.hpp>
#include <livefour/faceid/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cmath>

namespace livefour::faceid {

namespace {

namespace json = boost::json;

error_code malformed(diagnostics& diag, int status, std::string why) {
    diag.set_client_message((status ? "HTTP " + std::to_string(status) + ": " : std::string()) + why);
    return client_error::malformed_response;
}

/// A printable, single-line excerpt of an untrusted body for diagnostics.
std::string excerpt(std::string_view body) {
    std::string out;
    for (unsigned char c : body) {
        if (out.size() >= 200) {
            out += "...";
            break;
        }
        out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : ' ';
    }
    return out;
}

/// Reads `Response` whatever the HTTP status (errors come with 200; a proxy's page may not be
/// JSON at all). On success `resp` points at the object; on `Response.Error` the code is returned
/// as a faceid::errc (also for codes this version does not know: errc::unknown, the string in
/// diag.server_code()).
error_code read_envelope(std::string_view body, int status, diagnostics& diag, const json::object*& resp,
                         json::value& storage) {
    diag.set_http_status(status);
    boost::system::error_code jec;
    storage = json::parse(body, jec);
    if (jec || !storage.is_object()) {
        diag.set_server_message(excerpt(body));
        diag.set_client_message((status ? "HTTP " + std::to_string(status) + ": " : std::string()) +
                                "the reply is not a JSON object");
        return client_error::non_json_response;
    }
    const auto* r = storage.get_object().if_contains("Response");
    if (!r || !r->is_object()) return malformed(diag, status, "the reply has no \"Response\" object");
    resp = &r->get_object();
    if (const auto* id = resp->if_contains("RequestId"); id && id->is_string())
        diag.set_request_id(std::string(id->get_string()));
    if (const auto* e = resp->if_contains("Error")) {
        if (!e->is_object()) return malformed(diag, status, "\"Error\" is not an object");
        const auto* code = e->get_object().if_contains("Code");
        if (!code || !code->is_string() || code->get_string().empty())
            return malformed(diag, status, "\"Error\" has no \"Code\" string");
        const std::string_view wire(code->get_string());
        diag.set_server_code(std::string(wire));
        if (const auto* m = e->get_object().if_contains("Message"); m && m->is_string())
            diag.set_server_message(excerpt(m->get_string()));
        // A code this version does not know takes its family's enumerator (RequestLimitExceeded
        // for RequestLimitExceeded.NewLimit: throttled alike), else errc::unknown; the exact string
        // stays in server_code().
        const errc known = classify(wire).code;
        const error_code ec = make_error_code(known == errc{} ? errc::unknown : known);
        diag.set_client_message("the service refused the call: " + std::string(wire));
        return ec;
    }
    if (status != 200) return malformed(diag, status, "a reply without \"Error\" but not HTTP 200");
    return {};
}

bool read_string(const json::object& o, std::string_view key, std::string& out, bool required, diagnostics& diag,
                 int status, error_code& ec) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) {
        if (required) ec = malformed(diag, status, "\"" + std::string(key) + "\" is missing");
        return !required;
    }
    if (!v->is_string()) {
        ec = malformed(diag, status, "\"" + std::string(key) + "\" is not a string");
        return false;
    }
    out = std::string(v->get_string());
    return true;
}

}  // namespace

errc liveness_result::outcome() const noexcept {
    if (result == "Success") return errc{};
    const errc e = error_for(result);
    return e == errc{} ? errc::unknown : e;
}

std::optional<std::string> liveness_result::decode_best_frame() const {
    if (best_frame_base64.empty()) return std::nullopt;
    return livefour::detail::base64_decode(best_frame_base64);
}

verdict decide(const liveness_result& r, decision_policy policy) {
    verdict v;
    if (r.sim) v.sim = *r.sim;
    const errc outcome = r.outcome();
    if (outcome != errc{}) {
        const std::string_view w = r.result;
        auto starts = [&](std::string_view p) { return w.rfind(p, 0) == 0; };
        const bool comparison = starts("FailedOperation.LifePhoto") || starts("FailedOperation.Compare") ||
                                starts("FailedOperation.Id") || starts("FailedOperation.Name");
        v.kind = comparison ? verdict_kind::compare_failed : verdict_kind::not_live;
        v.reason = make_error_code(outcome);
        return v;
    }
    if (!r.sim) {
        v.kind = verdict_kind::no_comparison;
        v.reason = client_error::comparison_missing;
        return v;
    }
    if (*r.sim < policy.threshold) {
        v.kind = verdict_kind::below_threshold;
        v.reason = client_error::similarity_below_threshold;
        return v;
    }
    v.kind = verdict_kind::accepted;
    return v;
}

error_code parse_live_code_response(std::string_view body, int http_status, live_code_result& out, diagnostics& diag) {
    json::value storage;
    const json::object* r = nullptr;
    if (auto ec = read_envelope(body, http_status, diag, r, storage)) return ec;
    error_code ec;
    out.request_id = diag.request_id();
    read_string(*r, "LiveCode", out.live_code, true, diag, http_status, ec);
    if (!ec && out.live_code.empty()) ec = malformed(diag, http_status, "\"LiveCode\" is empty");
    return ec;
}

error_code parse_action_sequence_response(std::string_view body, int http_status, action_sequence_result& out,
                                          diagnostics& diag) {
    json::value storage;
    const json::object* r = nullptr;
    if (auto ec = read_envelope(body, http_status, diag, r, storage)) return ec;
    error_code ec;
    out.request_id = diag.request_id();
    read_string(*r, "ActionSequence", out.action_sequence, true, diag, http_status, ec);
    if (!ec && out.action_sequence.empty()) ec = malformed(diag, http_status, "\"ActionSequence\" is empty");
    return ec;
}

error_code parse_liveness_response(std::string_view body, int http_status, liveness_result& out, diagnostics& diag) {
    json::value storage;
    const json::object* r = nullptr;
    if (auto ec = read_envelope(body, http_status, diag, r, storage)) return ec;
    error_code ec;
    out.request_id = diag.request_id();
    if (!read_string(*r, "Result", out.result, true, diag, http_status, ec)) return ec;
    if (out.result.empty()) return malformed(diag, http_status, "\"Result\" is empty");
    if (!read_string(*r, "Description", out.description, false, diag, http_status, ec)) return ec;
    if (!read_string(*r, "BestFrameBase64", out.best_frame_base64, false, diag, http_status, ec)) return ec;
    if (const auto* sim = r->if_contains("Sim"); sim && !sim->is_null()) {
        if (!sim->is_number()) return malformed(diag, http_status, "\"Sim\" is not a number");
        const double s = sim->to_number<double>();
        if (!std::isfinite(s) || s < 0 || s > 100) return malformed(diag, http_status, "\"Sim\" is not within 0..100");
        // The service sends Sim 0 with a failed Result: no comparison took place.
        if (out.result == "Success" || s != 0) out.sim = s;
    }
    if (const auto* list = r->if_contains("BestFrameList"); list && !list->is_null()) {
        if (!list->is_array()) return malformed(diag, http_status, "\"BestFrameList\" is not an array");
        for (const auto& f : list->get_array()) {
            if (!f.is_string()) return malformed(diag, http_status, "\"BestFrameList\" holds a non-string");
            out.best_frames.emplace_back(f.get_string());
        }
    }
    if (out.result != "Success") diag.set_server_message(excerpt(out.description));
    return {};
}

}  // namespace livefour::faceid
