// livefour — command-line client for the lip-reading liveness API.
//
//   livefour digits [options]
//   livefour detect --validate-data D --video FILE [--card FILE] [--seq S] [options]
//
// Prints the server's reply as JSON on stdout, diagnostics on stderr. Exit statuses (docs/cli.md):
//   0 success (digits issued / verdict accepted), 1 negative verdict, 2 usage error,
//   3 API error (non-zero `code`), 4 transport or client-side error.
#include <livefour/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;

namespace {

enum exit_status : int { ok = 0, negative_verdict = 1, usage_error = 2, api_failure = 3, transport_failure = 4 };

constexpr const char* usage_text = R"(usage:
  livefour digits [options]
  livefour detect --validate-data DIGITS --video FILE [--card FILE] [--seq S] [options]

options:
  --endpoint URL          API endpoint (default https://recognition.image.myqcloud.com)
  --ca-file PEM           trust these CAs instead of the system store
  --insecure-http         allow an http:// endpoint
  --chunked               send the body with Transfer-Encoding: chunked
  --max-upload-bytes N    client-side upload limit in bytes (default 6291456; 0 = none)
  --threshold N           similarity needed to accept a comparison (default 70)
  --progress              show an upload progress bar on stderr
  --max-attempts N        attempts including the first (default 3; 1 = no retry)
  --connect-timeout S     resolve + connect bound in seconds (default 10)
  --stall-timeout S       no upload/download progress for S seconds fails (default 30)
  --deadline S            overall bound of the operation, retries included (default none)
  --stats                 one JSON line on stderr: attempts, retries and reasons, timings, reuse
  --seq S                 request sequence id, echoed by the service
  --appid ID              or env LIVEFOUR_APPID
  --secret-id ID          or env LIVEFOUR_SECRET_ID
  --secret-key KEY        or env LIVEFOUR_SECRET_KEY (prefer the environment: argv is visible to ps)
  -h, --help              this text

exit status: 0 success, 1 negative verdict, 2 usage error, 3 API error, 4 transport/client error
)";

struct args {
    std::string command;
    std::map<std::string, std::string> values;
    bool flag(const std::string& k) const { return values.count(k) != 0; }
    std::optional<std::string> get(const std::string& k) const {
        auto it = values.find(k);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "livefour: " << why << "\n" << usage_text;
    std::exit(usage_error);
}

args parse(int argc, char** argv) {
    static const std::vector<std::string> with_value = {
        "--endpoint", "--ca-file",      "--max-upload-bytes", "--threshold",     "--seq",
        "--appid",    "--secret-id",    "--secret-key",       "--validate-data", "--video",
        "--card",     "--max-attempts", "--connect-timeout",  "--stall-timeout", "--deadline"};
    static const std::vector<std::string> flags = {"--insecure-http", "--chunked", "--progress", "--stats"};
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "-h" || s == "--help") {
            std::cout << usage_text;
            std::exit(ok);
        }
        if (s.rfind("--", 0) != 0) {
            if (!a.command.empty()) usage("unexpected argument '" + s + "'");
            a.command = s;
            continue;
        }
        std::string value;
        bool inline_value = false;
        if (auto eq = s.find('='); eq != std::string::npos) {
            value = s.substr(eq + 1);
            s = s.substr(0, eq);
            inline_value = true;
        }
        if (std::find(flags.begin(), flags.end(), s) != flags.end()) {
            if (inline_value) usage(s + " takes no value");
            a.values[s] = "";
        } else if (std::find(with_value.begin(), with_value.end(), s) != with_value.end()) {
            if (!inline_value) {
                if (i + 1 >= argc) usage(s + " needs a value");
                value = argv[++i];
            }
            a.values[s] = value;
        } else {
            usage("unknown option '" + s + "'");
        }
    }
    if (a.command != "digits" && a.command != "detect")
        usage(a.command.empty() ? "missing command" : "unknown command '" + a.command + "'");
    return a;
}

std::uint64_t parse_number(const std::string& name, const std::string& s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) usage(name + " must be a non-negative integer");
    return v;
}

std::string from_arg_or_env(const args& a, const std::string& opt, const char* env) {
    if (auto v = a.get(opt)) return *v;
    if (const char* e = std::getenv(env)) return e;
    return {};
}

/// A one-line progress bar, redrawn at most ten times a second.
struct progress_bar {
    std::chrono::steady_clock::time_point last{};
    void operator()(std::uint64_t sent, std::optional<std::uint64_t> total) {
        auto now = std::chrono::steady_clock::now();
        bool done = total && sent >= *total;
        if (!done && now - last < std::chrono::milliseconds(100)) return;
        last = now;
        constexpr int width = 30;
        if (total && *total) {
            int filled = static_cast<int>(width * static_cast<double>(sent) / static_cast<double>(*total));
            std::fprintf(stderr, "\r[%-*s] %3d%% %.1f/%.1f MiB", width, std::string(filled, '#').c_str(),
                         static_cast<int>(100.0 * static_cast<double>(sent) / static_cast<double>(*total)),
                         static_cast<double>(sent) / 1048576.0, static_cast<double>(*total) / 1048576.0);
        } else {
            std::fprintf(stderr, "\r%.1f MiB sent", static_cast<double>(sent) / 1048576.0);
        }
        if (done) std::fputc('\n', stderr);
        std::fflush(stderr);
    }
};

std::chrono::milliseconds parse_seconds(const std::string& name, const std::string& s) {
    try {
        std::size_t used = 0;
        double v = std::stod(s, &used);
        if (used != s.size() || !(v >= 0) || v > 86400.0 * 90) throw std::invalid_argument(name);
        return std::chrono::milliseconds(static_cast<long long>(v * 1000));
    } catch (const std::exception&) {
        usage(name + " must be a number of seconds");
    }
}

/// --stats: one JSON line on stderr (attempts, retries with their reasons, timings, reuse).
void print_stats(const livefour::diagnostics& diag, const livefour::client& cl,
                 std::chrono::steady_clock::duration elapsed) {
    std::string retries = "[";
    for (std::size_t i = 0; i < diag.retries().size(); ++i) {
        const auto& r = diag.retries()[i];
        if (i) retries += ",";
        retries += "{\"category\":\"" + std::string(r.error.category().name()) +
                   "\",\"value\":" + std::to_string(r.error.value()) +
                   ",\"delay_ms\":" + std::to_string(r.delay.count()) + "}";
    }
    retries += "]";
    auto st = cl.stats();
    std::cerr << "{\"attempts\":" << diag.attempts() << ",\"retries\":" << retries
              << ",\"elapsed_ms\":" << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
              << ",\"http_status\":" << diag.http_status() << ",\"connections_created\":" << st.created
              << ",\"requests_on_reused_connections\":" << st.reused << ",\"tls_resumed\":" << st.tls_resumed
              << ",\"requests\":" << st.requests << "}\n";
}

void report_error(const livefour::error_code& ec, const livefour::diagnostics& diag) {
    std::cerr << "livefour: " << ec.message() << " [" << ec.category().name() << ":" << ec.value() << "]";
    if (diag.http_status()) std::cerr << " (HTTP " << diag.http_status() << ")";
    std::cerr << "\n";
    if (!diag.server_message().empty()) std::cerr << "  server: " << diag.server_message() << "\n";
    if (!diag.client_message().empty()) std::cerr << "  detail: " << diag.client_message() << "\n";
}

int exit_for(const livefour::error_code& ec) {
    return ec.category() == livefour::api_category() ? api_failure : transport_failure;
}

asio::awaitable<int> run_command(const args& a, livefour::client& cl, livefour::diagnostics& diag);

asio::awaitable<int> run(const args& a, livefour::client& cl) {
    livefour::diagnostics diag;
    const auto started = std::chrono::steady_clock::now();
    int status = co_await run_command(a, cl, diag);
    if (a.flag("--stats")) print_stats(diag, cl, std::chrono::steady_clock::now() - started);
    co_return status;
}

asio::awaitable<int> run_command(const args& a, livefour::client& cl, livefour::diagnostics& diag) {
    if (a.command == "digits") {
        livefour::digits_request req;
        req.seq = a.get("--seq");
        auto [ec, res] = co_await cl.async_get_digits(req, diag, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (ec.category() == livefour::api_category()) std::cout << livefour::to_json(res) << "\n";
            report_error(ec, diag);
            co_return exit_for(ec);
        }
        std::cout << livefour::to_json(res) << "\n";
        co_return ok;
    }

    livefour::detect_request req{
        .validate_data = a.get("--validate-data").value_or(""),
        .video = livefour::body_source::file(*a.get("--video")),
    };
    if (auto card = a.get("--card")) req.card = livefour::body_source::file(*card);
    req.seq = a.get("--seq");
    if (a.flag("--progress")) req.on_progress = progress_bar{};
    auto [ec, res] = co_await cl.async_detect(std::move(req), diag, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        if (ec.category() == livefour::api_category()) std::cout << livefour::to_json(res) << "\n";
        report_error(ec, diag);
        co_return exit_for(ec);
    }
    std::cout << livefour::to_json(res) << "\n";
    livefour::decision_policy policy;
    if (auto t = a.get("--threshold")) policy.threshold = static_cast<int>(parse_number("--threshold", *t));
    auto v = livefour::decide(res, policy);
    if (!v.accepted()) {
        std::cerr << "livefour: verdict: not accepted (" << v.reason.message() << ")\n";
        co_return negative_verdict;
    }
    std::cerr << "livefour: verdict: accepted" << (v.sim >= 0 ? " (sim " + std::to_string(v.sim) + ")" : "") << "\n";
    co_return ok;
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse(argc, argv);
    if (a.command == "detect") {
        if (!a.get("--video")) usage("detect needs --video FILE");
        if (!a.get("--validate-data")) usage("detect needs --validate-data DIGITS (from `livefour digits`)");
    }
    if (auto t = a.get("--threshold")) {
        auto v = parse_number("--threshold", *t);
        if (v > 100) usage("--threshold must be 0-100");
    }

    livefour::client_options opts;
    if (auto e = a.get("--endpoint")) opts.endpoint = *e;
    if (auto c = a.get("--ca-file")) opts.tls.ca_file = *c;
    opts.allow_insecure_http = a.flag("--insecure-http");
    opts.force_chunked = a.flag("--chunked");
    if (auto m = a.get("--max-upload-bytes")) opts.max_upload_bytes = parse_number("--max-upload-bytes", *m);
    if (auto m = a.get("--max-attempts")) {
        auto n = parse_number("--max-attempts", *m);
        if (n < 1 || n > 100) usage("--max-attempts must be 1-100");
        opts.retry.max_attempts = static_cast<int>(n);
    }
    if (auto t = a.get("--connect-timeout")) opts.timeout.connect = parse_seconds("--connect-timeout", *t);
    if (auto t = a.get("--stall-timeout")) opts.timeout.stall = parse_seconds("--stall-timeout", *t);
    if (auto t = a.get("--deadline")) opts.timeout.deadline = parse_seconds("--deadline", *t);
    opts.creds.appid = from_arg_or_env(a, "--appid", "LIVEFOUR_APPID");
    opts.creds.secret_id = from_arg_or_env(a, "--secret-id", "LIVEFOUR_SECRET_ID");
    opts.creds.secret_key = livefour::secret_string(from_arg_or_env(a, "--secret-key", "LIVEFOUR_SECRET_KEY"));
    if (opts.creds.appid.empty() || opts.creds.secret_id.empty() || opts.creds.secret_key.empty())
        usage(
            "credentials missing: --appid/--secret-id/--secret-key or LIVEFOUR_APPID/LIVEFOUR_SECRET_ID/"
            "LIVEFOUR_SECRET_KEY");

    asio::io_context ioc;
    std::optional<livefour::client> cl;
    try {
        cl.emplace(ioc.get_executor(), std::move(opts));
    } catch (const boost::system::system_error& e) {
        std::cerr << "livefour: " << e.what() << "\n";
        return e.code() == livefour::client_error::bad_endpoint ||
                       e.code() == livefour::client_error::insecure_http_refused
                   ? usage_error
                   : transport_failure;
    } catch (const std::exception& e) {  // e.g. an unreadable --ca-file
        std::cerr << "livefour: " << e.what() << "\n";
        return transport_failure;
    }
    int status = transport_failure;
    asio::co_spawn(ioc, run(a, *cl), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "livefour: " << ex.what() << "\n";
            }
            status = transport_failure;
        } else {
            status = s;
        }
        cl->close();
    });
    ioc.run();
    return status;
}
