// livefour — reply parsing, decision, JSON output.
#include <livefour/detail/crypto.hpp>
#include <livefour/types.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <climits>
#include <string>

namespace livefour {
namespace {

namespace json = boost::json;

constexpr std::size_t excerpt_limit = 200;

// A printable, single-line excerpt of an untrusted body: enough to recognise "502 Bad Gateway"
// from a proxy, too little to flood a log, and free of control characters (terminal escapes).
std::string excerpt(std::string_view body) {
    std::string out;
    bool space = false;
    for (unsigned char c : body) {
        if (out.size() >= excerpt_limit) {
            out += "...";
            break;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
    }
    return out;
}

std::string status_prefix(int http_status) {
    return http_status > 0 ? "HTTP " + std::to_string(http_status) + ": " : std::string{};
}

/// Reads typed fields of one JSON object and remembers the first type violation, so that the
/// caller can decide afterwards whether it matters (it does not when `code` reports an error).
class field_reader {
public:
    field_reader(const json::object* obj, std::string prefix, std::string& problem)
        : obj_(obj), prefix_(std::move(prefix)), problem_(problem) {}

    // null is read as "absent": some backends emit explicit nulls for optional fields.
    std::optional<int> integer(std::string_view key) {
        const json::value* v = find(key);
        if (v == nullptr) return std::nullopt;
        if (v->is_int64() && v->get_int64() >= INT_MIN && v->get_int64() <= INT_MAX)
            return static_cast<int>(v->get_int64());
        if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT_MAX))
            return static_cast<int>(v->get_uint64());
        complain(key, "is not an integer");
        return std::nullopt;
    }

    std::optional<std::string> string(std::string_view key) {
        const json::value* v = find(key);
        if (v == nullptr) return std::nullopt;
        if (v->is_string()) return std::string(v->get_string());
        complain(key, "is not a string");
        return std::nullopt;
    }

    void complain(std::string_view key, std::string_view what) {
        if (problem_.empty()) problem_ = "field \"" + prefix_ + std::string(key) + "\" " + std::string(what);
    }

private:
    const json::value* find(std::string_view key) const {
        if (obj_ == nullptr) return nullptr;
        const json::value* v = obj_->if_contains(key);
        return (v == nullptr || v->is_null()) ? nullptr : v;
    }

    const json::object* obj_;
    std::string prefix_;
    std::string& problem_;
};

/// The envelope {code, message, data} of every reply.
struct envelope {
    // Replies without a photo are a few hundred bytes: their parse allocates nothing (a photo
    // spills into heap blocks that the resource frees with the envelope).
    unsigned char arena[2048];
    json::monotonic_resource memory{arena, sizeof arena};
    // After `memory`, which must outlive it. On that storage, so that parse()'s result moves in
    // instead of being copied to the heap.
    json::value root = json::value(json::storage_ptr(&memory));
    const json::object* data = nullptr;  // null when absent
    int code = 0;
    std::string message;
    std::string problem;  // first type violation, empty if none
};

/// Parses the body into `env`. Returns non_json_response or malformed_response (missing `code`),
/// success otherwise; further field problems are collected in env.problem.
error_code read_envelope(std::string_view body, int http_status, diagnostics& diag, envelope& env) {
    diag.clear_response();  // keeps the attempt log of the retry loop
    diag.set_http_status(http_status);

    json::parse_options opts;
    opts.allow_trailing_commas = true;  // the provider's documented sample has one (docs/protocol.md §1)
    error_code ec;
    env.root = json::parse(json::string_view(body.data(), body.size()), ec, json::storage_ptr(&env.memory), opts);
    if (ec || !env.root.is_object()) {
        std::string why = body.empty() ? "empty body"
                          : ec         ? "not JSON (" + ec.message() + ")"
                                       : "JSON but not an object";
        diag.assign(http_status, excerpt(body),
                    status_prefix(http_status) + "response body is not a JSON object: " + why);
        return make_error_code(client_error::non_json_response);
    }
    const json::object& root = env.root.get_object();

    field_reader top(&root, "", env.problem);
    const std::optional<int> code = top.integer("code");
    env.message = top.string("message").value_or("");
    diag.set_server_message(env.message);
    if (!code) {
        std::string why = env.problem.empty() ? "field \"code\" missing" : env.problem;
        diag.set_client_message(status_prefix(http_status) + "malformed response: " + why);
        return make_error_code(client_error::malformed_response);
    }
    env.code = *code;

    if (const json::value* d = root.if_contains("data"); d != nullptr && !d->is_null()) {
        if (d->is_object())
            env.data = &d->get_object();
        else
            top.complain("data", "is not an object");
    }
    return {};
}

/// The result once all fields were read: the API error wins over type problems (the server told
/// us what went wrong), then type problems, then success.
error_code finish(const envelope& env, int http_status, diagnostics& diag) {
    if (env.code != 0) {
        diag.set_client_message(status_prefix(http_status) + "API error " + std::to_string(env.code) + ": " +
                                api_message(env.code));
        return make_api_error(env.code);
    }
    if (!env.problem.empty()) {
        diag.set_client_message(status_prefix(http_status) + "malformed response: " + env.problem);
        return make_error_code(client_error::malformed_response);
    }
    return {};
}

}  // namespace

std::optional<std::string> detect_result::decode_photo() const {
    if (photo.empty()) return std::nullopt;
    return detail::base64_decode(photo);
}

error_code parse_digits_response(std::string_view body, int http_status, digits_result& out, diagnostics& diag) {
    out = digits_result{};
    envelope env;
    if (error_code ec = read_envelope(body, http_status, diag, env)) return ec;
    out.code = env.code;
    out.message = env.message;

    field_reader data(env.data, "data.", env.problem);
    if (auto digits = data.string("validate_data"))
        out.validate_data = std::move(*digits);
    else if (env.code == 0 && env.problem.empty())
        env.problem = "field \"data.validate_data\" missing";
    return finish(env, http_status, diag);
}

error_code parse_detect_response(std::string_view body, int http_status, detect_result& out, diagnostics& diag) {
    out = detect_result{};
    envelope env;
    if (error_code ec = read_envelope(body, http_status, diag, env)) return ec;
    out.code = env.code;
    out.message = env.message;

    field_reader data(env.data, "data.", env.problem);
    out.live_status = data.integer("live_status");
    out.live_msg = data.string("live_msg").value_or("");
    out.compare_status = data.integer("compare_status");
    out.compare_msg = data.string("compare_msg").value_or("");
    out.sim = data.integer("sim");
    if (out.sim && (*out.sim < 0 || *out.sim > 100)) {
        data.complain("sim", "is outside 0..100");
        out.sim.reset();
    }
    // livedetectfour says "photo", idcardlivedetectfour says "video_photo".
    if (auto p = data.string("photo"))
        out.photo = std::move(*p);
    else if (auto vp = data.string("video_photo"))
        out.photo = std::move(*vp);

    if (env.code == 0 && !out.live_status && env.problem.empty()) env.problem = "field \"data.live_status\" missing";
    return finish(env, http_status, diag);
}

verdict decide(const detect_result& r, decision_policy policy) {
    verdict v;
    v.sim = r.sim.value_or(-1);
    const auto result = [&](verdict_kind kind, error_code reason) {
        v.kind = kind;
        v.reason = reason;
        return v;
    };
    if (r.code != 0) return result(verdict_kind::api_error, make_api_error(r.code));
    if (!r.live_status) return result(verdict_kind::not_live, make_error_code(client_error::malformed_response));
    if (*r.live_status != 0) return result(verdict_kind::not_live, make_api_error(*r.live_status));
    if (!r.compare_status) {
        if (policy.require_comparison)
            return result(verdict_kind::no_comparison, make_error_code(client_error::comparison_missing));
        return result(verdict_kind::accepted, {});  // liveness-only request
    }
    if (*r.compare_status != 0) return result(verdict_kind::compare_failed, make_api_error(*r.compare_status));
    // The provider sends sim whenever the comparison succeeded; its absence is a broken reply.
    if (!r.sim) return result(verdict_kind::compare_failed, make_error_code(client_error::malformed_response));
    if (*r.sim < policy.threshold)
        return result(verdict_kind::below_threshold, make_error_code(client_error::similarity_below_threshold));
    return result(verdict_kind::accepted, {});
}

std::string to_json(const digits_result& r) {
    json::object data;
    data["validate_data"] = r.validate_data;
    json::object root;
    root["code"] = r.code;
    root["message"] = r.message;
    root["data"] = std::move(data);
    return json::serialize(root);
}

std::string to_json(const detect_result& r) {
    json::object data;
    if (r.live_status) data["live_status"] = *r.live_status;
    if (r.live_status || !r.live_msg.empty()) data["live_msg"] = r.live_msg;
    if (r.compare_status) data["compare_status"] = *r.compare_status;
    if (r.compare_status || !r.compare_msg.empty()) data["compare_msg"] = r.compare_msg;
    if (r.sim) data["sim"] = *r.sim;
    if (!r.photo.empty()) data["photo"] = r.photo;
    json::object root;
    root["code"] = r.code;
    root["message"] = r.message;
    root["data"] = std::move(data);
    return json::serialize(root);
}

}  // namespace livefour
