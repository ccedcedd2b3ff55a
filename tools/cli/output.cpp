// livefour CLI — the report, the progress meter and the -v log.
#include "output.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace livefour::cli {
namespace {

void err_line(const std::string& s) {
    std::fputs(s.c_str(), stderr);
    std::fputc('\n', stderr);
}

/// Writes stdout and flushes it: a full disk or a closed descriptor must not pass for success
/// (the digits of a `livefour digits > /dev/full` would be issued and lost). SIGPIPE still ends
/// the process first, as with every filter.
bool write_stdout(const std::string& text) {
    errno = 0;
    const bool ok = std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0 &&
                    !std::ferror(stdout);
    if (!ok) err_line("livefour: cannot write to stdout: " + std::string(std::strerror(errno ? errno : EIO)));
    return ok;
}

// Boost.JSON writes doubles in exponent form (88.27 as 8.827E1): valid, but not what the service
// sent nor what a reader expects. Such values go into the object as a placeholder string, and the
// serialised text gets the number written the shortest way that reads back the same.
constexpr std::string_view sim_placeholder = "@@livefour-sim@@";
constexpr std::string_view reply_placeholder = "@@livefour-reply@@";

/// Replaces the first `"placeholder"` in `text` by `raw`.
void splice(std::string& text, std::string_view placeholder, const std::string& raw) {
    const std::string quoted = "\"" + std::string(placeholder) + "\"";
    if (const auto at = text.find(quoted); at != std::string::npos) text.replace(at, quoted.size(), raw);
}

boost::json::object error_json(const error_info& e) {
    boost::json::object o;
    o["kind"] = e.kind;
    o["category"] = e.category;
    o["value"] = e.value;
    o["message"] = e.headline;
    if (!e.server_code.empty()) o["server_code"] = e.server_code;
    if (!e.request_id.empty()) o["request_id"] = e.request_id;
    if (e.http_status) o["http_status"] = e.http_status;
    if (!e.server_message.empty()) o["server_message"] = e.server_message;
    if (!e.detail.empty()) o["detail"] = e.detail;
    if (!e.hint.empty()) o["hint"] = e.hint;
    return o;
}

void print_error(const error_info& e, const std::string& command) {
    std::string head = "livefour: " + e.headline;
    if (e.category != "usage") head += " [" + e.category + ":" + std::to_string(e.value) + "]";
    if (e.http_status) head += " (HTTP " + std::to_string(e.http_status) + ")";
    err_line(head);
    if (!e.server_message.empty()) err_line("  server: " + e.server_message);
    if (!e.detail.empty() && e.detail != e.headline) err_line("  detail: " + e.detail);
    if (!e.hint.empty()) err_line("  hint: " + e.hint);
    if (e.kind == "usage") err_line(try_help(command));
}

/// What both APIs' verdicts say: accepted, kind, and the reason as a code.
boost::json::object verdict_object(bool accepted, verdict_kind kind, const error_code& reason) {
    boost::json::object o;
    o["accepted"] = accepted;
    o["kind"] = kind_name(kind);
    if (reason) {
        o["reason"] = {
            {"category", reason.category().name()}, {"value", reason.value()}, {"message", reason.message()}};
    } else {
        o["reason"] = nullptr;
    }
    return o;
}

}  // namespace

void report::warn(const std::string& text) {
    err_line("livefour: warning: " + text);
    warnings_.push_back(text);
}

void report::verdict(const livefour::verdict& v, const detect_result& r, int threshold,
                     const std::string& what_compared) {
    auto o = verdict_object(v.accepted(), v.kind, v.reason);
    o["sim"] = v.sim >= 0 ? boost::json::value(v.sim) : boost::json::value(nullptr);
    o["threshold"] = threshold;
    verdict_json_ = std::move(o);
    verdict_line_ = "livefour: verdict: " + verdict_text(v, r, threshold, what_compared);
}

void report::verdict(const livefour::faceid::verdict& v, const livefour::faceid::liveness_result& r, int threshold) {
    auto o = verdict_object(v.accepted(), v.kind, v.reason);
    o["result"] = r.result;
    if (v.sim >= 0) {
        o["sim"] = sim_placeholder;
        verdict_sim_ = number_text(v.sim);
    } else {
        o["sim"] = nullptr;
    }
    o["threshold"] = threshold;
    verdict_json_ = std::move(o);
    verdict_line_ = "livefour: verdict: " + verdict_text(v, r, threshold);
}

namespace {

const char* why_name(livefour::diagnostics::attempt_record::kind k) {
    using kind = livefour::diagnostics::attempt_record::kind;
    switch (k) {
    case kind::first: return "first";
    case kind::retry: return "retry";
    case kind::keepalive_resend: return "keepalive_resend";
    }
    return "?";
}

const char* next_name(attempt_event::decision d) {
    switch (d) {
    case attempt_event::decision::done: return "done";
    case attempt_event::decision::retry: return "retry";
    case attempt_event::decision::keepalive_resend: return "keepalive_resend";
    case attempt_event::decision::resign: return "resign";
    }
    return "?";
}

}  // namespace

void report::attempt(const attempt_event& e) {
    boost::json::object x;
    x["attempt"] = e.attempt;
    x["why"] = why_name(e.why);
    x["connection_reused"] = e.connection_reused;
    if (!e.peer.empty()) x["peer"] = std::string(e.peer);
    if (!e.tls_version.empty()) x["tls_version"] = std::string(e.tls_version), x["tls_resumed"] = e.tls_resumed;
    x["pool_wait_us"] = e.pool_wait.count();
    x["resolve_us"] = e.resolve.count();
    x["connect_us"] = e.connect.count();
    x["handshake_us"] = e.handshake.count();
    x["bytes_sent"] = e.bytes_sent;
    x["first_byte_us"] = e.first_byte.count();
    x["duration_us"] = e.duration.count();
    x["http_status"] = e.http_status;
    if (!e.server_code.empty()) x["server_code"] = std::string(e.server_code);
    x["error"] = e.error ? boost::json::value(boost::json::object{{"category", e.error.category().name()},
                                                                  {"value", e.error.value()},
                                                                  {"message", cli_terms(e.error.message())}})
                         : boost::json::value(nullptr);
    x["next"] = next_name(e.next);
    if (!e.reason.empty()) x["reason"] = std::string(e.reason);
    if (e.next == attempt_event::decision::retry) {
        x["delay_ms"] = e.delay.count();
        retries_.push_back({{"category", e.error.category().name()},
                            {"value", e.error.value()},
                            {"message", e.error.message()},
                            {"delay_ms", e.delay.count()}});
    }
    exchanges_.push_back(std::move(x));
}

void report::stats(const diagnostics& diag, const pool_stats& pool, std::chrono::steady_clock::duration elapsed) {
    boost::json::object o;
    o["attempts"] = diag.attempts();
    o["retries"] = retries_;
    o["exchanges"] = exchanges_;
    o["elapsed_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    o["http_status"] = diag.http_status();
    o["connections_created"] = pool.created;
    o["requests_on_reused_connections"] = pool.reused;
    o["tls_resumed"] = pool.tls_resumed;
    o["requests"] = pool.requests;
    stats_json_ = std::move(o);
}

int report::finish(int status) {
    const bool answer_is_news = status == accepted || status == rejected;
    if (json_) {
        boost::json::object o;
        boost::json::value reply = nullptr;
        // The reply as received, spliced in, when it is one line of JSON; otherwise its value
        // re-serialised (a multi-line body), or the text as a string (not JSON at all).
        bool raw_reply = false;
        if (reply_) {
            boost::system::error_code ec;
            reply = boost::json::parse(*reply_, ec);
            if (ec) {
                reply = boost::json::string(*reply_);
            } else if (reply_->find_first_of("\r\n") == std::string::npos) {
                reply = reply_placeholder;
                raw_reply = true;
            }
        }
        o["reply"] = std::move(reply);
        o["verdict"] = verdict_json_ ? boost::json::value(*verdict_json_) : nullptr;
        o["error"] = error_ ? boost::json::value(error_json(*error_)) : nullptr;
        o["stats"] = stats_json_ ? boost::json::value(*stats_json_) : nullptr;
        boost::json::array w;
        for (const auto& s : warnings_) w.push_back(boost::json::string(s));
        o["warnings"] = std::move(w);
        o["exit"] = status;
        std::string text = boost::json::serialize(o);
        // The verdict's number first: the reply, spliced second, is the service's text.
        if (!verdict_sim_.empty()) splice(text, sim_placeholder, verdict_sim_);
        if (raw_reply) splice(text, reply_placeholder, *reply_);
        if (!write_stdout(text + "\n") && answer_is_news) return no_answer;
        return status;
    }
    const bool newline = reply_ && !reply_->empty() && reply_->back() == '\n';
    const bool written = !reply_ || write_stdout(*reply_ + (newline ? "" : "\n"));
    if (error_) print_error(*error_, command_);
    if (!verdict_line_.empty()) err_line(verdict_line_);
    // Input refused before sending is a usage error like the CLI's own: one line and the help
    // to read, last. There is nothing to count anyway.
    const bool refused = error_ && error_->kind == "usage";
    if (stats_ && stats_json_ && !refused) err_line(boost::json::serialize(*stats_json_));
    return !written && answer_is_news ? no_answer : status;
}

int report_usage_error(const usage_error& e, bool json, const std::vector<std::string>& warnings) {
    if (json) {
        boost::json::object o{{"reply", nullptr}, {"verdict", nullptr}, {"stats", nullptr}};
        o["error"] = error_json(describe_usage(e.what()));
        boost::json::array w;
        for (const auto& text : warnings) w.push_back(boost::json::string(text));
        o["warnings"] = std::move(w);
        o["exit"] = static_cast<int>(usage);
        write_stdout(boost::json::serialize(o) + "\n");
    }
    // The warnings first: "--secret-key does not apply" explains a "missing credentials".
    for (const auto& text : warnings) err_line("livefour: warning: " + text);
    err_line("livefour: " + std::string(e.what()));
    err_line(try_help(e.command));
    return usage;
}

upload_meter::upload_meter(bool show)
    : show_(show), tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

void upload_meter::operator()(std::uint64_t sent, std::optional<std::uint64_t> total) {
    if (sent < sent_) quarter_ = 0;  // a retry restarts the body
    sent_ = sent;
    total_ = total;
    if (!show_) return;
    const double mib = static_cast<double>(sent) / 1048576.0;
    if (!tty_) {  // a line each time a new quarter is passed, with the real figure
        if (!total || *total == 0) return;
        const int q = static_cast<int>(std::min<std::uint64_t>(4, 4 * sent / *total));
        if (q <= quarter_) return;
        quarter_ = q;
        std::fprintf(stderr, "livefour: uploaded %d%% (%.1f of %.1f MiB)%s\n", static_cast<int>(100 * sent / *total),
                     mib, static_cast<double>(*total) / 1048576.0, q == 4 ? ", waiting for the reply" : "");
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool complete = total && sent >= *total;
    if (!complete && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? mib / secs : 0;
    if (total && *total) {
        constexpr int width = 30;
        const int filled = static_cast<int>(width * static_cast<double>(sent) / static_cast<double>(*total));
        std::fprintf(stderr, "\r[%-*s] %3d%% %.1f/%.1f MiB %.1f MiB/s%s", width, std::string(filled, '#').c_str(),
                     static_cast<int>(100 * sent / *total), mib, static_cast<double>(*total) / 1048576.0, rate,
                     complete ? ", waiting for the reply" : "");
    } else {
        std::fprintf(stderr, "\r%.1f MiB sent, %.1f MiB/s", mib, rate);
    }
    std::fflush(stderr);
    drawn_ = true;
}

void upload_meter::done() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
}

void verbose_log::setup(const settings& cfg) {
    if (!on_) return;
    const auto& o = cfg.connection();
    const auto& endpoint = cfg.endpoint();
    err_line("* endpoint " + endpoint + " (" + (cfg.endpoint_source.empty() ? "default" : cfg.endpoint_source) + ")");
    if (!o.tls.ca_file.empty())
        err_line("* trusting the CAs in " + o.tls.ca_file + " (" + cfg.ca_source + ")");
    else if (endpoint.rfind("http://", 0) != 0)
        err_line("* trusting the system's CA store");
    if (!o.proxy.url.empty())
        err_line("* through the proxy " + cfg.proxy_display + " (" + cfg.proxy_source + ")");
    else if (!cfg.proxy_bypassed_by.empty())
        err_line("* no proxy: the endpoint's host is in " + cfg.proxy_bypassed_by);
    if (cfg.faceid()) {
        const auto& f = cfg.faceid_options;
        err_line("* credentials: secret id from " + cfg.secret_id_source + ", secret key from " +
                 cfg.secret_key_source +
                 (cfg.token_source.empty() ? ", no session token" : ", session token from " + cfg.token_source) +
                 " (never printed)");
        err_line("* region " + (f.region.empty() ? std::string("none (no X-TC-Region)") : f.region) + "; " +
                 (f.unsigned_payload ? "payload unsigned (UNSIGNED-PAYLOAD)" : "payload signed (SHA-256 of the body)"));
    } else {
        err_line("* credentials: appid from " + cfg.appid_source + ", secret id from " + cfg.secret_id_source +
                 ", secret key from " + cfg.secret_key_source + " (never printed)");
    }
    err_line("* up to " + std::to_string(o.retry.max_attempts) + " attempts; --connect-timeout " +
             seconds_text(o.timeout.connect) + ", --stall-timeout " + seconds_text(o.timeout.stall) + ", --deadline " +
             (o.timeout.deadline.count() ? seconds_text(o.timeout.deadline) : std::string("none")));
}

namespace {

/// A header block, one `prefix`ed line per header line, as curl -v shows them (the CRs dropped:
/// a log without carriage returns). The library has already redacted the credentials.
void header_lines(std::string_view block, const char* prefix) {
    while (!block.empty()) {
        const auto end = block.find('\n');
        std::string_view line = block.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) err_line(prefix + std::string(line));
        if (end == std::string_view::npos) break;
        block.remove_prefix(end + 1);
    }
}

std::string ms(std::chrono::microseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace

void verbose_log::attempt(const attempt_event& e) {
    if (!on_) return;
    const std::string n = "* attempt " + std::to_string(e.attempt);
    if (e.connection_reused) {
        err_line(n + ": on a kept-alive connection");
    } else if (!e.peer.empty()) {
        err_line(n + ": connected to " + std::string(e.peer) +
                 (e.tls_version.empty() ? std::string() : ", " + std::string(e.tls_version)) +
                 (e.tls_resumed ? " (session resumed)" : "") + " (resolve " + ms(e.resolve) + ", connect " +
                 ms(e.connect) + (e.tls_version.empty() ? "" : ", handshake " + ms(e.handshake)) + ")");
    }
    header_lines(e.request_header, "> ");
    header_lines(e.response_header, "< ");
    std::string result = n + ": sent " + std::to_string(e.bytes_sent) + " bytes";
    if (e.http_status)
        result += ", first reply byte after " + ms(e.first_byte) + ", HTTP " + std::to_string(e.http_status);
    if (!e.server_code.empty()) result += ", " + std::string(e.server_code);
    err_line(result + " in " + ms(e.duration));
    const std::string failed = n + " failed: " + cli_terms(e.error.message()) + " [" + e.error.category().name() + ":" +
                               std::to_string(e.error.value()) + "]";
    switch (e.next) {
    case attempt_event::decision::retry:
        err_line(failed + "; retrying in " + std::to_string(e.delay.count()) + " ms");
        break;
    case attempt_event::decision::keepalive_resend:
        err_line(n + ": the server had closed the kept-alive connection; sending again at once on a new one");
        break;
    case attempt_event::decision::resign: err_line(failed + "; signing again at once with the service's clock"); break;
    case attempt_event::decision::done:
        if (e.error && !e.reason.empty()) err_line(failed + "; not retried: " + std::string(e.reason));
        break;
    }
}

void verbose_log::finished(const diagnostics& diag, std::chrono::steady_clock::duration elapsed) {
    if (!on_) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    err_line("* " + (diag.http_status() ? "HTTP " + std::to_string(diag.http_status()) : std::string("no HTTP reply")) +
             " after " + std::to_string(diag.attempts()) + (diag.attempts() == 1 ? " attempt" : " attempts") + " in " +
             std::to_string(ms) + " ms");
}

}  // namespace livefour::cli
