// Many concurrent operations on several threads, in the two layouts a server can choose:
//   --layout shared (default)  one client shared by all, on one io_context run by every thread;
//   --layout per-thread        an io_context and a client per thread, each run by that thread only,
//                              so the clients skip their strands (client_options::thread_safe =
//                              false: about a sixth less CPU per small request, docs/options.md).
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-multi-thread --video selfie.mp4 [--count 100] [--threads 4]
//     [--layout shared|per-thread] [--endpoint URL] [--ca-file PEM]
//
// Starts --count verifications (digits, then detect) at once; each client's pool bounds how many
// connections they use (pool_options::max_connections, 16 by default) and the rest wait for one.
// Prints a summary. Exit status: 0 when every call completed (whatever the verdicts), 3 otherwise.
#include "example_common.hpp"

#include <livefour/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;

namespace {

constexpr const char* usage =
    "usage: livefour-example-multi-thread --video FILE [--count N] [--threads N] [--layout shared|per-thread]\n"
    "         [--endpoint URL] [--ca-file PEM]\n";

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

/// Outcomes, updated from every I/O thread.
struct tally {
    std::atomic<int> accepted{0};
    std::atomic<int> rejected{0};
    std::atomic<int> failed{0};
    std::mutex mutex;
    std::map<std::string, int> failures;  // what went wrong → how often; guarded by mutex

    void fail(const std::string& what) {
        failed.fetch_add(1);
        std::lock_guard lock(mutex);
        ++failures[what];
    }
    void fail(const livefour::error_code& ec) {
        fail(std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " " + ec.message());
    }
};

asio::awaitable<void> verify(livefour::client& client, const std::string& video_path, tally& out) {
    livefour::diagnostics diag;
    livefour::digits_request digits_req;  // named, not a braced temporary: docs/known-issues.md (GCC 12)
    auto [ec, digits] = co_await client.async_get_digits(std::move(digits_req), diag, as_result);
    if (ec) {
        out.fail(ec);
        co_return;
    }
    livefour::detect_request request{
        .validate_data = digits.validate_data,
        .video = livefour::body_source::file(video_path),
    };
    auto [dec, result] = co_await client.async_detect(std::move(request), diag, as_result);
    if (dec) {
        out.fail(dec);
        co_return;
    }
    (livefour::decide(result).accepted() ? out.accepted : out.rejected).fetch_add(1);
}

/// One io_context, run by one thread, with its own client: nothing in it ever runs on two threads
/// at once, so the client needs no strands.
struct worker {
    static livefour::client_options single_threaded(const example::args& args) {
        auto opts = example::client_options_from(args);
        opts.thread_safe = false;  // this io_context is run by exactly one thread
        return opts;
    }
    explicit worker(const example::args& args)
        : client(example::make_client(ioc.get_executor(), single_threaded(args))) {}
    asio::io_context ioc{1};  // before `client`, which is built on its executor
    livefour::client client;
    std::atomic<int> remaining{0};
};

/// Prints the summary line run_all.sh checks, and the failures; returns the exit status.
int report(int count, int threads, double elapsed, const tally& results, const livefour::pool_stats& s) {
    std::cout << count << " verifications on " << threads << " threads in " << elapsed << " s: " << results.accepted
              << " accepted, " << results.rejected << " rejected, " << results.failed << " failed\n"
              << "connections: " << s.created << " opened, " << s.reused << " reuses, " << s.requests
              << " HTTP exchanges\n";
    for (const auto& [what, n] : results.failures) std::cout << "  " << n << " x " << what << "\n";
    return results.failed == 0 ? 0 : 3;
}

/// --layout per-thread: the verifications are dealt round-robin to one worker per thread.
int run_per_thread(const example::args& args, const std::string& video, int count, int threads) {
    std::vector<std::unique_ptr<worker>> workers;
    for (int t = 0; t < threads; ++t) workers.push_back(std::make_unique<worker>(args));
    for (int i = 0; i < count; ++i) workers[static_cast<std::size_t>(i % threads)]->remaining.fetch_add(1);

    tally results;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        auto& w = *workers[static_cast<std::size_t>(i % threads)];
        asio::co_spawn(w.ioc, verify(w.client, video, results), [&results, &w](std::exception_ptr e) {
            if (e) results.fail("exception");
            if (w.remaining.fetch_sub(1) == 1) w.client.close();  // its last one lets run() return
        });
    }
    std::vector<std::thread> pool;
    for (auto& w : workers) pool.emplace_back([&ioc = w->ioc] { ioc.run(); });
    for (auto& t : pool) t.join();
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    livefour::pool_stats total;
    for (auto& w : workers) {
        const auto s = w->client.stats();
        total.created += s.created;
        total.reused += s.reused;
        total.requests += s.requests;
    }
    return report(count, threads, elapsed, results, total);
}

}  // namespace

int main(int argc, char** argv) {
    example::args args = example::parse_args(argc, argv, usage, {"--count", "--threads", "--layout"});
    const std::string video = args.get("--video");
    const auto count = static_cast<int>(args.get_number("--count", 100));
    const auto threads = static_cast<int>(args.get_number("--threads", 4));
    const std::string layout = args.get("--layout", "shared");
    if (video.empty() || threads < 1 || (layout != "shared" && layout != "per-thread")) {
        std::cerr << usage;
        return 2;
    }
    if (layout == "per-thread") return run_per_thread(args, video, count, threads);

    // The concurrency hint tells Asio that several threads will call run().
    asio::io_context ioc(threads);
    livefour::client client = example::make_client(ioc.get_executor(), example::client_options_from(args));

    tally results;
    std::atomic<int> remaining{count};
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        // Each coroutine gets its own strand: its steps never run concurrently with each other,
        // while different verifications run in parallel on the pool's threads. The client itself
        // needs no external locking.
        asio::co_spawn(asio::make_strand(ioc), verify(client, video, results), [&](std::exception_ptr e) {
            if (e) results.fail("exception");                 // e.g. std::bad_alloc; verify() reports errors by code
            if (remaining.fetch_sub(1) == 1) client.close();  // the last one lets run() return
        });
    }

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    for (auto& t : pool) t.join();
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    return report(count, threads, elapsed, results, client.stats());
}
