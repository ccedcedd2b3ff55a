// livefour-emulator — API behaviour (see service.hpp).
#include "service.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace livefour::emulator {
namespace {

namespace json = boost::json;

// Cap on outstanding digit grants so that a client calling livegetfour in a loop cannot grow the
// emulator without bound.
constexpr std::size_t max_outstanding_digits = 100000;

json::object envelope(int code, std::string message) {
    json::object o;
    o["code"] = code;
    o["message"] = std::move(message);
    return o;
}

// A control-plane reply: not an API reply, so not counted in `codes`.
reply control_reply(unsigned status, json::object o) {
    reply r;
    r.http_status = status;
    r.code = static_cast<int>(o.at("code").as_int64());
    r.body = json::serialize(o);
    return r;
}

// A form field's text value. Parts sent as files are accepted too when small (the Python SDK
// turns every field into a file part), as long as the whole value was kept.
struct field_lookup {
    const part_info* part = nullptr;
    bool duplicate = false;
};

field_lookup find_part(const std::vector<part_info>& parts, std::string_view name) {
    field_lookup out;
    for (const auto& p : parts) {
        if (p.name != name) continue;
        if (out.part)
            out.duplicate = true;
        else
            out.part = &p;
    }
    return out;
}

}  // namespace

std::string_view endpoint_path(endpoint e) noexcept { return api_paths[static_cast<std::size_t>(e)]; }

std::optional<endpoint> endpoint_for_path(std::string_view path) noexcept {
    for (std::size_t i = 0; i < api_paths.size(); ++i)
        if (api_paths[i] == path) return static_cast<endpoint>(i);
    return std::nullopt;
}

service::service(service_config config) : config_(std::move(config)), rng_(std::random_device{}()) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& f : config_.faults) install(f, now);
}

void service::on_request_complete(endpoint e) noexcept {
    ++stats_.requests;
    switch (e) {
    case endpoint::livegetfour: ++stats_.livegetfour; break;
    case endpoint::livedetectfour: ++stats_.livedetectfour; break;
    case endpoint::idcardlivedetectfour: ++stats_.idcardlivedetectfour; break;
    case endpoint::faceid: break;  // per action: on_faceid_complete()
    }
}

signature_check service::authenticate(std::string_view authorization, std::int64_t now) const {
    return verify_signature(authorization, config_.auth, now);
}

reply service::finish(reply r) {
    if (r.drop)
        ++stats_.dropped;
    else if (!r.api3_code.empty())
        ++stats_.faceid_codes[r.api3_code];
    else
        ++stats_.codes[r.code];
    return r;
}

reply service::error(int code, std::string message, const std::optional<std::string>& seq) {
    auto o = envelope(code, message.empty() ? code_message(code) : std::move(message));
    if (seq) o["seq"] = *seq;
    reply r;
    r.code = code;
    r.http_status = http_status_for_code(code);
    r.body = json::serialize(o);
    return finish(std::move(r));
}

switches service::effective_switches(const switches& from_seq) {
    switches s = from_seq;
    if (config_.force_count == 0 || forced_so_far_ < config_.force_count) {
        ++forced_so_far_;
        s.inherit(config_.force);
    }
    return s;
}

std::string service::issue_digits() {
    const auto now = std::chrono::steady_clock::now();
    if (digits_.size() >= max_outstanding_digits)
        std::erase_if(digits_, [&](const auto& kv) { return kv.second <= now; });
    if (digits_.size() >= max_outstanding_digits) digits_.erase(digits_.begin());
    std::string d;
    if (config_.fixed_digits) {
        d = *config_.fixed_digits;
    } else {
        std::uniform_int_distribution<int> dist(0, 9999);
        d = std::to_string(dist(rng_));
        d.insert(0, 4 - d.size(), '0');
    }
    digits_.emplace(d, now + config_.digits_ttl);
    return d;
}

bool service::consume_digits(const std::string& digits) {
    const auto now = std::chrono::steady_clock::now();
    auto [first, last] = digits_.equal_range(digits);
    for (auto it = first; it != last; ++it) {
        if (it->second > now) {
            digits_.erase(it);
            return true;
        }
    }
    return false;
}

reply service::livegetfour(const signature_check& auth, std::string_view body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return error(3, "invalid request: body is not a JSON object");
    const auto& o = v.get_object();

    std::optional<std::string> seq;
    if (const auto* s = o.if_contains("seq")) {
        if (!s->is_string()) return error(21, "invalid parameter: seq must be a string");
        seq = std::string(s->get_string());
    }
    std::string why;
    const auto seq_switches = parse_switches(seq.value_or(""), &why);
    if (!seq_switches) return error(21, "invalid parameter: " + why, seq);

    const auto* appid = o.if_contains("appid");
    if (!appid || !appid->is_string() || appid->get_string().empty()) return error(21, "invalid parameter: appid", seq);
    if (appid->get_string() != auth.appid) return error(6, {}, seq);
    if (const auto* bucket = o.if_contains("bucket")) {
        // Official SDKs send the bucket too; it must agree with the signature's.
        if (!bucket->is_string()) return error(21, "invalid parameter: bucket", seq);
        if (bucket->get_string() != config_.auth.bucket) return error(6, {}, seq);
    }

    const auto force = effective_switches(*seq_switches);
    if (force.code) return error(*force.code, {}, seq);

    auto out = envelope(0, "OK");
    out["data"] = json::object{{"validate_data", issue_digits()}};
    if (seq) out["seq"] = *seq;
    reply r;
    r.body = json::serialize(out);
    r.drop = force.drop;
    r.delay = std::chrono::milliseconds(force.delay_ms.value_or(0));
    return finish(std::move(r));
}

reply service::detect(endpoint e, const signature_check& auth, const std::vector<part_info>& parts) {
    stats_.last_parts = parts;
    for (auto& p : stats_.last_parts) p.head.clear();  // stats need sizes and digests, not content

    std::string problem;
    auto text = [&](std::string_view name, bool required) -> std::optional<std::string> {
        const auto f = find_part(parts, name);
        if (f.duplicate) {
            if (problem.empty()) problem = "duplicate field " + std::string(name);
            return std::nullopt;
        }
        if (!f.part) {
            if (required && problem.empty()) problem = "missing field " + std::string(name);
            return std::nullopt;
        }
        if (!f.part->complete()) {
            if (problem.empty()) problem = "field " + std::string(name) + " too long";
            return std::nullopt;
        }
        return f.part->head;
    };

    const auto seq = text("seq", false);
    if (!problem.empty()) return error(21, "invalid parameter: " + problem);
    std::string why;
    const auto seq_switches = parse_switches(seq.value_or(""), &why);
    if (!seq_switches) return error(21, "invalid parameter: " + why, seq);
    auto invalid = [&](std::string what) { return error(21, "invalid parameter: " + what, seq); };

    const auto appid = text("appid", true);
    if (!appid) return invalid(problem);
    if (appid->empty()) return invalid("empty appid");
    if (*appid != auth.appid) return error(6, {}, seq);
    const auto digits = text("validate_data", true);
    if (!digits) return invalid(problem);
    if (digits->empty()) return invalid("empty validate_data");

    const bool idcard = e == endpoint::idcardlivedetectfour;
    detect_input in;
    in.idcard = idcard;
    if (idcard) {
        const auto number = text("idcard_number", true);
        const auto name = text("idcard_name", true);
        if (!number || !name) return invalid(problem);
        in.compare = true;
        in.idcard_number = *number;
        in.idcard_name = *name;
        in.reference_sha256_hex = livefour::detail::to_hex(livefour::detail::sha256(*number + "\n" + *name));
    } else {
        const auto flag = text("compare_flag", true);
        if (!flag) return invalid(problem);
        if (*flag != "true" && *flag != "false") return invalid("compare_flag must be \"true\" or \"false\"");
        in.compare = *flag == "true";
    }

    const auto video = find_part(parts, "video");
    if (video.duplicate) return invalid("duplicate field video");
    if (!video.part) return invalid("missing field video");
    in.video = detect_video(video.part->head);
    in.video_sha256_hex = video.part->sha256_hex;
    if (!idcard && in.compare) {
        const auto card = find_part(parts, "card");
        if (card.duplicate) return invalid("duplicate field card");
        if (!card.part) return invalid("missing field card (compare_flag is true)");
        in.card = detect_image(card.part->head);
        in.reference_sha256_hex = card.part->sha256_hex;
    }

    in.force = effective_switches(*seq_switches);
    if (in.force.code) return error(*in.force.code, {}, seq);

    // Single use: the grant is spent by the first detect request that reaches a verdict.
    in.digits_ok = consume_digits(*digits);
    const auto v = decide(in);

    json::object data;
    data["live_status"] = v.live_status;
    data["live_msg"] = v.live_msg;
    if (v.compare_status) {
        data["compare_status"] = *v.compare_status;
        data["compare_msg"] = *v.compare_msg;
    }
    if (v.sim) data["sim"] = *v.sim;
    if (v.photo) data[idcard ? "video_photo" : "photo"] = tiny_jpeg_base64;

    auto out = envelope(0, "OK");
    out["data"] = std::move(data);
    if (seq) out["seq"] = *seq;
    reply r;
    r.body = json::serialize(out);
    r.drop = in.force.drop;
    r.delay = std::chrono::milliseconds(in.force.delay_ms.value_or(0));
    return finish(std::move(r));
}

void service::on_reply_withheld(const reply& r) noexcept {
    auto take_back = [](auto& counts, const auto& key) {
        const auto it = counts.find(key);
        if (it != counts.end() && --it->second == 0) counts.erase(it);
    };
    if (r.api3_code.empty())
        take_back(stats_.codes, r.code);
    else
        take_back(stats_.faceid_codes, r.api3_code);
}

void service::install(const fault& f, std::chrono::steady_clock::time_point now) {
    switch (f.kind) {
    case fault_kind::rate_limit:
        rate_limit_.emplace(
            rate_limit_state{f, token_bucket(f.per_second, static_cast<double>(f.burst), now), f.count});
        break;
    case fault_kind::keepalive_close: keepalive_close_ = std::chrono::milliseconds(f.ms.value_or(1)); break;
    default: faults_.push(f); break;  // callers checked room()
    }
}

std::optional<fault> service::take_fault(endpoint e, std::chrono::steady_clock::time_point now) {
    const auto path = endpoint_path(e);
    if (rate_limit_ && (rate_limit_->spec.path.empty() || rate_limit_->spec.path == path) &&
        !rate_limit_->bucket.try_take(now)) {
        fault f = rate_limit_->spec;
        if (rate_limit_->refusals_left != 0 && --rate_limit_->refusals_left == 0) rate_limit_.reset();
        return f;
    }
    return faults_.take(path);
}

reply service::fault_reply(const fault& f, endpoint e) {
    const bool api3 = e == endpoint::faceid;
    switch (f.kind) {
    case fault_kind::code: return api3 ? faceid_error(f.error, "emulator fault") : error(f.code);
    case fault_kind::rate_limit: return api3 ? faceid_error("RequestLimitExceeded", "emulator rate limit") : error(15);
    case fault_kind::http_status: {
        reply r;
        if (api3 && !f.error.empty()) {
            r = faceid_error(f.error, "emulator fault");
        } else if (f.has_code) {
            r = error(f.code);
        } else {
            const auto s = std::to_string(f.status);
            r.body = f.body.value_or("<html><head><title>" + s + "</title></head><body><h1>" + s +
                                     "</h1><p>livefour-emulator http_status fault</p></body></html>\n");
            r.content_type = "text/html; charset=utf-8";
        }
        r.http_status = f.status;
        if (!f.content_type.empty()) r.content_type = f.content_type;
        return r;
    }
    case fault_kind::non_json: {
        reply r;
        r.body =
            f.body.value_or("<html><body><h1>It works!</h1><p>livefour-emulator non_json fault</p></body></html>\n");
        r.content_type = f.content_type.empty() ? "text/html; charset=utf-8" : f.content_type;
        return r;
    }
    default: return error(3, "emulator: not a reply fault");  // not reached: callers check replaces_reply()
    }
}

reply service::add_faults(std::string_view body, std::chrono::steady_clock::time_point now) {
    std::string why;
    const auto list = parse_faults(body, &why);
    if (!list) return control_reply(400, envelope(21, "invalid fault: " + why));
    const auto queued = std::count_if(list->begin(), list->end(), [](const fault& f) {
        return f.kind != fault_kind::rate_limit && f.kind != fault_kind::keepalive_close;
    });
    if (static_cast<std::size_t>(queued) > faults_.room())
        return control_reply(400, envelope(21, "invalid fault: the queue holds at most " +
                                                   std::to_string(fault_limits::max_pending) + " faults"));
    for (const auto& f : *list) install(f, now);
    auto o = envelope(0, "OK");
    o["installed"] = list->size();
    o["faults_pending"] = faults_.size();
    return control_reply(200, std::move(o));
}

reply service::clear_faults() {
    auto o = envelope(0, "OK");
    o["cleared"] = faults_.clear() + (rate_limit_ ? 1 : 0) + (keepalive_close_ ? 1 : 0);
    rate_limit_.reset();
    keepalive_close_.reset();
    return control_reply(200, std::move(o));
}

std::string service::faults_json() const {
    json::object o;
    json::array pending;
    for (const auto& e : faults_.entries()) {
        auto j = fault_to_json(e.spec);
        j["remaining"] = e.remaining;
        pending.push_back(std::move(j));
    }
    o["pending"] = std::move(pending);
    if (rate_limit_) {
        auto j = fault_to_json(rate_limit_->spec);
        j["remaining"] = rate_limit_->refusals_left;
        o["rate_limit"] = std::move(j);
    } else {
        o["rate_limit"] = nullptr;
    }
    o["keepalive_close_ms"] = keepalive_close_ ? json::value(keepalive_close_->count()) : json::value(nullptr);
    return json::serialize(o);
}

std::string service::stats_json() const {
    json::object o;
    o["requests"] = stats_.requests;
    o["livegetfour"] = stats_.livegetfour;
    o["livedetectfour"] = stats_.livedetectfour;
    o["idcardlivedetectfour"] = stats_.idcardlivedetectfour;
    o["connections_accepted"] = stats_.connections_accepted;
    o["bytes_received"] = stats_.bytes_received;
    o["dropped"] = stats_.dropped;
    json::object started;
    std::uint64_t started_total = 0;
    for (const auto n : stats_.started) started_total += n;
    started["total"] = started_total;
    for (std::size_t i = 0; i < api_paths.size(); ++i) started[api_paths[i]] = stats_.started[i];
    o["requests_started"] = std::move(started);
    o["connections_closed_idle"] = stats_.connections_closed_idle;
    o["connections_closed_slow"] = stats_.connections_closed_slow;
    o["chunk_framing_refused"] = stats_.chunk_framing_refused;
    json::object fired;
    for (std::size_t i = 0; i < fault_names.size(); ++i) fired[fault_names[i]] = stats_.faults_fired[i];
    o["faults_fired"] = std::move(fired);
    o["faults_pending"] = faults_.size();
    json::object codes;
    for (const auto& [code, n] : stats_.codes) codes[std::to_string(code)] = n;
    o["codes"] = std::move(codes);
    o["digits_outstanding"] = digits_.size();
    json::array parts;
    for (const auto& p : stats_.last_parts) {
        json::object j;
        j["name"] = p.name;
        j["filename"] = p.filename ? json::value(*p.filename) : json::value(nullptr);
        j["content_type"] = p.content_type ? json::value(*p.content_type) : json::value(nullptr);
        j["size"] = p.size;
        j["sha256"] = p.sha256_hex;
        parts.push_back(std::move(j));
    }
    o["last_parts"] = std::move(parts);
    o["faceid"] = faceid_stats();
    return json::serialize(o);
}

void service::reset_stats() { stats_ = {}; }

}  // namespace livefour::emulator
