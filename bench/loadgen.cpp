// livefour-bench — the livefour side of the benchmarks, written against the public API only
// (co_await on livefour::client). One process per measurement; it prints one JSON object on
// stdout and the harness (bench/harness.py) adds the process's rusage (CPU, peak RSS) from wait4.
//
//   upload       --file F --count K --mode new|pooled [--chunked] [--buffer BYTES]
//                single-stream uploads; `new` builds a client (so a connection and a full TLS
//                handshake) per upload, `pooled` sends one warm-up upload of --warmup-file then K
//                uploads on the same kept-alive connection.
//   latency      --file F --count K --mode cold|resumed|warm [--kind upload|digits]
//                like upload: `cold` is a client per upload (full handshake), `resumed` one client
//                whose every upload goes to a new connection (the endpoint gets the base path
//                /close, which the sink answers with Connection: close), so the client's own TLS
//                session cache is what is measured; one discarded warm-up upload in every mode.
//                --kind digits times livegetfour calls instead (connect + handshake dominate).
//   small        --kind digits|multipart [--file F] --count N --connections C [--threads T] [--spin]
//                [--memory] [--single-threaded]
//                --spin runs the io_context as a busy loop of poll() instead of run(): the thread
//                never sleeps between replies, which shows what its sleep and wake-up cost.
//                --memory sends the multipart's video from memory (read from F once, shared; no
//                file open, fstat, pread and close per request, like wrk's fixed body).
//                --single-threaded sets client_options::thread_safe = false (one thread only).
//                N small requests by C coroutines on one client of C connections.
//   concurrency  --file F --inflight N --count M [--threads T] [--no-warmup]
//                N coroutines upload M files in total through one client of N connections; with
//                warm-up, N concurrent small requests open the N connections first and only the
//                uploads are timed. Reports RSS before, peak RSS and RSS per in-flight upload.
//   faceid-compare  --file VIDEO --image IMAGE --count N --connections C [--unsigned-payload]
//                [--threads T] [--single-threaded] [--no-warmup]
//                API 3.0: N LivenessCompare calls (LIP, ValidateData 1234, the image and the video
//                read from their files for every call and streamed as base64 in the JSON body) by
//                C coroutines on one livefour::faceid::client of C connections, TC3-signed with the
//                body's SHA-256 (a digest pass over the body first) or, with --unsigned-payload,
//                UNSIGNED-PAYLOAD. With warm-up, C concurrent GetLiveCode calls open the C
//                connections first; only the compares are timed. Reports the timed loop's wall
//                time and CPU (getrusage), RSS before, after the warm-up and peak, and RSS per
//                in-flight call. --any-result counts a processed call whose Result is not Success
//                (a verifying server's verdict on random test media) as done.
//   primitives   [--seconds S]  machine facts for the faceid figures: one core's EVP_EncodeBlock
//                (base64, per input byte, 192 KiB blocks as the JSON body encodes them), SHA-256
//                and AES-256-GCM (256 KiB and 16 KiB buffers), in GB/s.
// Common: --url URL (https://127.0.0.1:PORT or http://...) --ca CA.pem.
// --expect (upload, latency): send `Expect: 100-continue` with every body and wait for the 100
// (client_options::expect_continue_above = 1); without it no upload sends Expect, as curl with
// `-H Expect:` (the expect scenario compares the two).
//
// Every reply of the sink says how many body bytes it received ("received=N" in live_msg or
// message); those numbers are reported so that the harness checks them against the file size
// and against the sink's own counters.
#include <livefour/client.hpp>
#include <livefour/faceid/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <sys/resource.h>

#include <malloc.h>
#include <algorithm>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct args {
    std::string cmd, url, ca, file, warmup_file, mode = "pooled", kind, image;
    int count = 1, connections = 1, threads = 1, inflight = 1;
    std::size_t buffer = 0;
    bool chunked = false, warmup = true, spin = false, memory = false, single_threaded = false,
         unsigned_payload = false, any_result = false, expect = false;
    double seconds = 1.0;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "livefour-bench: " << why << "\n(see the comment at the top of bench/loadgen.cpp)\n";
    std::exit(2);
}

args parse(int argc, char** argv) {
    if (argc < 2) usage("missing command");
    args a;
    a.cmd = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        auto v = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value after " + k);
            return argv[++i];
        };
        if (k == "--url")
            a.url = v();
        else if (k == "--ca")
            a.ca = v();
        else if (k == "--file")
            a.file = v();
        else if (k == "--warmup-file")
            a.warmup_file = v();
        else if (k == "--mode")
            a.mode = v();
        else if (k == "--kind")
            a.kind = v();
        else if (k == "--count")
            a.count = std::stoi(v());
        else if (k == "--connections")
            a.connections = std::stoi(v());
        else if (k == "--threads")
            a.threads = std::stoi(v());
        else if (k == "--inflight")
            a.inflight = std::stoi(v());
        else if (k == "--buffer")
            a.buffer = std::stoul(v());
        else if (k == "--chunked")
            a.chunked = true;
        else if (k == "--no-warmup")
            a.warmup = false;
        else if (k == "--spin")
            a.spin = true;
        else if (k == "--memory")
            a.memory = true;
        else if (k == "--single-threaded")
            a.single_threaded = true;
        else if (k == "--image")
            a.image = v();
        else if (k == "--unsigned-payload")
            a.unsigned_payload = true;
        else if (k == "--any-result")
            a.any_result = true;
        else if (k == "--expect")
            a.expect = true;
        else if (k == "--seconds")
            a.seconds = std::stod(v());
        else
            usage("unknown argument " + k);
    }
    if (a.url.empty() && a.cmd != "primitives") usage("--url is required");
    if (a.single_threaded && a.threads != 1) usage("--single-threaded needs --threads 1");
    return a;
}

// ---- measurements -------------------------------------------------------------------------

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// A field of /proc/self/status in KiB (VmRSS: current, VmHWM: peak resident set).
long proc_status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0) return std::stol(line.substr(n + 1));
    return -1;
}

double cpu_seconds() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return tv(r.ru_utime) + tv(r.ru_stime);
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string json_array(const std::vector<double>& v) {
    std::ostringstream os;
    os << '[';
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    os << ']';
    return os.str();
}

std::string json_array(const std::vector<std::uint64_t>& v) {
    std::ostringstream os;
    os << '[';
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    os << ']';
    return os.str();
}

/// "received=N" → N; the sink's count of body bytes of that request.
std::uint64_t received_of(const std::string& msg) {
    constexpr std::string_view tag = "received=";
    if (msg.compare(0, tag.size(), tag) != 0) return 0;
    return std::stoull(msg.substr(tag.size()));
}

// ---- TLS ----------------------------------------------------------------------------------

/// The same trust settings as livefour's own context (TLS >= 1.2, verification with the CA file),
/// built once so that a client per upload measures a connection, not loading a CA file.
std::shared_ptr<ssl::context> make_context(const args& a) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    ctx->set_verify_mode(ssl::verify_peer);
    if (a.ca.empty())
        ctx->set_default_verify_paths();
    else
        ctx->load_verify_file(a.ca);
    return ctx;
}

livefour::client_options make_options(const args& a, std::shared_ptr<ssl::context> ctx, std::size_t connections) {
    livefour::client_options o;
    o.endpoint = a.url;
    o.creds.appid = "1250000000";
    o.creds.secret_id = "AKIDEXAMPLE";
    o.creds.secret_key = livefour::secret_string("SECRETKEYEXAMPLE");
    o.allow_insecure_http = true;
    o.max_upload_bytes = 0;  // GiB-sized bodies
    // curl runs with `-H Expect:` in every scenario but one: the same request shape on both sides.
    // The expect scenario sends it on both sides (--expect; curl with `Expect: 100-continue`).
    o.expect_continue_above = a.expect ? 1 : 0;
    o.force_chunked = a.chunked;
    o.thread_safe = !a.single_threaded;
    if (a.buffer) o.write_buffer_size = a.buffer;
    if (ctx)
        o.tls.context = std::move(ctx);
    else
        o.tls.ca_file = a.ca;
    o.pool.max_connections = connections;
    o.timeout.pool_wait = std::chrono::milliseconds{0};
    o.timeout.stall = std::chrono::seconds{120};
    return o;
}

/// The video of every detect: the file, or (small --memory) its bytes read once and shared.
struct video_spec {
    std::string file;
    std::shared_ptr<const std::string> bytes;
};

livefour::detect_request detect_req(const video_spec& v) {
    livefour::detect_request r;
    r.validate_data = "1234";
    r.video = v.bytes ? livefour::body_source::memory(v.bytes, "video.mp4", "video/mp4")
                      : livefour::body_source::file(v.file, "video/mp4", "video.mp4");
    return r;
}

struct failure_log {
    std::mutex mu;
    std::uint64_t count = 0;
    void add(const livefour::error_code& ec, const livefour::diagnostics& d) {
        std::lock_guard lock(mu);
        if (++count <= 5) std::cerr << "livefour-bench: " << ec.message() << ": " << d.client_message() << "\n";
    }
};

/// The sink's per-request byte counts: total, smallest and largest (the harness checks that every
/// request delivered the same, complete body).
struct byte_tally {
    std::mutex mu;
    std::uint64_t total = 0, min = UINT64_MAX, max = 0;
    void add(std::uint64_t n) {
        std::lock_guard lock(mu);
        total += n;
        min = std::min(min, n);
        max = std::max(max, n);
    }
    std::string json() {
        std::lock_guard lock(mu);
        return "\"received_total\":" + std::to_string(total) + ",\"received_min\":" + std::to_string(max ? min : 0) +
               ",\"received_max\":" + std::to_string(max);
    }
};

/// One upload; returns the sink's byte count (0 on failure, which is logged).
/// `video` by value: a coroutine's reference parameter would dangle once a temporary argument is gone
/// (the coroutine runs later, when awaited).
asio::awaitable<std::uint64_t> upload_once(livefour::client& c, video_spec video, failure_log& fails) {
    livefour::diagnostics d;
    auto [ec, res] = co_await c.async_detect(detect_req(video), d, use_tuple);
    if (ec) {
        fails.add(ec, d);
        co_return 0;
    }
    co_return received_of(res.live_msg);
}

void run(asio::io_context& io, int threads, bool spin = false) {
    std::vector<std::thread> extra;
    for (int t = 1; t < threads; ++t) extra.emplace_back([&io] { io.run(); });
    if (spin)
        while (!io.stopped()) io.poll();  // returns at once when nothing is ready; stops with the work
    else
        io.run();
    for (auto& t : extra) t.join();
}

/// Warm-up: n calls at once (each `call(diag)` returns an awaitable of an (error_code, result) tuple),
/// so that the pool opens n connections; runs them to completion.
template <class Call>
void warm_up(asio::io_context& io, int threads, std::size_t n, Call call, failure_log& fails) {
    for (std::size_t i = 0; i < n; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                livefour::diagnostics d;
                auto [ec, r] = co_await call(d);
                if (ec) fails.add(ec, d);
            },
            asio::detached);
    run(io, threads);
    io.restart();
}

// ---- commands -----------------------------------------------------------------------------

/// One livegetfour call; returns the sink's byte count of its body (0 on failure, which is logged).
asio::awaitable<std::uint64_t> digits_once(livefour::client& c, failure_log& fails) {
    livefour::diagnostics d;
    auto [ec, r] = co_await c.async_get_digits({}, d, use_tuple);
    if (ec) {
        fails.add(ec, d);
        co_return 0;
    }
    co_return received_of(r.message);
}

/// upload and latency: K sequential uploads (or livegetfour calls with --kind digits, where the
/// connection and handshake dominate); per-request seconds and sink byte counts.
int cmd_sequential(const args& a) {
    const bool digits = a.cmd == "latency" && a.kind == "digits";
    asio::io_context io;
    // A client per upload (new, cold) shares one TLS context, so the measure is a connection and a
    // full handshake, not loading the CA file.
    const bool fresh = a.mode == "new" || a.mode == "cold";
    auto ctx = fresh ? make_context(a) : nullptr;
    args pooled_args = a;
    if (a.mode == "resumed") pooled_args.url += "/close";
    failure_log fails;
    std::vector<double> secs;
    std::vector<std::uint64_t> received;
    std::uint64_t warmup_received = 0;
    double cpu = 0;
    std::uint64_t created = 0;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            std::optional<livefour::client> pooled;
            if (!fresh) pooled.emplace(ex, make_options(pooled_args, nullptr, 1));
            // Warm-up: first use of the code paths, the page cache, and (pooled) the connection.
            const std::string& wfile = a.warmup_file.empty() ? a.file : a.warmup_file;
            auto once = [&](livefour::client& c, const std::string& file) {
                video_spec video{file, nullptr};  // moved into upload_once's frame (a by-value parameter)
                return digits ? digits_once(c, fails) : upload_once(c, std::move(video), fails);
            };
            if (pooled) {
                warmup_received = co_await once(*pooled, wfile);
            } else {
                livefour::client c(ex, make_options(a, ctx, 1));
                warmup_received = co_await once(c, wfile);
                created += c.stats().created;
            }
            const double cpu0 = cpu_seconds();
            for (int i = 0; i < a.count; ++i) {
                if (pooled) {
                    auto t0 = clock_type::now();
                    received.push_back(co_await once(*pooled, a.file));
                    secs.push_back(seconds_since(t0));
                } else {
                    livefour::client c(ex, make_options(a, ctx, 1));
                    auto t0 = clock_type::now();
                    received.push_back(co_await once(c, a.file));
                    secs.push_back(seconds_since(t0));
                    created += c.stats().created;
                }
            }
            cpu = cpu_seconds() - cpu0;
            if (pooled) created = pooled->stats().created;
        },
        asio::detached);
    run(io, 1);

    const auto size = digits ? 0 : std::filesystem::file_size(a.file);
    double total = 0;
    for (double s : secs) total += s;
    std::printf(
        "{\"tool\":\"livefour\",\"cmd\":\"%s\",\"mode\":\"%s\",\"file_bytes\":%llu,\"count\":%d,"
        "\"seconds\":%s,\"received\":%s,\"warmup_received\":%llu,\"gb_per_s\":%.4f,"
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"measured_cpu_s\":%.4f,\"connections_created\":%llu,"
        "\"failures\":%llu,\"vm_hwm_kib\":%ld}\n",
        a.cmd.c_str(), a.mode.c_str(), (unsigned long long)size, a.count, json_array(secs).c_str(),
        json_array(received).c_str(), (unsigned long long)warmup_received,
        total > 0 ? size * secs.size() / total / 1e9 : 0.0, percentile(secs, 0.5) * 1e3, percentile(secs, 0.99) * 1e3,
        cpu, (unsigned long long)created, (unsigned long long)fails.count, proc_status_kib("VmHWM:"));
    return fails.count ? 1 : 0;
}

/// small: N requests by C coroutines sharing one client.
int cmd_small(const args& a) {
    asio::io_context io(a.threads);
    livefour::client c(io.get_executor(), make_options(a, nullptr, static_cast<std::size_t>(a.connections)));
    failure_log fails;
    std::atomic<int> next{0};
    byte_tally received;
    std::atomic<std::uint64_t> done{0};
    const bool digits = a.kind != "multipart";
    video_spec video{a.file, nullptr};
    if (!digits && a.memory) {
        std::ifstream in(a.file, std::ios::binary);
        if (!in) usage("cannot read " + a.file);
        video.bytes =
            std::make_shared<const std::string>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    clock_type::time_point t0;

    auto worker = [&]() -> asio::awaitable<void> {
        while (next.fetch_add(1) < a.count) {
            livefour::diagnostics d;
            if (digits) {
                auto [ec, r] = co_await c.async_get_digits({}, d, use_tuple);
                if (ec)
                    fails.add(ec, d);
                else
                    received.add(received_of(r.message));
            } else {
                received.add(co_await upload_once(c, video, fails));
            }
            ++done;
        }
    };
    t0 = clock_type::now();
    const double cpu0 = cpu_seconds();
    for (int i = 0; i < a.connections; ++i) asio::co_spawn(io, worker(), asio::detached);
    run(io, a.threads, a.spin);
    const double secs = seconds_since(t0), cpu = cpu_seconds() - cpu0;
    const auto st = c.stats();
    std::printf(
        "{\"tool\":\"livefour\",\"cmd\":\"small\",\"kind\":\"%s\",\"connections\":%d,\"threads\":%d,"
        "\"count\":%llu,\"seconds\":%.6f,\"req_per_s\":%.1f,%s,"
        "\"measured_cpu_s\":%.4f,\"connections_created\":%llu,\"failures\":%llu,\"vm_hwm_kib\":%ld}\n",
        a.kind.c_str(), a.connections, a.threads, (unsigned long long)done.load(), secs, done / secs,
        received.json().c_str(), cpu, (unsigned long long)st.created, (unsigned long long)fails.count,
        proc_status_kib("VmHWM:"));
    return fails.count ? 1 : 0;
}

/// concurrency: N in-flight uploads, M in total.
int cmd_concurrency(const args& a) {
    asio::io_context io(a.threads);
    const auto n = static_cast<std::size_t>(a.inflight);
    livefour::client c(io.get_executor(), make_options(a, nullptr, n));
    failure_log fails;
    const long rss_before = proc_status_kib("VmRSS:");

    // Warm-up: N requests at once make the pool open N connections.
    if (a.warmup)
        warm_up(
            io, a.threads, n, [&](livefour::diagnostics& d) { return c.async_get_digits({}, d, use_tuple); }, fails);
    const long rss_warm = proc_status_kib("VmRSS:");
    // Heap bytes in use after the warm-up: RSS minus this is what the allocator kept of the
    // handshakes' transient memory (freed, still resident).
    const long heap_warm = static_cast<long>(::mallinfo2().uordblks / 1024);

    std::atomic<int> next{0};
    byte_tally received;
    std::mutex mu;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(a.count));
    // Named, not a temporary inside the co_await expression (GCC 12, docs/known-issues.md).
    const video_spec video{a.file, nullptr};
    auto worker = [&]() -> asio::awaitable<void> {
        while (next.fetch_add(1) < a.count) {
            auto t0 = clock_type::now();
            received.add(co_await upload_once(c, video, fails));
            const double s = seconds_since(t0);
            std::lock_guard lock(mu);
            lat.push_back(s);
        }
    };
    const auto t0 = clock_type::now();
    const double cpu0 = cpu_seconds();
    for (std::size_t i = 0; i < n; ++i) asio::co_spawn(io, worker(), asio::detached);
    run(io, a.threads);
    const double secs = seconds_since(t0), cpu = cpu_seconds() - cpu0;
    const long hwm = proc_status_kib("VmHWM:");
    const auto size = std::filesystem::file_size(a.file);
    const auto st = c.stats();
    std::printf(
        "{\"tool\":\"livefour\",\"cmd\":\"concurrency\",\"inflight\":%d,\"threads\":%d,\"warmup\":%s,"
        "\"file_bytes\":%llu,\"count\":%zu,\"seconds\":%.6f,\"gb_per_s\":%.4f,\"p50_ms\":%.3f,"
        "\"p99_ms\":%.3f,%s,\"measured_cpu_s\":%.4f,\"rss_before_kib\":%ld,"
        "\"rss_warm_kib\":%ld,\"heap_in_use_warm_kib\":%ld,\"vm_hwm_kib\":%ld,\"rss_per_inflight_kib\":%.1f,"
        "\"connections_created\":%llu,"
        "\"failures\":%llu}\n",
        a.inflight, a.threads, a.warmup ? "true" : "false", (unsigned long long)size, lat.size(), secs,
        static_cast<double>(size) * static_cast<double>(lat.size()) / secs / 1e9, percentile(lat, 0.5) * 1e3,
        percentile(lat, 0.99) * 1e3, received.json().c_str(), cpu, rss_before, rss_warm, heap_warm, hwm,
        static_cast<double>(hwm - rss_before) / static_cast<double>(n), (unsigned long long)st.created,
        (unsigned long long)fails.count);
    return fails.count ? 1 : 0;
}

/// faceid-compare: N LivenessCompare calls by C coroutines sharing one faceid client.
int cmd_faceid_compare(const args& a) {
    if (a.file.empty() || a.image.empty()) usage("faceid-compare needs --file VIDEO and --image IMAGE");
    asio::io_context io(a.threads);
    const auto n = static_cast<std::size_t>(a.connections);
    livefour::faceid::client_options o;
    o.endpoint = a.url;
    o.creds.secret_id = "AKIDEXAMPLE";
    o.creds.secret_key = livefour::secret_string("SECRETKEYEXAMPLE");
    o.unsigned_payload = a.unsigned_payload;
    o.expect_continue_above = 0;  // as curl (`-H Expect:`) and the Node SDK, which never sends it
    o.allow_insecure_http = true;
    o.thread_safe = !a.single_threaded;
    if (a.buffer) o.write_buffer_size = a.buffer;
    o.tls.ca_file = a.ca;
    o.pool.max_connections = n;
    o.timeout.pool_wait = std::chrono::milliseconds{0};
    o.timeout.stall = std::chrono::seconds{120};
    livefour::faceid::client c(io.get_executor(), o);
    failure_log fails;
    const long rss_before = proc_status_kib("VmRSS:");

    // Warm-up: C GetLiveCode calls at once make the pool open C connections.
    if (a.warmup)
        warm_up(
            io, a.threads, n, [&](livefour::diagnostics& d) { return c.async_get_live_code(d, use_tuple); }, fails);
    const long rss_warm = proc_status_kib("VmRSS:");

    std::atomic<int> next{0};
    byte_tally received;
    std::mutex mu;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(a.count));
    auto worker = [&]() -> asio::awaitable<void> {
        while (next.fetch_add(1) < a.count) {
            livefour::faceid::compare_request req;
            req.liveness = livefour::faceid::liveness_type::lip;
            req.validate_data = "1234";
            req.image = livefour::body_source::file(a.image);
            req.video = livefour::body_source::file(a.file);
            livefour::diagnostics d;
            const auto t0 = clock_type::now();
            auto [ec, r] = co_await c.async_compare(std::move(req), d, use_tuple);
            const double s = seconds_since(t0);
            if (ec || (r.result != "Success" && !a.any_result)) {
                if (!ec) ec = livefour::client_error::malformed_response;
                fails.add(ec, d);
                continue;
            }
            received.add(received_of(r.description));
            std::lock_guard lock(mu);
            lat.push_back(s);
        }
    };
    const auto t0 = clock_type::now();
    const double cpu0 = cpu_seconds();
    rusage ru0{};
    getrusage(RUSAGE_SELF, &ru0);
    for (std::size_t i = 0; i < n; ++i) asio::co_spawn(io, worker(), asio::detached);
    run(io, a.threads);
    const double secs = seconds_since(t0), cpu = cpu_seconds() - cpu0;
    rusage ru1{};
    getrusage(RUSAGE_SELF, &ru1);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    const double cpu_user = tv(ru1.ru_utime) - tv(ru0.ru_utime), cpu_sys = tv(ru1.ru_stime) - tv(ru0.ru_stime);
    const long hwm = proc_status_kib("VmHWM:");
    const auto st = c.stats();
    std::printf(
        "{\"tool\":\"livefour\",\"cmd\":\"faceid-compare\",\"connections\":%d,\"threads\":%d,"
        "\"unsigned_payload\":%s,\"warmup\":%s,\"video_bytes\":%llu,\"image_bytes\":%llu,\"count\":%zu,"
        "\"seconds\":%.6f,\"req_per_s\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,%s,\"measured_cpu_s\":%.5f,"
        "\"measured_cpu_user_s\":%.5f,\"measured_cpu_sys_s\":%.5f,\"cpu_ms_per_req\":%.4f,"
        "\"rss_before_kib\":%ld,\"rss_warm_kib\":%ld,\"vm_hwm_kib\":%ld,\"rss_per_inflight_kib\":%.1f,"
        "\"connections_created\":%llu,\"failures\":%llu}\n",
        a.connections, a.threads, a.unsigned_payload ? "true" : "false", a.warmup ? "true" : "false",
        (unsigned long long)std::filesystem::file_size(a.file), (unsigned long long)std::filesystem::file_size(a.image),
        lat.size(), secs, static_cast<double>(lat.size()) / secs, percentile(lat, 0.5) * 1e3,
        percentile(lat, 0.99) * 1e3, received.json().c_str(), cpu, cpu_user, cpu_sys,
        lat.empty() ? 0.0 : cpu / static_cast<double>(lat.size()) * 1e3, rss_before, rss_warm, hwm,
        static_cast<double>(hwm - rss_before) / static_cast<double>(n), (unsigned long long)st.created,
        (unsigned long long)fails.count);
    return fails.count ? 1 : 0;
}

/// primitives: one core's speed of what a faceid request's bytes go through, in GB/s.
int cmd_primitives(const args& a) {
    std::vector<unsigned char> in(256 * 1024), out(in.size() * 2 + 64);
    RAND_bytes(in.data(), static_cast<int>(in.size()));
    // Repeats `step` (which processes `bytes` bytes) for about a.seconds of thread CPU time.
    auto speed = [&](std::size_t bytes, auto step) {
        auto thread_cpu = [] {
            timespec t{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
            return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
        };
        for (int i = 0; i < 16; ++i) step();  // warm caches and the CPU's frequency
        std::uint64_t done = 0;
        const double t0 = thread_cpu();
        double t = t0;
        while (t - t0 < a.seconds) {
            for (int i = 0; i < 64; ++i) step();
            done += 64 * bytes;
            t = thread_cpu();
        }
        return static_cast<double>(done) / (t - t0) / 1e9;
    };
    const std::size_t b64_block = 192 * 1024;
    const double b64 = speed(b64_block, [&] { EVP_EncodeBlock(out.data(), in.data(), static_cast<int>(b64_block)); });
    auto digest = [&](std::size_t n) {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        const double r = speed(n, [&] { EVP_DigestUpdate(ctx, in.data(), n); });
        EVP_MD_CTX_free(ctx);
        return r;
    };
    auto gcm = [&](std::size_t n) {
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        unsigned char key[32]{}, iv[12]{};
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, iv);
        int len = 0;
        const double r = speed(n, [&] { EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(n)); });
        EVP_CIPHER_CTX_free(ctx);
        return r;
    };
    std::printf(
        "{\"base64_encode_gb_per_s\":%.3f,\"sha256_gb_per_s\":%.3f,\"sha256_16k_gb_per_s\":%.3f,"
        "\"aes_256_gcm_gb_per_s\":%.3f,\"aes_256_gcm_16k_gb_per_s\":%.3f}\n",
        b64, digest(in.size()), digest(16 * 1024), gcm(in.size()), gcm(16 * 1024));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const args a = parse(argc, argv);
    // 1,000 connections need more descriptors than the usual soft limit of 1,024.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    try {
        if (a.cmd == "upload" || a.cmd == "latency") return cmd_sequential(a);
        if (a.cmd == "small") return cmd_small(a);
        if (a.cmd == "concurrency") return cmd_concurrency(a);
        if (a.cmd == "faceid-compare") return cmd_faceid_compare(a);
        if (a.cmd == "primitives") return cmd_primitives(a);
        usage("unknown command " + a.cmd);
    } catch (const std::exception& e) {
        std::cerr << "livefour-bench: " << e.what() << "\n";
        return 1;
    }
}
