// What every example shares: its command line and the client options built from it.
//
//   --endpoint URL    API endpoint (default: the provider's; run_all.sh passes the emulator's)
//   --ca-file PEM     trust these CAs instead of the system store (the emulator's --write-ca file)
//   --video FILE      the recorded video to upload
// Credentials come from the environment only (LIVEFOUR_APPID, LIVEFOUR_SECRET_ID,
// LIVEFOUR_SECRET_KEY): command lines are visible to every user of the machine through ps.
//
// This file is example scaffolding, kept apart so that each example shows only the livefour part.
#pragma once

#include <livefour/client.hpp>
#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/system_error.hpp>

#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace example {

/// Parsed `--name value` / `--name=value` pairs.
struct args {
    std::map<std::string, std::string, std::less<>> values;

    /// The value of `name`, or `fallback` when absent.
    std::string get(std::string_view name, std::string fallback = {}) const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }

    /// The value of `name` as a non-negative integer, or `fallback` when absent. Exits on junk.
    unsigned long get_number(std::string_view name, unsigned long fallback) const {
        auto it = values.find(name);
        if (it == values.end()) return fallback;
        unsigned long v = 0;
        const std::string& s = it->second;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size()) {
            std::cerr << name << " needs a non-negative integer, got '" << s << "'\n";
            std::exit(2);
        }
        return v;
    }
};

/// Parses the flags in `known` (each takes a value); `--help` prints `usage` and exits 0, anything
/// else prints it and exits 2. --endpoint, --ca-file and --video are always accepted.
inline args parse_args(int argc, char** argv, std::string_view usage,
                       std::initializer_list<std::string_view> known = {}) {
    args a;
    auto is_known = [&](std::string_view name) {
        if (name == "--endpoint" || name == "--ca-file" || name == "--video") return true;
        for (auto k : known)
            if (k == name) return true;
        return false;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view s = argv[i];
        if (s == "-h" || s == "--help") {
            std::cout << usage;
            std::exit(0);
        }
        std::string_view name = s.substr(0, s.find('='));
        if (!is_known(name)) {
            std::cerr << "unknown argument '" << s << "'\n" << usage;
            std::exit(2);
        }
        if (name.size() != s.size()) {
            a.values[std::string(name)] = std::string(s.substr(name.size() + 1));
        } else if (i + 1 < argc) {
            a.values[std::string(name)] = argv[++i];
        } else {
            std::cerr << name << " needs a value\n" << usage;
            std::exit(2);
        }
    }
    return a;
}

/// Client options from --endpoint, --ca-file and the LIVEFOUR_* environment variables.
/// Exits with status 2 when a credential is missing.
inline livefour::client_options client_options_from(const args& a) {
    livefour::client_options opts;
    if (auto e = a.get("--endpoint"); !e.empty()) opts.endpoint = e;
    opts.tls.ca_file = a.get("--ca-file");
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v ? v : "";
    };
    opts.creds.appid = env("LIVEFOUR_APPID");
    opts.creds.secret_id = env("LIVEFOUR_SECRET_ID");
    opts.creds.secret_key = livefour::secret_string(env("LIVEFOUR_SECRET_KEY"));
    if (opts.creds.appid.empty() || opts.creds.secret_id.empty() || opts.creds.secret_key.empty()) {
        std::cerr << "set LIVEFOUR_APPID, LIVEFOUR_SECRET_ID and LIVEFOUR_SECRET_KEY\n";
        std::exit(2);
    }
    return opts;
}

/// Constructs the client. The constructor throws boost::system::system_error when the options are
/// unusable (a bad endpoint URL, missing credentials, an unreadable CA file); an example reports
/// that and exits with status 2 instead of terminating.
inline livefour::client make_client(boost::asio::any_io_executor ex, livefour::client_options opts) {
    try {
        return livefour::client(std::move(ex), std::move(opts));
    } catch (const boost::system::system_error& e) {
        std::cerr << "cannot create the client: " << e.what() << "\n";
        std::exit(2);
    }
}

/// One line for a failed operation: the code, then the server's text and livefour's explanation.
/// The server's message is untrusted input: print it as data, never act on it.
inline void print_error(std::string_view what, const livefour::error_code& ec, const livefour::diagnostics& diag) {
    std::cerr << what << ": " << ec.message() << " [" << ec.category().name() << ":" << ec.value() << "]";
    if (diag.http_status() != 0) std::cerr << " HTTP " << diag.http_status();
    if (!diag.server_message().empty()) std::cerr << " server: " << diag.server_message();
    if (!diag.client_message().empty()) std::cerr << " (" << diag.client_message() << ")";
    std::cerr << "\n";
}

}  // namespace example
