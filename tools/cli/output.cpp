// livefour CLI — the report, the progress meter and the -v log.
#include "output.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

boost::json::object error_json(const error_info& e) {
    boost::json::object o;
    o["kind"] = e.kind;
    o["category"] = e.category;
    o["value"] = e.value;
    o["message"] = e.headline;
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

}  // namespace

void report::warn(const std::string& text) {
    err_line("livefour: warning: " + text);
    warnings_.push_back(text);
}

void report::verdict(const livefour::verdict& v, const detect_result& r, int threshold,
                     const std::string& what_compared) {
    boost::json::object o;
    o["accepted"] = v.accepted();
    o["kind"] = kind_name(v.kind);
    if (v.reason) {
        o["reason"] = {
            {"category", v.reason.category().name()}, {"value", v.reason.value()}, {"message", v.reason.message()}};
    } else {
        o["reason"] = nullptr;
    }
    o["sim"] = v.sim >= 0 ? boost::json::value(v.sim) : boost::json::value(nullptr);
    o["threshold"] = threshold;
    verdict_json_ = std::move(o);
    verdict_line_ = "livefour: verdict: " + verdict_text(v, r, threshold, what_compared);
}

void report::stats(const diagnostics& diag, const pool_stats& pool, std::chrono::steady_clock::duration elapsed) {
    boost::json::array retries;
    for (const auto& r : diag.retries())
        retries.push_back({{"category", r.error.category().name()},
                           {"value", r.error.value()},
                           {"message", r.error.message()},
                           {"delay_ms", r.delay.count()}});
    boost::json::object o;
    o["attempts"] = diag.attempts();
    o["retries"] = std::move(retries);
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
        if (reply_) {
            boost::system::error_code ec;
            reply = boost::json::parse(*reply_, ec);
            if (ec) reply = boost::json::string(*reply_);
        }
        o["reply"] = std::move(reply);
        o["verdict"] = verdict_json_ ? boost::json::value(*verdict_json_) : nullptr;
        o["error"] = error_ ? boost::json::value(error_json(*error_)) : nullptr;
        o["stats"] = stats_json_ ? boost::json::value(*stats_json_) : nullptr;
        boost::json::array w;
        for (const auto& s : warnings_) w.push_back(boost::json::string(s));
        o["warnings"] = std::move(w);
        o["exit"] = status;
        if (!write_stdout(boost::json::serialize(o) + "\n") && answer_is_news) return no_answer;
        return status;
    }
    const bool written = !reply_ || write_stdout(*reply_ + "\n");
    if (error_) print_error(*error_, command_);
    if (!verdict_line_.empty()) err_line(verdict_line_);
    if (stats_ && stats_json_) err_line(boost::json::serialize(*stats_json_));
    return !written && answer_is_news ? no_answer : status;
}

int report_usage_error(const usage_error& e, bool json) {
    if (json) {
        boost::json::object o{{"reply", nullptr}, {"verdict", nullptr}, {"stats", nullptr}};
        o["error"] = error_json(describe_usage(e.what()));
        o["warnings"] = boost::json::array();
        o["exit"] = static_cast<int>(usage);
        write_stdout(boost::json::serialize(o) + "\n");
    }
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
    const auto& o = cfg.options;
    err_line("* endpoint " + o.endpoint + " (" + (cfg.endpoint_source.empty() ? "default" : cfg.endpoint_source) + ")");
    if (!o.tls.ca_file.empty())
        err_line("* trusting the CAs in " + o.tls.ca_file + " (" + cfg.ca_source + ")");
    else if (o.endpoint.rfind("http://", 0) != 0)
        err_line("* trusting the system's CA store");
    if (!o.proxy.url.empty())
        err_line("* through the proxy " + cfg.proxy_display + " (" + cfg.proxy_source + ")");
    else if (!cfg.proxy_bypassed_by.empty())
        err_line("* no proxy: the endpoint's host is in " + cfg.proxy_bypassed_by);
    err_line("* credentials: appid from " + cfg.appid_source + ", secret id from " + cfg.secret_id_source +
             ", secret key from " + cfg.secret_key_source + " (never printed)");
    err_line("* up to " + std::to_string(o.retry.max_attempts) + " attempts; --connect-timeout " +
             seconds_text(o.timeout.connect) + ", --stall-timeout " + seconds_text(o.timeout.stall) + ", --deadline " +
             (o.timeout.deadline.count() ? seconds_text(o.timeout.deadline) : std::string("none")));
}

void verbose_log::retry(const retry_event& e) {
    if (!on_) return;
    err_line("* attempt " + std::to_string(e.attempt) + " failed: " + cli_terms(e.error.message()) + " [" +
             e.error.category().name() + ":" + std::to_string(e.error.value()) + "]; retrying in " +
             std::to_string(e.delay.count()) + " ms");
}

void verbose_log::finished(const diagnostics& diag, std::chrono::steady_clock::duration elapsed) {
    if (!on_) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    err_line("* " + (diag.http_status() ? "HTTP " + std::to_string(diag.http_status()) : std::string("no HTTP reply")) +
             " after " + std::to_string(diag.attempts()) + (diag.attempts() == 1 ? " attempt" : " attempts") + " in " +
             std::to_string(ms) + " ms");
}

}  // namespace livefour::cli
