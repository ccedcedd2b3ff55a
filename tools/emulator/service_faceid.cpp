// livefour-emulator — API 3.0 `faceid` behaviour of the service (see service.hpp, docs/emulator.md).
#include "service.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json.hpp>

#include <cstdio>

namespace livefour::emulator {
namespace {

namespace json = boost::json;

constexpr std::size_t other_action = faceid_action_names.size();

json::value media_json(const media_summary* m) {
    if (!m) return nullptr;
    return json::object{{"base64_chars", m->base64_chars}, {"size", m->size}, {"sha256", m->sha256_hex}};
}

const media_summary* find_media(const json_body_scanner& body, const std::string& name) {
    const auto it = body.media().find(name);
    return it == body.media().end() ? nullptr : &it->second;
}

// A top-level string member; nullptr when absent or not a string.
const std::string* string_member(const json_body_scanner& body, const std::string& name) {
    const auto it = body.members().find(name);
    if (it == body.members().end() || it->second.type != json_member::kind::string) return nullptr;
    return &it->second.text;
}

bool has_member(const json_body_scanner& body, const std::string& name) {
    return body.members().count(name) != 0 || body.media().count(name) != 0;
}

// ACTION mode sequences: one or two of 1 (open mouth), 2 (blink), 3 (nod), 4 (shake head).
bool valid_action_sequence(std::string_view s) {
    return (s.size() == 1 && s[0] >= '1' && s[0] <= '4') ||
           (s.size() == 3 && s[0] >= '1' && s[0] <= '4' && s[1] == ',' && s[2] >= '1' && s[2] <= '4');
}

// `Optional` is a JSON-encoded string, e.g. "{\"BestFrameNum\":2}" (2..10). nullopt: malformed.
std::optional<int> best_frame_num(const std::string* optional) {
    if (!optional || optional->empty()) return 0;
    boost::system::error_code ec;
    const auto v = json::parse(*optional, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* n = v.get_object().if_contains("BestFrameNum");
    if (!n) return 0;
    if (!n->is_int64() || n->get_int64() < 2 || n->get_int64() > 10) return std::nullopt;
    return static_cast<int>(n->get_int64());
}

}  // namespace

tc3_check service::authenticate_tc3(const tc3_head& head, std::int64_t now) const {
    return check_head(head, config_.auth, config_.tc3, now);
}

void service::on_faceid_complete(std::string_view action, std::uint64_t body_bytes) {
    const auto a = faceid_action_named(action);
    const std::size_t i = a ? static_cast<std::size_t>(*a) : other_action;
    ++stats_.faceid_requests[i];
    stats_.faceid_bytes[i] += body_bytes;
}

std::string service::request_id() {
    // A version-4 UUID, the form the real service's RequestId has.
    static constexpr char hex[] = "0123456789abcdef";
    std::uniform_int_distribution<int> nibble(0, 15);
    std::string id = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
    for (auto& c : id) {
        if (c == 'x') c = hex[nibble(rng_)];
        if (c == 'y') c = hex[8 + nibble(rng_) % 4];
    }
    return id;
}

reply service::faceid_reply(json::object response) {
    response["RequestId"] = request_id();
    reply r;
    r.body = json::serialize(json::object{{"Response", std::move(response)}});
    return r;
}

reply service::faceid_error(std::string code, std::string message) {
    reply r = faceid_reply(json::object{{"Error", json::object{{"Code", code}, {"Message", std::move(message)}}}});
    r.api3_code = std::move(code);
    return finish(std::move(r));
}

reply service::faceid(const tc3_head& head, const tc3_check& auth, const json_body_scanner& body) {
    if (auth.failed()) return faceid_error(auth.code, auth.message);
    const auto* version = head.find("x-tc-version");
    if (!version || *version != config_.tc3.version)
        return faceid_error("NoSuchVersion", "X-TC-Version must be " + config_.tc3.version);
    const auto* action_name = head.find("x-tc-action");
    const auto action = action_name ? faceid_action_named(*action_name) : std::nullopt;
    if (!action) return faceid_error("InvalidAction", "X-TC-Action is not an action of faceid the emulator serves");
    const auto* content_type = head.find("content-type");
    const std::string_view media_type =
        content_type ? std::string_view(*content_type).substr(0, content_type->find(';')) : std::string_view{};
    if (media_type != "application/json")
        return faceid_error("InvalidParameter", "Content-Type must be application/json");
    std::string why;
    const auto* force_header = head.find("x-emulator-force");
    const auto force = parse_faceid_switches(force_header ? *force_header : std::string_view{}, &why);
    if (!force) return faceid_error("InvalidParameter", why);

    stats_.faceid_last_action = *action_name;
    stats_.faceid_last_media = body.media();
    for (auto& [name, m] : stats_.faceid_last_media) m.head.clear();  // stats need digests, not content
    stats_.faceid_last_fields.clear();
    for (const auto& [name, m] : body.members())
        if (m.type == json_member::kind::string) stats_.faceid_last_fields[name] = m.text.substr(0, 256);
    if (body.failed() != json_body_scanner::failure::none)
        return faceid_error(
            body.failed() == json_body_scanner::failure::base64 ? "InvalidParameterValue" : "InvalidParameter",
            "body: " + body.error());

    auto shaped = [&](reply r) {
        r.delay = std::chrono::milliseconds(force->delay_ms.value_or(0));
        r.drop = force->drop;
        return r;
    };
    if (force->error) return shaped(faceid_error(*force->error, "forced by X-Emulator-Force"));

    const auto* video = find_media(body, "VideoBase64");
    const auto* image = find_media(body, "ImageBase64");
    if (video && video->base64_chars > config_.tc3.max_video_base64)
        return shaped(
            faceid_error("InvalidParameterValue",
                         "VideoBase64 is over " + std::to_string(config_.tc3.max_video_base64) + " characters"));
    if (image && image->base64_chars > config_.tc3.max_image_base64)
        return shaped(
            faceid_error("InvalidParameterValue",
                         "ImageBase64 is over " + std::to_string(config_.tc3.max_image_base64) + " characters"));

    if (*action == faceid_action::get_live_code) {
        reply r = faceid_reply(json::object{{"LiveCode", issue_digits()}});
        r.api3_code = "Success";
        return shaped(finish(std::move(r)));
    }
    if (*action == faceid_action::get_action_sequence) {
        reply r = faceid_reply(json::object{{"ActionSequence", (rng_() % 2) ? "1,2" : "2,1"}});
        r.api3_code = "Success";
        return shaped(finish(std::move(r)));
    }

    faceid_input in;
    in.action = *action;
    in.force = *force;
    const auto* type = string_member(body, "LivenessType");
    if (!type) return shaped(faceid_error("MissingParameter", "LivenessType is required"));
    if (*type != "LIP" && *type != "ACTION" && *type != "SILENT")
        return shaped(faceid_error("InvalidParameterValue", "LivenessType must be LIP, ACTION or SILENT"));
    in.liveness_type = *type;
    if (!video) {
        return shaped(has_member(body, "VideoUrl")
                          ? faceid_error("InvalidParameterValue", "the emulator does not download VideoUrl")
                          : faceid_error("MissingParameter", "VideoBase64 is required"));
    }
    in.video = detect_video(video->head);
    in.video_sha256_hex = video->sha256_hex;
    if (*action == faceid_action::liveness_compare) {
        if (!image)
            return shaped(has_member(body, "ImageUrl")
                              ? faceid_error("InvalidParameterValue", "the emulator does not download ImageUrl")
                              : faceid_error("MissingParameter", "ImageBase64 is required"));
        in.image = detect_image(image->head);
        in.reference_sha256_hex = image->sha256_hex;
    } else {
        const auto* id_card = string_member(body, "IdCard");
        const auto* name = string_member(body, "Name");
        if (!id_card || id_card->empty() || !name || name->empty())
            return shaped(faceid_error("MissingParameter", "IdCard and Name are required"));
        in.id_card = *id_card;
        in.reference_sha256_hex = livefour::detail::to_hex(livefour::detail::sha256(*id_card + "\n" + *name));
    }
    const auto* validate = string_member(body, "ValidateData");
    if (in.liveness_type == "ACTION" && (!validate || !valid_action_sequence(*validate)))
        return shaped(faceid_error("InvalidParameterValue", "ACTION needs ValidateData such as \"1,2\""));
    const auto frames = best_frame_num(string_member(body, "Optional"));
    if (!frames) return shaped(faceid_error("InvalidParameterValue", "Optional must be {\"BestFrameNum\":2..10}"));

    // Single use, like the legacy digits: a live code is spent by the first request that reaches
    // a verdict, even a negative one.
    in.code_ok = in.liveness_type == "LIP" && validate && consume_digits(*validate);
    const auto v = decide_faceid(in);
    json::object out;
    out["Result"] = v.result;
    out["Description"] = v.description;
    // Two decimals, as the service writes it ("Sim":89.88); Boost.JSON would print 8.988E1.
    char sim[16];
    std::snprintf(sim, sizeof sim, "%.2f", v.sim);
    out["Sim"] = json::parse(sim);
    out["BestFrameBase64"] = v.best_frame ? json::value(tiny_jpeg_base64) : json::value(nullptr);
    json::array list;
    if (v.best_frame)
        for (int i = 0; i < *frames; ++i) list.emplace_back(tiny_jpeg_base64);
    out["BestFrameList"] = std::move(list);
    reply r = faceid_reply(std::move(out));
    r.api3_code = v.result;
    return shaped(finish(std::move(r)));
}

json::object service::faceid_stats() const {
    json::object requests, bytes;
    for (std::size_t i = 0; i <= other_action; ++i) {
        const std::string_view name = i < other_action ? faceid_action_names[i] : std::string_view("other");
        requests[name] = stats_.faceid_requests[i];
        bytes[name] = stats_.faceid_bytes[i];
    }
    json::object codes;
    for (const auto& [code, n] : stats_.faceid_codes) codes[code] = n;
    json::object fields;
    for (const auto& [name, value] : stats_.faceid_last_fields) fields[name] = value;
    auto media = [&](const char* name) {
        const auto it = stats_.faceid_last_media.find(name);
        return media_json(it == stats_.faceid_last_media.end() ? nullptr : &it->second);
    };
    json::object last{
        {"action", stats_.faceid_last_action.empty() ? json::value(nullptr) : json::value(stats_.faceid_last_action)},
        {"video", media("VideoBase64")},
        {"image", media("ImageBase64")},
        {"fields", std::move(fields)}};
    return json::object{{"requests", std::move(requests)},
                        {"bytes", std::move(bytes)},
                        {"codes", std::move(codes)},
                        {"last", std::move(last)}};
}

}  // namespace livefour::emulator
