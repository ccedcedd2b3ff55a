// livefour CLI — everything the CLI prints: the run's report (the reply on stdout, the error or
// verdict and the stats on stderr, or all of it as one --json object), the progress meter and the
// -v log. stdout is written once, at the end, and a failed write is an error (status 4).
#pragma once

#include "messages.hpp"

#include <livefour/attempt_event.hpp>
#include <livefour/client.hpp>
#include <livefour/faceid/client.hpp>
#include <livefour/retry.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace livefour::cli {

/// What one run produced; printed by finish().
class report {
public:
    /// `command` names the help that a usage error points to.
    report(bool json, bool stats, std::string command) : json_(json), stats_(stats), command_(std::move(command)) {}

    /// Printed on stderr at once ("livefour: warning: ..."), and kept for --json.
    void warn(const std::string& text);
    /// The service's reply exactly as received (diagnostics::reply_body()): fields livefour does
    /// not model, such as the echoed `seq`, stay; nothing is added.
    void reply(std::string body) { reply_ = std::move(body); }
    void verdict(const livefour::verdict& v, const detect_result& r, int threshold, const std::string& what_compared);
    void verdict(const livefour::faceid::verdict& v, const livefour::faceid::liveness_result& r, int threshold);
    void error(error_info e) { error_ = std::move(e); }
    /// One attempt event of the library (connection_options::on_attempt): --stats lists them as
    /// "exchanges", and takes its retries from them.
    void attempt(const livefour::attempt_event& e);
    void stats(const diagnostics& diag, const pool_stats& pool, std::chrono::steady_clock::duration elapsed);
    /// Prints everything and returns the exit status: `status`, or 4 when stdout could not be
    /// written although the answer was the news (statuses 0 and 1).
    int finish(int status);

private:
    bool json_, stats_;
    std::string command_;
    std::vector<std::string> warnings_;
    std::optional<std::string> reply_;
    std::optional<error_info> error_;
    std::optional<boost::json::object> verdict_json_;
    std::string verdict_line_;
    std::string verdict_sim_;  ///< faceid's sim, as number_text() writes it
    std::optional<boost::json::object> stats_json_;
    boost::json::array exchanges_, retries_;
};

/// Prints a usage error: the warnings not printed yet, one line and "try 'livefour COMMAND
/// --help'", or the --json object.
int report_usage_error(const usage_error& e, bool json, const std::vector<std::string>& warnings = {});

/// Upload progress: a redrawn bar on a terminal, one line per quarter elsewhere (a CI log must not
/// fill with carriage returns). Also remembers whether the last attempt sent the whole body.
class upload_meter {
public:
    explicit upload_meter(bool show);
    void operator()(std::uint64_t sent, std::optional<std::uint64_t> total);
    /// Ends the bar's line before anything else is printed.
    void done();
    bool fully_sent() const { return total_ && sent_ >= *total_; }
    std::uint64_t total() const { return total_.value_or(sent_); }

private:
    bool show_, tty_;
    std::uint64_t sent_ = 0;
    std::optional<std::uint64_t> total_;
    int quarter_ = 0;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

/// -v: the configuration (the endpoint, where the credentials came from), then per attempt what
/// the library reports (connection_options::on_attempt): the peer, the TLS version, the phase
/// times, the header blocks with their credentials redacted, the status and the retry decision;
/// then the final status. This is the one place -v prints from.
class verbose_log {
public:
    explicit verbose_log(bool on) : on_(on) {}
    explicit operator bool() const { return on_; }
    void setup(const settings& cfg);
    /// Installed as connection_options::on_attempt (with attempt_headers).
    void attempt(const attempt_event& e);
    void finished(const diagnostics& diag, std::chrono::steady_clock::duration elapsed);

private:
    bool on_;
};

/// One run: what a command's runner needs. Exactly one of the clients exists: the one of the
/// command's API (command_spec::backend).
struct session {
    const settings& cfg;
    livefour::client* client;
    livefour::faceid::client* faceid;
    report& out;
    verbose_log& log;

    pool_stats stats() const { return client ? client->stats() : faceid ? faceid->stats() : pool_stats{}; }
};

}  // namespace livefour::cli
