// Soak: 20,000 requests through one client while the emulator injects random faults. Every
// request completes (with success or a specific error), the pool's counters balance, and file
// descriptors and memory return to their baseline.
#include "fixtures.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>

#include <dirent.h>

#include <map>
#include <random>

namespace asio = boost::asio;
using livefour::client_error;

namespace {

/// A batch of random faults for the emulator's queue.
std::string random_faults(std::mt19937& rng, int n) {
    static const char* kinds[] = {
        R"({"fault":"code","code":15})",
        R"({"fault":"code","code":107})",
        R"({"fault":"code","code":108})",
        R"({"fault":"code","code":213})",
        R"({"fault":"reset","when":"after_body"})",
        R"({"fault":"close_after_body"})",
        R"({"fault":"delay","ms":5})",
        R"({"fault":"http_status","status":502,"body":"<html>502</html>"})",
        R"({"fault":"truncated_reply"})",
        R"({"fault":"reset","when":"before_body"})",
    };
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
        if (i) s += ",";
        s += kinds[rng() % std::size(kinds)];
    }
    return s + "]";
}

}  // namespace

TEST_CASE("soak: 20,000 requests with random faults") {
    const int total = 20'000, in_flight = 64, batch = 1'000;
    test::emulator emu({"--max-body-bytes", "0"});
    auto video = std::make_shared<const std::string>(test::mp4_magic() + std::string(4'000, 'v'));
    std::mt19937 rng(20261125);
    std::map<std::string, int> outcomes;
    int completed = 0;
    long rss_after_warmup = 0;
    const int fds_before = test::open_fds();
    {
        asio::io_context ioc;
        auto opts = emu.options();
        opts.pool.max_connections = 16;
        opts.retry.initial_backoff = std::chrono::milliseconds(1);
        opts.retry.throttle_backoff = std::chrono::milliseconds(2);
        opts.retry.max_backoff = std::chrono::milliseconds(10);
        opts.budget = std::make_shared<livefour::retry_budget>(1e6, 1);  // the soak is about leaks, not budgets
        opts.timeout.stall = std::chrono::seconds(10);
        livefour::client cl(ioc.get_executor(), opts);

        for (int start = 0; start < total; start += batch) {
            emu.fault(random_faults(rng, 100));
            int launched = 0, done = 0;
            std::function<void()> launch_one = [&] {
                if (launched >= batch) return;
                const int i = start + launched++;
                auto finish = [&](livefour::error_code ec) {
                    ++completed;
                    ++done;
                    outcomes[ec ? std::string(ec.category().name()) + ":" + std::to_string(ec.value()) : "ok"]++;
                    launch_one();
                };
                if (i % 4 == 0) {
                    cl.async_get_digits({}, [finish](livefour::error_code ec, livefour::digits_result) { finish(ec); });
                } else {
                    livefour::detect_request req;
                    req.validate_data = "1234";
                    req.video = livefour::body_source::memory(video, "v.mp4");
                    cl.async_detect(std::move(req),
                                    [finish](livefour::error_code ec, livefour::detect_result) { finish(ec); });
                }
            };
            for (int k = 0; k < in_flight; ++k) launch_one();
            ioc.restart();
            ioc.run_for(std::chrono::seconds(120));
            REQUIRE(done == batch);
            if (start == 0) rss_after_warmup = test::proc_status_kib(0, "VmRSS");
            emu.run_delete_faults();
        }
        auto st = cl.stats();
        CHECK(st.in_use == 0);
        CHECK(st.waiters == 0);
        CHECK(st.idle <= 16);
        CHECK(st.created - st.evicted >= st.idle);
        MESSAGE("pool: created " << st.created << ", evicted " << st.evicted << ", reused " << st.reused
                                 << ", requests " << st.requests << ", idle " << st.idle);
    }
    CHECK(completed == total);
    const long rss_end = test::proc_status_kib(0, "VmRSS");
    const int fds_after = test::open_fds();
    std::string summary;
    for (auto& [k, v] : outcomes) summary += " " + k + "=" + std::to_string(v);
    MESSAGE("outcomes:" << summary);
    MESSAGE("fds before " << fds_before << " after " << fds_after << "; RSS after warm-up " << rss_after_warmup
                          << " KiB, at the end " << rss_end << " KiB");
    CHECK(fds_after == fds_before);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    CHECK(rss_end - rss_after_warmup < 16 * 1024);  // sanitizers' quarantine makes RSS meaningless
#endif
    // Every outcome is success or a specific, expected error: nothing unexplained.
    for (auto& [k, v] : outcomes) {
        CAPTURE(k);
        const bool expected = k == "ok" || k.rfind("livefour.api:", 0) == 0 || k.rfind("livefour.client:", 0) == 0 ||
                              k == "system:104" || k == "asio.misc:2";
        CHECK(expected);
    }
    CHECK(outcomes["ok"] > total / 2);
}
