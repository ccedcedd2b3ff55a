// livefour — command-line client for Tencent Cloud's liveness APIs (docs/cli.md): the legacy
// lip-reading API and API 3.0 `faceid`.
//
//   livefour digits [options]
//   livefour detect --validate-data DIGITS --video FILE [--card FILE] [options]
//   livefour idcard --validate-data DIGITS --video FILE --idcard-number N --idcard-name NAME [options]
//   livefour faceid live-code | action-sequence [options]
//   livefour faceid compare --liveness lip|action|silent [--validate-data D] --video F --image F [options]
//   livefour faceid recognize --liveness ... --video F --id-card N --name NAME [options]
//
// The service's reply goes to stdout; the verdict, errors, warnings and --stats to stderr (or all
// of it as one object with --json). Exit statuses: 0 accepted (digits issued), 1 negative verdict,
// 2 usage or input error, 3 the service answered an error code, 4 no usable answer.
//
// The files: args.cpp (flags, parser, help), config.cpp (settings and their checks), commands.cpp
// (the command table and the commands), messages.cpp (errors and verdicts in CLI terms),
// output.cpp (what is printed), this file (the order of it all).
#include "output.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <cstdio>
#include <optional>

namespace {

using namespace livefour::cli;

/// A client that cannot be built is a configuration error: the constructor does no I/O. Its
/// explanation is the exception's text without the code's own ": message [category:value]".
usage_error setup_error(const boost::system::system_error& e, const settings& cfg) {
    std::string why = e.what();
    const std::string suffix = ": " + e.code().what();
    if (why.size() >= suffix.size() && why.compare(why.size() - suffix.size(), suffix.size(), suffix) == 0)
        why.resize(why.size() - suffix.size());
    else if (why == e.code().what())
        why = e.code().message();
    const std::string source = cfg.endpoint_source.empty() ? "the default endpoint" : cfg.endpoint_source;
    const std::string cmd(cfg.command->name);
    if (e.code() == livefour::client_error::insecure_http_refused)
        return usage_error(source + ": http:// sends the signature in cleartext; add --insecure-http to allow it", cmd);
    if (e.code() == livefour::client_error::bad_proxy)  // the message never quotes the URL
        return usage_error(cfg.proxy_source + ": " + why, cmd);
    if (e.code() == livefour::client_error::bad_endpoint) {
        if (why.rfind("endpoint ", 0) == 0) why.erase(0, 9);
        return usage_error(source + ": " + why, cmd);
    }
    return usage_error("cannot set up the client: " + cli_terms(why), cmd);
}

int print_text(const std::string& text) {
    if (std::fputs(text.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
        std::perror("livefour: cannot write to stdout");
        return no_answer;
    }
    return accepted;
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    invocation inv;
    try {
        inv = parse_command_line(argc, argv, json);
    } catch (const usage_error& e) {
        return report_usage_error(e, json);
    }
    if (inv.help) return print_text(help_text(inv.command));
    if (inv.version) return print_text(version_text());

    settings cfg;
    try {
        cfg = configure(inv);
    } catch (usage_error& e) {
        if (e.command.empty()) e.command = std::string(inv.command->name);
        return report_usage_error(e, json, inv.warnings);
    }
    report out(cfg.json, cfg.stats, std::string(cfg.command->name));
    for (const auto& w : cfg.warnings) out.warn(w);
    verbose_log log(cfg.verbose);
    auto options = cfg.options;
    auto faceid_options = cfg.faceid_options;
    // -v and --stats (also part of --json) are both built on the library's attempt events.
    if (log || cfg.stats || cfg.json) {
        const bool headers = static_cast<bool>(log);
        auto on_attempt = [&log, &out](const livefour::attempt_event& e) {
            log.attempt(e);
            out.attempt(e);
        };
        for (livefour::connection_options* o : {static_cast<livefour::connection_options*>(&options),
                                                static_cast<livefour::connection_options*>(&faceid_options)}) {
            o->on_attempt = on_attempt;
            o->attempt_headers = headers;
        }
    }

    boost::asio::io_context ioc;
    std::optional<livefour::client> client;
    std::optional<livefour::faceid::client> faceid;
    try {
        if (cfg.faceid())
            faceid.emplace(ioc.get_executor(), std::move(faceid_options));
        else
            client.emplace(ioc.get_executor(), std::move(options));
    } catch (const boost::system::system_error& e) {
        return report_usage_error(setup_error(e, cfg), json);
    } catch (const std::exception& e) {
        return report_usage_error(
            usage_error("cannot set up the client: " + cli_terms(e.what()), std::string(cfg.command->name)), json);
    }
    log.setup(cfg);

    session s{cfg, client ? &*client : nullptr, faceid ? &*faceid : nullptr, out, log};
    int status = no_answer;
    boost::asio::co_spawn(ioc, cfg.command->run(s), [&](std::exception_ptr e, int st) {
        status = st;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                error_info internal;
                internal.kind = "transport";
                internal.category = "internal";
                internal.headline = std::string("internal error: ") + ex.what();
                out.error(internal);
            }
            status = no_answer;
        }
        if (client) client->close();
        if (faceid) faceid->close();
    });
    ioc.run();
    return out.finish(status);
}
