// livefour's attempt events (connection_options::on_attempt) exported as Prometheus metrics, from
// an HTTP endpoint embedded with prometheus-cpp (`prometheus::Exposer` serves GET /metrics).
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-prometheus --video selfie.mp4 [--api legacy|faceid] [--image face.jpg]
//     [--count 10] [--concurrency 4] [--threads 2]
//     [--metrics-address 127.0.0.1] [--metrics-port 9464] [--serve-seconds S]
//     [--endpoint URL] [--ca-file PEM]
//
// Runs --count verifications (legacy: livegetfour then livedetectfour; faceid: GetLiveCode then
// LivenessCompare of --video against --image), --concurrency at a time on --threads threads, and
// serves the metrics all along. It prints `metrics listening on ADDRESS:PORT` once the endpoint
// is up and `workload done: …` when the verifications have ended; it keeps serving /metrics until
// SIGINT or SIGTERM, or for --serve-seconds after the workload. --metrics-port 0 picks a free port.
// Exit status: 0 every verification completed (whatever its verdict), 3 some failed, 2 a bad
// command line, 1 the metrics endpoint could not listen.
//
// The metrics (docs/observability.md has a sample exposition), every one labelled by `operation`
// (the API's name: livegetfour, livedetectfour, GetLiveCode, LivenessCompare, …):
//   livefour_attempts_total{outcome,decision}             every attempt, by how it ended and what came next
//   livefour_attempt_duration_seconds                     the whole attempt, pool wait included
//   livefour_attempt_{pool_wait,resolve,connect,first_byte}_seconds, livefour_attempt_tls_handshake_seconds{resumed}
//   livefour_sent_bytes_total                             request bytes handed to the kernel
//   livefour_http_responses_total{code}                   replies by HTTP status
//   livefour_attempt_connections_total{connection}        reused, new, new_resumed (TLS session), none
//   livefour_retries_total{decision,reason}               attempts followed by another, by the failure's outcome
//   livefour_retry_backoff_seconds_total                  time spent waiting before retries
//   livefour_operations_failed_total{outcome,reason}      failures not retried, by why not
//
// Label values come from closed sets only, so that the number of series stays bounded whatever the
// server answers: no request ids, no server messages, no raw error strings.
#include "example_common.hpp"

#include <livefour/attempt_event.hpp>
#include <livefour/client.hpp>
#include <livefour/error.hpp>
#include <livefour/faceid/client.hpp>
#include <livefour/faceid/error.hpp>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
using livefour::attempt_event;

namespace {

constexpr const char* usage =
    "usage: livefour-example-prometheus --video FILE [--api legacy|faceid] [--image FILE (faceid)]\n"
    "         [--count N] [--concurrency N] [--threads N]\n"
    "         [--metrics-address ADDR] [--metrics-port PORT] [--serve-seconds S]\n"
    "         [--endpoint URL] [--ca-file PEM]\n";

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// ---------------------------------------------------------------------------------------------
// The exporter: everything a server needs to copy is in this section.

/// The short, stable name of a livefour::condition, for a label value.
std::string_view condition_name(livefour::condition c) {
    switch (c) {
    case livefour::condition::auth: return "auth";
    case livefour::condition::rate_limit: return "rate_limit";
    case livefour::condition::bad_request: return "bad_request";
    case livefour::condition::server: return "server";
    case livefour::condition::verdict: return "verdict";
    case livefour::condition::identity: return "identity";
    case livefour::condition::transport: return "transport";
    }
    return "other";
}

/// How an attempt ended, as a label value from a closed set: "ok"; a legacy API code as its number
/// ("15"), but only a code livefour classifies (a server could send any integer); a faceid code as
/// its wire string ("RequestLimitExceeded"), which livefour's table closes (a code not in it is
/// "faceid_unknown": the raw string stays in diagnostics, not in a label); otherwise the condition
/// ("transport", "server", …) or "other" for an error livefour does not classify. A number is
/// written into `buffer`, which the result then views.
std::string_view outcome_of(const livefour::error_code& ec, std::string& buffer) {
    if (!ec) return "ok";
    if (ec.category() == livefour::api_category()) {
        if (!livefour::condition_of(ec)) return "api_unknown";
        buffer = std::to_string(ec.value());
        return buffer;
    }
    if (ec.category() == livefour::faceid::category()) {
        const auto wire = livefour::faceid::wire_code(static_cast<livefour::faceid::errc>(ec.value()));
        return wire.empty() ? "faceid_unknown" : wire;  // a view into livefour's static table
    }
    if (const auto c = livefour::condition_of(ec)) return condition_name(*c);
    return "other";
}

std::string_view decision_name(attempt_event::decision d) {
    switch (d) {
    case attempt_event::decision::done: return "done";
    case attempt_event::decision::retry: return "retry";
    case attempt_event::decision::keepalive_resend: return "keepalive_resend";
    case attempt_event::decision::resign: return "resign";
    }
    return "other";
}

/// Why a failed attempt was the operation's last, as a label value. attempt_event::reason is text
/// for people; matching it here against the phrases the retry loop uses keeps the label a closed
/// set, whatever a later version says ("other" then: nothing breaks, the series is just coarser).
std::string_view give_up_reason(std::string_view reason) {
    // clang-format off
    static constexpr std::pair<std::string_view, std::string_view> known[] = {
        {"not retryable",                          "not_retryable"},
        {"attempts used up",                       "attempts_used_up"},
        {"the client's retry budget is exhausted", "budget_exhausted"},
        {"retries are off (max_attempts 1)",       "retries_off"},
        {"the body's source cannot be read again", "source_not_rewindable"},
        {"the timestamp was refused again",        "timestamp_refused_again"},
    };
    // clang-format on
    for (const auto& [text, label] : known)
        if (reason == text) return label;
    return "other";
}

/// Seconds as Prometheus wants them (base units, a double).
double seconds(std::chrono::microseconds d) { return std::chrono::duration<double>(d).count(); }

using counter_family = prometheus::Family<prometheus::Counter>;
using histogram_family = prometheus::Family<prometheus::Histogram>;

/// The series of one counter family, found by their label values. Family::Add wants a
/// prometheus::Labels, a std::map of strings, which it hashes under the family's lock: building
/// one per event costs allocations and about a microsecond. Here a series is looked up by its
/// values joined into a reused buffer, under a shared lock, and Add is called once per series.
class counter_series {
public:
    counter_series(counter_family& family, std::vector<std::string> label_names)
        : family_(family), names_(std::move(label_names)) {}

    /// The series with these label values, in the order of the names given to the constructor.
    prometheus::Counter& at(std::initializer_list<std::string_view> values) {
        thread_local std::string key;  // one per thread, reused: no allocation once it has grown
        key.clear();
        for (auto v : values) (key += v) += '\x1f';  // no label value of ours contains it
        {
            std::shared_lock lock(mutex_);
            if (auto it = series_.find(std::string_view(key)); it != series_.end()) return *it->second;
        }
        prometheus::Labels labels;
        auto name = names_.begin();
        for (auto v : values) labels.emplace(*name++, std::string(v));
        std::unique_lock lock(mutex_);
        prometheus::Counter& c = family_.Add(labels);  // the existing series when it has one already
        series_.try_emplace(key, &c);
        return c;
    }

private:
    struct hash {
        using is_transparent = void;  // find() with a string_view: no key string built per lookup
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    counter_family& family_;
    const std::vector<std::string> names_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, prometheus::Counter*, hash, std::equal_to<>> series_;
};

/// The attempt events of every client that calls record() as metrics of one registry.
///
/// record() is called on the clients' executors, from several threads at once: prometheus-cpp's
/// counters and histograms are atomics, and its families lock a mutex only to add a series. Each
/// series is created once and then found under shared locks, with no allocation (a histogram
/// locks its own mutex to observe): under a microsecond per event (docs/observability.md), against
/// the tens of microseconds of CPU an attempt costs.
class attempt_metrics {
public:
    explicit attempt_metrics(prometheus::Registry& registry)
        : attempts_(counter(registry, "livefour_attempts_total",
                            "Attempts (HTTP exchanges, first ones, retries and resends) by operation, outcome "
                            "(ok, API code, faceid code or livefour condition) and what the retry loop did next"),
                    {"operation", "outcome", "decision"}),
          duration_(histogram(registry, "livefour_attempt_duration_seconds",
                              "Duration of whole attempts, the wait for a pooled connection included")),
          pool_wait_(histogram(registry, "livefour_attempt_pool_wait_seconds",
                               "Time attempts waited for a connection from the pool")),
          resolve_(histogram(registry, "livefour_attempt_resolve_seconds",
                             "Name resolution of attempts that opened a new connection")),
          connect_(histogram(registry, "livefour_attempt_connect_seconds",
                             "TCP connect of attempts that opened a new connection, failed connects included")),
          handshake_(histogram(registry, "livefour_attempt_tls_handshake_seconds",
                               "TLS handshakes of new connections, failed ones included, by whether a cached "
                               "session was resumed")),
          first_byte_(histogram(registry, "livefour_attempt_first_byte_seconds",
                                "From the first request byte written to the first reply byte read, for attempts "
                                "that got a reply")),
          sent_bytes_(counter(registry, "livefour_sent_bytes_total",
                              "Request bytes handed to the kernel, headers included, retries included")),
          http_(counter(registry, "livefour_http_responses_total", "Replies received, by HTTP status code"),
                {"operation", "code"}),
          connections_(counter(registry, "livefour_attempt_connections_total",
                               "Attempts by connection: reused from the pool, new, new with a resumed TLS "
                               "session, or none (failed before a TCP connect: pool wait, name resolution)"),
                       {"operation", "connection"}),
          retries_(counter(registry, "livefour_retries_total",
                           "Attempts followed by another attempt, by decision (retry after a backoff, "
                           "keepalive_resend, resign) and reason (the outcome of the failed attempt)"),
                   {"operation", "decision", "reason"}),
          backoff_(counter(registry, "livefour_retry_backoff_seconds_total",
                           "Time operations were told to wait before their retries")),
          failed_(counter(registry, "livefour_operations_failed_total",
                          "Operations whose last attempt failed, by outcome and by why it was not retried"),
                  {"operation", "outcome", "reason"}) {}

    /// The connection_options::on_attempt hook. The metrics must outlive every client using it.
    livefour::attempt_hook hook() {
        return [this](const attempt_event& e) { record(e); };
    }

    void record(const attempt_event& e) {
        thread_local std::string outcome_buffer, status_buffer;
        const std::string_view op = e.operation, outcome = outcome_of(e.error, outcome_buffer);
        const per_operation& m = of(op);

        attempts_.at({op, outcome, decision_name(e.next)}).Increment();
        m.duration->Observe(seconds(e.duration));
        m.pool_wait->Observe(seconds(e.pool_wait));
        // A phase that did not run reports zero; only the phases that ran are observed, so that a
        // pooled connection's zeros do not drown the real connect times.
        const bool opened = !e.connection_reused && (e.connect.count() > 0 || !e.peer.empty());
        if (opened) {
            m.resolve->Observe(seconds(e.resolve));
            m.connect->Observe(seconds(e.connect));
        }
        if (!e.connection_reused && e.handshake.count() > 0)
            (e.tls_resumed ? m.handshake_resumed : m.handshake_full)->Observe(seconds(e.handshake));
        if (e.http_status != 0) {
            m.first_byte->Observe(seconds(e.first_byte));
            // Any three-digit status is a valid label value; anything else is grouped.
            const bool valid = e.http_status >= 100 && e.http_status <= 599;
            if (valid) status_buffer = std::to_string(e.http_status);
            http_.at({op, valid ? std::string_view(status_buffer) : "other"}).Increment();
        }
        m.sent_bytes->Increment(static_cast<double>(e.bytes_sent));
        const char* connection = e.connection_reused ? "reused"
                                 : !opened           ? "none"
                                 : e.tls_resumed     ? "new_resumed"
                                                     : "new";
        connections_.at({op, connection}).Increment();

        if (e.next != attempt_event::decision::done) {
            retries_.at({op, decision_name(e.next), outcome}).Increment();
            m.backoff->Increment(std::chrono::duration<double>(e.delay).count());
        } else if (e.error) {
            failed_.at({op, outcome, give_up_reason(e.reason)}).Increment();
        }
    }

private:
    /// The series labelled by the operation alone.
    struct per_operation {
        prometheus::Histogram *duration, *pool_wait, *resolve, *connect, *handshake_full, *handshake_resumed,
            *first_byte;
        prometheus::Counter *sent_bytes, *backoff;
    };

    static counter_family& counter(prometheus::Registry& registry, const char* name, const char* help) {
        return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
    }
    static histogram_family& histogram(prometheus::Registry& registry, const char* name, const char* help) {
        return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
    }

    /// From 1 ms to a minute: a resumed handshake on a LAN and a 6 MB upload on a slow uplink both
    /// fall inside.
    static prometheus::Histogram::BucketBoundaries buckets() {
        return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    }

    /// The series of `op`, created on its first attempt. Operations are a handful of names fixed
    /// by the library, so the map stays tiny; lookups share the lock, only the first one of an
    /// operation takes it exclusively.
    const per_operation& of(std::string_view op) {
        {
            std::shared_lock lock(mutex_);
            if (auto it = by_operation_.find(op); it != by_operation_.end()) return it->second;
        }
        std::unique_lock lock(mutex_);
        if (auto it = by_operation_.find(op); it != by_operation_.end()) return it->second;
        const prometheus::Labels l{{"operation", std::string(op)}};
        auto with = [&](const char* key, const char* value) {
            auto labels = l;
            labels.emplace(key, value);
            return labels;
        };
        per_operation m{&duration_.Add(l, buckets()),
                        &pool_wait_.Add(l, buckets()),
                        &resolve_.Add(l, buckets()),
                        &connect_.Add(l, buckets()),
                        &handshake_.Add(with("resumed", "false"), buckets()),
                        &handshake_.Add(with("resumed", "true"), buckets()),
                        &first_byte_.Add(l, buckets()),
                        &sent_bytes_.Add(l),
                        &backoff_.Add(l)};
        return by_operation_.emplace(op, m).first->second;  // references into a std::map stay valid
    }

    counter_series attempts_;
    histogram_family &duration_, &pool_wait_, &resolve_, &connect_, &handshake_, &first_byte_;
    counter_family& sent_bytes_;
    counter_series http_, connections_, retries_;
    counter_family& backoff_;
    counter_series failed_;
    std::shared_mutex mutex_;
    std::map<std::string, per_operation, std::less<>> by_operation_;
};

// ---------------------------------------------------------------------------------------------
// The workload: verifications that make attempts to measure.

struct tally {
    std::atomic<int> accepted{0}, rejected{0}, failed{0};
};

/// One legacy verification: digits, then the upload.
asio::awaitable<void> verify_legacy(livefour::client& client, std::string video, tally& out) {
    livefour::diagnostics diag;
    livefour::digits_request digits_req;  // named, not a braced temporary: docs/known-issues.md (GCC 12)
    auto [ec, digits] = co_await client.async_get_digits(std::move(digits_req), diag, as_result);
    if (ec) {
        example::print_error("livegetfour", ec, diag);
        out.failed.fetch_add(1);
        co_return;
    }
    livefour::detect_request req{.validate_data = digits.validate_data, .video = livefour::body_source::file(video)};
    auto [dec, result] = co_await client.async_detect(std::move(req), diag, as_result);
    if (dec) {
        example::print_error("livedetectfour", dec, diag);
        out.failed.fetch_add(1);
        co_return;
    }
    (livefour::decide(result).accepted() ? out.accepted : out.rejected).fetch_add(1);
}

/// One API 3.0 verification: a live code, then the video compared with the photo.
asio::awaitable<void> verify_faceid(livefour::faceid::client& client, std::string video, std::string image,
                                    tally& out) {
    livefour::diagnostics diag;
    auto [ec, code] = co_await client.async_get_live_code(diag, as_result);
    if (ec) {
        example::print_error("GetLiveCode", ec, diag);
        out.failed.fetch_add(1);
        co_return;
    }
    livefour::faceid::compare_request req{.validate_data = code.live_code,
                                          .image = livefour::body_source::file(image),
                                          .video = livefour::body_source::file(video)};
    auto [cec, result] = co_await client.async_compare(std::move(req), diag, as_result);
    if (cec) {
        example::print_error("LivenessCompare", cec, diag);
        out.failed.fetch_add(1);
        co_return;
    }
    (livefour::faceid::decide(result).accepted() ? out.accepted : out.rejected).fetch_add(1);
}

/// The faceid client's options from the same flags and environment (no appid in API 3.0).
livefour::faceid::client_options faceid_options_from(const example::args& args,
                                                     const livefour::client_options& legacy) {
    livefour::faceid::client_options opts;
    static_cast<livefour::connection_options&>(opts) = legacy;  // TLS, pool, retries, the hook
    if (auto e = args.get("--endpoint"); !e.empty()) opts.endpoint = e;
    opts.creds.secret_id = legacy.creds.secret_id;
    opts.creds.secret_key = legacy.creds.secret_key;
    return opts;
}

}  // namespace

int main(int argc, char** argv) {
    const example::args args = example::parse_args(argc, argv, usage,
                                                   {"--api", "--image", "--count", "--concurrency", "--threads",
                                                    "--metrics-address", "--metrics-port", "--serve-seconds"});
    const std::string video = args.get("--video"), image = args.get("--image"), api = args.get("--api", "legacy");
    const auto count = static_cast<int>(args.get_number("--count", 10));
    const auto concurrency = static_cast<int>(args.get_number("--concurrency", 4));
    const auto threads = static_cast<int>(args.get_number("--threads", 2));
    const auto port = args.get_number("--metrics-port", 9464);
    const bool serve_for = !args.get("--serve-seconds").empty();
    const auto serve_seconds = args.get_number("--serve-seconds", 0);
    if (video.empty() || (api != "legacy" && api != "faceid") || (api == "faceid" && image.empty()) ||
        concurrency < 1 || threads < 1 || port > 65535) {
        std::cerr << usage;
        return 2;
    }

    // The registry is shared: the exposer's threads serialize it while the I/O threads update it.
    auto registry = std::make_shared<prometheus::Registry>();
    attempt_metrics metrics(*registry);
    std::unique_ptr<prometheus::Exposer> exposer;
    try {
        exposer = std::make_unique<prometheus::Exposer>(args.get("--metrics-address", "127.0.0.1") + ":" +
                                                        std::to_string(port));
    } catch (const std::exception& e) {
        std::cerr << "cannot listen for metrics: " << e.what() << "\n";
        return 1;
    }
    exposer->RegisterCollectable(registry);
    std::cout << "metrics listening on " << args.get("--metrics-address", "127.0.0.1") << ":"
              << exposer->GetListeningPorts().at(0) << std::endl;

    auto opts = example::client_options_from(args);
    opts.on_attempt = metrics.hook();

    asio::io_context ioc(threads);  // several threads run it: the hook is called concurrently
    std::unique_ptr<livefour::client> legacy;
    std::unique_ptr<livefour::faceid::client> faceid;
    try {
        if (api == "legacy")
            legacy = std::make_unique<livefour::client>(ioc.get_executor(), opts);
        else
            faceid = std::make_unique<livefour::faceid::client>(ioc.get_executor(), faceid_options_from(args, opts));
    } catch (const boost::system::system_error& e) {
        std::cerr << "cannot create the client: " << e.what() << "\n";
        return 2;
    }
    auto close_client = [&] { legacy ? legacy->close() : faceid->close(); };

    // The signal set and the timer are not thread-safe objects: they are only touched on this strand.
    auto control = asio::make_strand(ioc);
    asio::signal_set signals(control, SIGINT, SIGTERM);
    asio::steady_timer serve_timer(control);
    auto stop = [&] {  // on `control`
        close_client();
        signals.cancel();
        serve_timer.cancel();
        ioc.stop();
    };
    signals.async_wait([&](const livefour::error_code& ec, int) {
        if (!ec) stop();
    });

    // --concurrency workers take the next verification until --count have started. (A coroutine
    // lambda's captures live in the closure, not in the coroutine: this one lives until main returns.)
    tally results;
    std::atomic<int> next{0}, workers{concurrency};
    const auto start = std::chrono::steady_clock::now();
    auto worker = [&]() -> asio::awaitable<void> {
        while (next.fetch_add(1) < count) {
            if (legacy)
                co_await verify_legacy(*legacy, video, results);
            else
                co_await verify_faceid(*faceid, video, image, results);
        }
    };
    for (int i = 0; i < concurrency; ++i) {
        asio::co_spawn(asio::make_strand(ioc), worker(), [&](std::exception_ptr e) {
            if (e) results.failed.fetch_add(1);
            if (workers.fetch_sub(1) != 1) return;
            // The last worker: report, let idle connections go, and serve the metrics on.
            const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::cout << "workload done: " << count << " verifications in " << elapsed << " s: " << results.accepted
                      << " accepted, " << results.rejected << " rejected, " << results.failed << " failed" << std::endl;
            close_client();
            if (!serve_for) return;
            asio::post(control, [&] {
                serve_timer.expires_after(std::chrono::seconds(serve_seconds));
                serve_timer.async_wait([&](const livefour::error_code& ec) {
                    if (!ec) stop();
                });
            });
        });
    }

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    // Stopped by a signal before the end, the workload did not complete either.
    return results.failed == 0 && results.accepted + results.rejected == count ? 0 : 3;
}
