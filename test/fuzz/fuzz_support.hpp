// livefour fuzzing — small helpers shared by the fuzz targets (no libFuzzer dependency).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace livefour::fuzz {

/// A broken invariant: print it and abort, which libFuzzer records as a crash with its input.
[[noreturn]] inline void violated(const char* what) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

/// Aborts unless `ok`. A function, not assert(), so that it also holds in NDEBUG builds.
inline void require(bool ok, const char* what) {
    if (!ok) violated(what);
}

/// True when the environment variable LIVEFOUR_FUZZ_TOLERATE (a comma-separated list) names
/// `bug`: a known, reported bug whose invariant should not stop a development run from exploring
/// further. run.sh never sets it in --ci or --replay mode.
inline bool tolerated(std::string_view bug) {
    static const std::string list = [] {
        const char* v = std::getenv("LIVEFOUR_FUZZ_TOLERATE");
        return "," + std::string(v ? v : "") + ",";
    }();
    return list.find("," + std::string(bug) + ",") != std::string::npos;
}

/// Aborts unless `ok`, or unless the known bug `bug` is tolerated (see tolerated()).
inline void require_unless_known(bool ok, std::string_view bug, const char* what) {
    if (!ok && !tolerated(bug)) violated(what);
}

/// Counts how often an outcome was reached; with LIVEFOUR_FUZZ_STATS set in the environment the
/// counts are printed at exit, to show that a run exercised the interesting paths (e.g. how many
/// forms got through prepare() to the round-trip comparison), not just the early rejections.
inline void count(const char* outcome) {
    struct table {
        std::map<std::string, std::uint64_t> counts;
        ~table() {
            if (!std::getenv("LIVEFOUR_FUZZ_STATS")) return;
            for (const auto& [k, v] : counts)
                std::fprintf(stderr, "outcome %-40s %llu\n", k.c_str(), (unsigned long long)v);
        }
    };
    static table t;
    ++t.counts[outcome];
}

/// A tiny deterministic PRNG (xorshift32): reproducible slice sizes from a fuzzed seed.
class xorshift {
public:
    explicit xorshift(std::uint32_t seed) noexcept : s_(seed ? seed : 0x9e3779b9u) {}
    std::uint32_t next() noexcept {
        s_ ^= s_ << 13;
        s_ ^= s_ >> 17;
        s_ ^= s_ << 5;
        return s_;
    }
    /// Uniform enough in [lo, hi] for slicing (hi >= lo).
    std::uint32_t between(std::uint32_t lo, std::uint32_t hi) noexcept { return lo + next() % (hi - lo + 1); }

private:
    std::uint32_t s_;
};

/// A SyncReadStream over fixed bytes that hands them out in pseudo-random slices (1..max_slice
/// bytes per read_some, like a socket under load), then reports EOF. What Beast's read loops see
/// is what they would see on a real connection, without one.
class sliced_stream {
public:
    sliced_stream(std::string_view data, std::uint32_t seed, std::uint32_t max_slice) noexcept
        : all_(data), data_(data), rng_(seed), max_slice_(max_slice ? max_slice : 1) {}

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& bufs, boost::beast::error_code& ec) {
        ec = {};
        if (data_.empty()) {
            ec = boost::asio::error::eof;
            return 0;
        }
        std::size_t want = rng_.between(1, max_slice_);
        if (want > data_.size()) want = data_.size();
        const std::size_t n = boost::asio::buffer_copy(bufs, boost::asio::buffer(data_.data(), want));
        data_.remove_prefix(n);
        if (on_read_) on_read_(n);
        return n;
    }

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& bufs) {
        boost::beast::error_code ec;
        const auto n = read_some(bufs, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

    /// Calls `f(n)` after every read that delivers n bytes, before the caller sees them: the
    /// moment to look at how much the caller has buffered (a read loop may consume everything
    /// before it returns, hiding its peak).
    void on_read(std::function<void(std::size_t)> f) { on_read_ = std::move(f); }

    /// All the bytes, including those handed out already.
    std::string_view original() const noexcept { return all_; }

    /// Bytes not handed out yet.
    std::size_t remaining() const noexcept { return data_.size(); }

private:
    std::string_view all_;
    std::string_view data_;
    xorshift rng_;
    std::uint32_t max_slice_;
    std::function<void(std::size_t)> on_read_;
};

/// An input split into the bytes under test and a fixed-size block of control values at its end
/// (read with FuzzedDataProvider by the target). A fixed block keeps seed files simple: the bytes
/// under test verbatim, then `control_bytes` bytes; a short input is all controls, no bytes.
struct split_input {
    std::string_view bytes;
    std::string_view controls;
};

inline split_input split_controls(const std::uint8_t* data, std::size_t size, std::size_t control_bytes) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t k = size < control_bytes ? size : control_bytes;
    return {all.substr(0, size - k), all.substr(size - k)};
}

/// Splits `data` into pseudo-random slices of 1..max_slice bytes and calls `f` on each.
template <class F>
void for_each_slice(std::string_view data, std::uint32_t seed, std::uint32_t max_slice, F&& f) {
    xorshift rng(seed);
    if (max_slice == 0) max_slice = 1;
    while (!data.empty()) {
        std::size_t n = rng.between(1, max_slice);
        if (n > data.size()) n = data.size();
        f(data.substr(0, n));
        data.remove_prefix(n);
    }
}

}  // namespace livefour::fuzz
