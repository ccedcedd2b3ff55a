// Cancellation under stress: whenever a cancellation lands — connecting, in the TLS handshake, in
// any phase of a large upload, or while the reply is awaited — the operation completes promptly
// with operation_aborted and the server never receives a complete body of a cancelled upload.
//
// Each round starts a few operations at once and cancels each at a random moment in 0–200 ms, by
// one of the three ways a user cancels: a bound cancellation slot emitted from a timer,
// livefour::cancel_after, and the awaitable `||` operator. Every combination runs with
// client_options::thread_safe on and off, and on an io_context run by two threads. The same
// guarantee is checked for close(), the stall timeout and the deadline. One cancellation that is
// recorded but not acted upon (the upload runs on to its end) fails the test; before the fix it
// did about once in 15 cancellations.
#include "fixtures.hpp"

#include <livefour/cancel_after.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

/// How long an operation may take to complete once cancelled. Sanitizers slow the client's own
/// code several times over; the bound stays far below what an upload that runs on would take
/// (the lost cancellation of issue 17 completed 750-920 ms late). 100 ms, not 50: on the 2-core VM
/// with a compiler running beside it, ten runs of this test saw worst cases of 10-61 ms, all of
/// them the test's own threads waiting for a core (load average 2.0-2.6).
#if defined(LIVEFOUR_TEST_SANITIZER_BUILD)
constexpr milliseconds completion_bound{250};
/// On a two-thread io_context under TSan, CI and local runs saw one operation now and then complete
/// 0.62-0.77 s after its cancellation (close() and the deadline in 2 of 4 runs, the awaitable `||`
/// once in CI; aborted all the same, no complete body at the server). Those runs also showed the
/// heap-use-after-free of Asio 1.26's co_spawn cancellation (docs/known-issues.md), which
/// src/spawn_on.hpp removed; since then 6 TSan runs of the two-thread cases saw none later than
/// 60 ms. The wider bound stays for two threads under sanitizers, so that TSan's scheduling on a
/// 2-core machine cannot fail CI, and still fails an upload that runs on after its cancellation:
/// the rest of a 512 MiB upload takes several seconds under TSan. Every completion later than
/// completion_bound is printed with where its operation was, whatever the bound.
constexpr milliseconds two_thread_bound{2000};
#else
constexpr milliseconds completion_bound{100};
constexpr milliseconds two_thread_bound = completion_bound;
#endif

/// Large enough that no upload can finish within the 200 ms of a round (it would need 2.5 GB/s).
constexpr std::uint64_t large_video_bytes = 512ull * 1024 * 1024;

enum class method { slot, cancel_after, awaitable_or };

const char* name_of(method m) {
    switch (m) {
    case method::slot: return "bound cancellation slot";
    case method::cancel_after: return "cancel_after";
    case method::awaitable_or: return "awaitable ||";
    }
    return "?";
}

/// What one cancelled operation reported.
struct outcome {
    bool done = false;
    livefour::error_code ec;
    clock_type::time_point cancelled_at{};  ///< when the cancellation was emitted (or the bound was due)
    clock_type::time_point completed_at{};
    bool timer_won = true;  ///< awaitable ||: the timer, not the operation, completed first
    // What a late operation had done, so that its failure says where it was (detect uploads).
    clock_type::time_point started_at = clock_type::now();
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<clock_type::rep> last_progress{0};  ///< since the epoch of clock_type; 0: none
    bool digits = false;
    milliseconds cancel_after{};

    /// The request's progress hook: records how far the upload got and when.
    auto progress() {
        return [this](std::uint64_t sent, std::optional<std::uint64_t>) {
            bytes_sent = sent;
            last_progress = clock_type::now().time_since_epoch().count();
        };
    }
    std::string describe() const {
        using std::chrono::duration_cast;
        std::ostringstream os;
        const auto ms = [](auto d) { return duration_cast<milliseconds>(d).count(); };
        os << (digits ? "livegetfour (reply held back)" : "detect upload") << ", cancel planned at "
           << cancel_after.count() << " ms, emitted at " << ms(cancelled_at - started_at) << " ms, completed at "
           << ms(completed_at - started_at) << " ms";
        if (!digits) {
            os << ", " << (bytes_sent >> 10) << " KiB sent";
            if (const auto lp = last_progress.load())
                os << ", last progress at " << ms(clock_type::time_point(clock_type::duration(lp)) - started_at)
                   << " ms";
            else
                os << ", no body progress";
        }
        return os.str();
    }
};

/// A sparse file: an MP4 header, then zeros the kernel produces without disk reads.
std::filesystem::path sparse_video(const std::filesystem::path& p, std::uint64_t size) {
    test::write_file(p, 64, test::mp4_magic());
    std::filesystem::resize_file(p, size);
    return p;
}

/// One cancellable operation: a large detect upload, or (kind 1) a digits request whose reply
/// the emulator holds back, so that the cancellation lands while the reply is awaited.
struct op_spec {
    bool digits = false;
    milliseconds cancel_after{};
};

livefour::detect_request large_detect(const std::filesystem::path& video, outcome* traced = nullptr) {
    livefour::detect_request r{.validate_data = "1234", .video = livefour::body_source::file(video)};
    if (traced) r.on_progress = traced->progress();
    return r;
}

/// `co_await (operation || timer)`: the awaitable operators cancel the operation when the timer
/// completes first, and complete once the cancelled operation has completed.
asio::awaitable<void> race_with_timer(livefour::client& cl, outcome& out, op_spec spec, std::filesystem::path video) {
    asio::steady_timer timer(co_await asio::this_coro::executor, spec.cancel_after);
    auto fire = [](asio::steady_timer& t, outcome& o) -> asio::awaitable<void> {
        co_await t.async_wait(asio::use_awaitable);
        o.cancelled_at = clock_type::now();
    };
    if (spec.digits) {
        livefour::digits_request req{.seq = "force:delay_ms=1000"};
        auto r =
            co_await (cl.async_get_digits(std::move(req), asio::as_tuple(asio::use_awaitable)) || fire(timer, out));
        out.timer_won = r.index() == 1;
    } else {
        auto req = large_detect(video, &out);
        auto r = co_await (cl.async_detect(std::move(req), asio::as_tuple(asio::use_awaitable)) || fire(timer, out));
        out.timer_won = r.index() == 1;
    }
    out.ec = out.timer_won ? livefour::error_code(asio::error::operation_aborted) : livefour::error_code{};
    out.completed_at = clock_type::now();
    out.done = true;
}

/// Starts `spec` on `ex` (a strand when several threads run the context) and cancels it by `m`.
void start_one(livefour::client& cl, const asio::any_io_executor& ex, method m, const op_spec& spec,
               const std::filesystem::path& video, outcome& out) {
    auto record = [&out](livefour::error_code ec) {
        out.ec = ec;
        out.completed_at = clock_type::now();
        out.done = true;
    };
    switch (m) {
    case method::slot: {
        auto sig = std::make_shared<asio::cancellation_signal>();
        auto timer = std::make_shared<asio::steady_timer>(ex, spec.cancel_after);
        timer->async_wait(asio::bind_executor(ex, [sig, &out](livefour::error_code ec) {
            if (ec) return;
            out.cancelled_at = clock_type::now();
            sig->emit(asio::cancellation_type::terminal);
        }));
        auto handler = asio::bind_cancellation_slot(
            sig->slot(), asio::bind_executor(ex, [record, sig, timer](livefour::error_code ec, auto&&) {
                timer->cancel();
                record(ec);
            }));
        if (spec.digits)
            cl.async_get_digits(livefour::digits_request{.seq = "force:delay_ms=1000"}, std::move(handler));
        else
            cl.async_detect(large_detect(video, &out), std::move(handler));
        break;
    }
    case method::cancel_after: {
        out.cancelled_at = clock_type::now() + spec.cancel_after;  // when the adapter's timer is due
        auto handler = livefour::cancel_after(
            spec.cancel_after, asio::bind_executor(ex, [record](livefour::error_code ec, auto&&) { record(ec); }));
        if (spec.digits)
            cl.async_get_digits(livefour::digits_request{.seq = "force:delay_ms=1000"}, std::move(handler));
        else
            cl.async_detect(large_detect(video, &out), std::move(handler));
        break;
    }
    case method::awaitable_or: asio::co_spawn(ex, race_with_timer(cl, out, spec, video), asio::detached); break;
    }
}

struct stress_totals {
    int operations = 0;
    int slow = 0;         // completed later than its bound after the cancellation
    int not_aborted = 0;  // completed with anything but operation_aborted
    milliseconds worst{0};
};

/// Runs `rounds` rounds of `per_round` concurrent operations cancelled by `m` on one client.
stress_totals stress(test::emulator& emu, const std::filesystem::path& video, method m, bool thread_safe, int threads,
                     int rounds, int per_round, std::mt19937& rng) {
    asio::io_context ioc(threads);
    auto opts = emu.options();
    opts.max_upload_bytes = 0;
    opts.thread_safe = thread_safe;
    opts.retry = livefour::retry_policy::no_retry();
    livefour::client cl(ioc.get_executor(), opts);
    std::uniform_int_distribution<int> when(0, 200);
    std::uniform_int_distribution<int> kind(0, 4);
    stress_totals t;
    for (int r = 0; r < rounds; ++r) {
        std::vector<outcome> outs(static_cast<std::size_t>(per_round));
        for (auto& o : outs) {
            op_spec spec{.digits = kind(rng) == 0, .cancel_after = milliseconds(when(rng))};
            o.digits = spec.digits;
            o.cancel_after = spec.cancel_after;
            o.started_at = clock_type::now();
            auto ex = threads > 1 ? asio::any_io_executor(asio::make_strand(ioc)) : ioc.get_executor();
            start_one(cl, ex, m, spec, video, o);
        }
        ioc.restart();
        std::vector<std::thread> pool;
        for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run_for(std::chrono::seconds(30)); });
        ioc.run_for(std::chrono::seconds(30));
        for (auto& th : pool) th.join();
        for (auto& o : outs) {
            ++t.operations;
            REQUIRE_MESSAGE(o.done, "an operation did not complete within 30 s");
            if (o.ec != asio::error::operation_aborted || !o.timer_won) {
                ++t.not_aborted;
                MESSAGE("completed with " << o.ec.message() << (o.timer_won ? std::string() : " before its timer"));
            }
            const auto late = std::chrono::duration_cast<milliseconds>(o.completed_at - o.cancelled_at);
            t.worst = std::max(t.worst, late);
            if (late > completion_bound) MESSAGE("late by " << late.count() << " ms: " << o.describe());
            if (late > (threads > 1 ? two_thread_bound : completion_bound)) ++t.slow;
        }
    }
    return t;
}

}  // namespace

TEST_CASE("cancellation stress: every cancellation method, thread_safe on and off, one and two threads") {
    // 200 operations per combination in the release build, 8 at a time (96 under sanitizers).
#if defined(LIVEFOUR_TEST_SANITIZER_BUILD)
    int rounds = 12;
#else
    int rounds = 25;
#endif
    if (const char* r = std::getenv("LIVEFOUR_STRESS_ROUNDS")) rounds = std::atoi(r);
    test::emulator emu({"--max-body-bytes", "0"});
    const auto video = sparse_video(emu.dir / "large.mp4", large_video_bytes);
    std::random_device rd;
    const auto seed = rd();
    CAPTURE(seed);
    std::mt19937 rng(seed);

    struct config {
        bool thread_safe;
        int threads;
    };
    // LIVEFOUR_STRESS_THREADS=2 runs only the two-thread combinations (to chase a failure there).
    const char* only_threads = std::getenv("LIVEFOUR_STRESS_THREADS");
    for (const auto cfg : {config{true, 1}, config{false, 1}, config{true, 2}}) {
        if (only_threads && std::atoi(only_threads) != cfg.threads) continue;
        for (const auto m : {method::slot, method::cancel_after, method::awaitable_or}) {
            CAPTURE(cfg.thread_safe);
            CAPTURE(cfg.threads);
            const std::string how = name_of(m);
            CAPTURE(how);
            const auto t = stress(emu, video, m, cfg.thread_safe, cfg.threads, rounds, 8, rng);
            MESSAGE(how << ", thread_safe " << cfg.thread_safe << ", " << cfg.threads << " thread(s): " << t.operations
                        << " operations, " << t.slow << " late, " << t.not_aborted << " not aborted, worst "
                        << t.worst.count() << " ms after the cancellation");
            CHECK(t.not_aborted == 0);
            CHECK(t.slow == 0);
        }
    }
    // The server never received a complete large body: every upload was cut.
    CHECK(emu.count("livedetectfour") == 0);
}

namespace {

/// One upload whose end is decided by the client itself (close(), stall, deadline).
struct bounded_upload {
    bool done = false;
    livefour::error_code ec;
    clock_type::time_point completed_at{};
    clock_type::time_point last_progress{};
};

void start_upload(livefour::client& cl, const asio::any_io_executor& ex, const std::filesystem::path& video,
                  bounded_upload& out) {
    auto req = large_detect(video);
    req.on_progress = [&out](std::uint64_t, std::optional<std::uint64_t>) { out.last_progress = clock_type::now(); };
    cl.async_detect(std::move(req), asio::bind_executor(ex, [&out](livefour::error_code ec, livefour::detect_result) {
                        out.ec = ec;
                        out.completed_at = clock_type::now();
                        out.done = true;
                    }));
}

/// Runs `n` uploads on `threads` threads of a fresh client (options from `tweak`), calls `act`
/// on the io_context once they are started, and returns them when all have completed.
template <class Tweak, class Act>
std::vector<bounded_upload> run_uploads(test::emulator& emu, const std::filesystem::path& video, bool thread_safe,
                                        int threads, int n, Tweak tweak, Act act) {
    asio::io_context ioc(threads);
    auto opts = emu.options();
    opts.max_upload_bytes = 0;
    opts.thread_safe = thread_safe;
    opts.retry = livefour::retry_policy::no_retry();
    tweak(opts);
    livefour::client cl(ioc.get_executor(), opts);
    std::vector<bounded_upload> outs(static_cast<std::size_t>(n));
    for (auto& o : outs)
        start_upload(cl, threads > 1 ? asio::any_io_executor(asio::make_strand(ioc)) : ioc.get_executor(), video, o);
    act(ioc, cl);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run_for(std::chrono::seconds(30)); });
    ioc.run_for(std::chrono::seconds(30));
    for (auto& th : pool) th.join();
    for (auto& o : outs) REQUIRE_MESSAGE(o.done, "an upload did not complete within 30 s");
    return outs;
}

}  // namespace

TEST_CASE("cancellation stress: close(), the stall timeout and the deadline end uploads promptly") {
#if defined(LIVEFOUR_TEST_SANITIZER_BUILD)
    const int rounds = 8;
#else
    const int rounds = 15;
#endif
    test::emulator emu({"--max-body-bytes", "0"});
    const auto video = sparse_video(emu.dir / "large.mp4", large_video_bytes);
    std::random_device rd;
    const auto seed = rd();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> when(0, 200);
    struct config {
        bool thread_safe;
        int threads;
    };
    for (const auto cfg : {config{true, 1}, config{false, 1}, config{true, 2}}) {
        CAPTURE(cfg.thread_safe);
        CAPTURE(cfg.threads);
        milliseconds worst{0};
        for (int r = 0; r < rounds; ++r) {
            // close() at a random moment: every upload ends with operation_aborted (or pool_closed
            // if it had not got a connection yet).
            const milliseconds at{when(rng)};
            clock_type::time_point closed_at{};
            auto outs = run_uploads(
                emu, video, cfg.thread_safe, cfg.threads, 6, [](auto&) {},
                [&](asio::io_context& ioc, livefour::client& cl) {
                    auto t = std::make_shared<asio::steady_timer>(ioc, at);
                    t->async_wait([t, &cl, &closed_at](livefour::error_code) {
                        closed_at = clock_type::now();
                        cl.close();
                    });
                });
            for (auto& o : outs) {
                CHECK_MESSAGE((o.ec == asio::error::operation_aborted || o.ec == livefour::client_error::pool_closed),
                              "close(): " << o.ec.message());
                const auto late = std::chrono::duration_cast<milliseconds>(o.completed_at - closed_at);
                worst = std::max(worst, late);
                CHECK(late <= (cfg.threads > 1 ? two_thread_bound : completion_bound));
            }
        }
        MESSAGE("close(): worst " << worst.count() << " ms after close()");

        worst = milliseconds{0};
        for (int r = 0; r < rounds; ++r) {
            // The overall deadline, at a random moment.
            const milliseconds deadline{1 + when(rng)};
            const auto started = clock_type::now();
            auto outs = run_uploads(
                emu, video, cfg.thread_safe, cfg.threads, 6,
                [&](livefour::client_options& o) { o.timeout.deadline = deadline; }, [](auto&, auto&) {});
            for (auto& o : outs) {
                CHECK_MESSAGE(o.ec == livefour::client_error::deadline_exceeded, "deadline: " << o.ec.message());
                const auto late = std::chrono::duration_cast<milliseconds>(o.completed_at - (started + deadline));
                worst = std::max(worst, late);
                CHECK(late <= (cfg.threads > 1 ? two_thread_bound : completion_bound));
            }
        }
        MESSAGE("deadline: worst " << worst.count() << " ms after the deadline");

        worst = milliseconds{0};
        for (int r = 0; r < rounds / 3 + 1; ++r) {
            // The server stops reading after a random number of bytes: the stall bound ends each upload
            // within the bound of its last progress + timeouts::stall.
            const milliseconds stall{50 + when(rng) / 2};
            std::uniform_int_distribution<std::uint64_t> bytes(0, 32ull << 20);
            emu.fault(R"({"fault":"stall_after_body_bytes","bytes":)" + std::to_string(bytes(rng)) +
                      R"(,"ms":20000,"count":6,"path":"/face/livedetectfour"})");
            auto outs = run_uploads(
                emu, video, cfg.thread_safe, cfg.threads, 6,
                [&](livefour::client_options& o) { o.timeout.stall = stall; }, [](auto&, auto&) {});
            for (auto& o : outs) {
                CHECK_MESSAGE(o.ec == livefour::client_error::stall_timeout, "stall: " << o.ec.message());
                if (o.last_progress == clock_type::time_point{}) continue;  // stalled before the first write completed
                const auto late = std::chrono::duration_cast<milliseconds>(o.completed_at - (o.last_progress + stall));
                worst = std::max(worst, late);
                CHECK(late <= completion_bound);
            }
            emu.run_delete_faults();
        }
        MESSAGE("stall: worst " << worst.count() << " ms after last progress + stall");
    }
    CHECK(emu.count("livedetectfour") == 0);
}
