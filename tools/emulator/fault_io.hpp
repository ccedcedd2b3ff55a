// livefour-emulator — the socket side of the faults that change how a reply is written or how a
// connection ends (see faults.hpp for what a test can ask for).
//
// Templates over the stream type (plain TCP or TLS), included by the server's translation unit
// only. Every write is armed with the caller's deadline, and nothing here allocates in
// proportion to a fault's size: a 1 GiB `huge_body` goes out through one fixed scratch buffer.
#pragma once

#include "faults.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator::fault_io {

namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

/// Sets the deadline of the next socket operation.
using arm_fn = std::function<void()>;

/// Aborts the connection with a TCP RST: SO_LINGER with a zero timeout, then close.
inline void reset_now(beast::tcp_stream& s) {
    error_code ignored;
    s.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    s.socket().close(ignored);
}

/// The start line and header fields of `m`, ending with the empty line, as they go on the wire.
template <class Header>
std::string serialize_header(const Header& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

/// A JSON object reply padded to a size with whitespace before its closing brace: still valid
/// JSON with the same value, just `target` bytes long.
struct padded_json {
    std::string_view head;  ///< everything before the closing brace
    std::uint64_t pad = 0;  ///< spaces
    std::string_view tail;  ///< the closing brace (empty if the body was not an object)

    [[nodiscard]] std::uint64_t size() const noexcept { return head.size() + pad + tail.size(); }
};

/// Pads `json` to `target` bytes (or leaves it alone when it is already that long).
inline padded_json pad_json(std::string_view json, std::uint64_t target) noexcept {
    padded_json p;
    const bool object = !json.empty() && json.back() == '}';
    p.head = object ? json.substr(0, json.size() - 1) : json;
    p.tail = object ? json.substr(json.size() - 1) : std::string_view{};
    p.pad = target > json.size() ? target - json.size() : 0;
    return p;
}

/// Writes all of `bytes`.
template <class Stream>
asio::awaitable<error_code> write_all(Stream& s, std::string_view bytes, const arm_fn& arm) {
    arm();
    auto [ec, n] =
        co_await asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), asio::as_tuple(asio::use_awaitable));
    co_return ec;
}

/// Writes `bytes` `per_write` bytes at a time with `interval` between writes (slowloris-style
/// trickle). Gives up with timed_out at `give_up`, so a fault cannot hold a connection forever.
template <class Stream>
asio::awaitable<error_code> trickle(Stream& s, std::string_view bytes, std::uint64_t per_write,
                                    std::chrono::milliseconds interval, asio::steady_timer& timer, const arm_fn& arm,
                                    std::chrono::steady_clock::time_point give_up) {
    for (std::size_t off = 0; off < bytes.size();) {
        if (off != 0) {
            timer.expires_after(interval);
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return ec;
        }
        if (std::chrono::steady_clock::now() > give_up) co_return asio::error::timed_out;
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(per_write, bytes.size() - off));
        if (auto ec = co_await write_all(s, bytes.substr(off, n), arm)) co_return ec;
        off += n;
    }
    co_return error_code{};
}

/// Writes `header` and then the padded body, the padding from the fixed `scratch` buffer.
template <class Stream>
asio::awaitable<error_code> write_padded(Stream& s, std::string_view header, const padded_json& body,
                                         std::vector<char>& scratch, const arm_fn& arm) {
    if (auto ec = co_await write_all(s, header, arm)) co_return ec;
    if (auto ec = co_await write_all(s, body.head, arm)) co_return ec;
    std::fill(scratch.begin(), scratch.end(), ' ');
    for (std::uint64_t left = body.pad; left != 0;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, scratch.size()));
        if (auto ec = co_await write_all(s, std::string_view(scratch.data(), n), arm)) co_return ec;
        left -= n;
    }
    co_return co_await write_all(s, body.tail, arm);
}

/// Writes the prepared response `res` the way the reshaping fault `f` says:
/// - truncated_reply: the header with the full Content-Length, then only `bytes` body bytes
///   (default half, at most all but one); the caller then closes the connection;
/// - trickle_reply: the whole response, `bytes_per_write` bytes every `interval_ms`;
/// - huge_body: the JSON body padded to `bytes` bytes (Content-Length adjusted);
/// - huge_header: an extra `X-Emulator-Padding` line with a `bytes`-long value. By hand,
///   because Beast caps a field value at 64 KiB and the point is to exceed such caps.
template <class Stream, class Response>
asio::awaitable<error_code> write_shaped(Stream& s, Response& res, const fault& f, std::vector<char>& scratch,
                                         asio::steady_timer& timer, const arm_fn& arm,
                                         std::chrono::steady_clock::time_point give_up) {
    const std::string_view body = res.body();
    switch (f.kind) {
    case fault_kind::truncated_reply: {
        const auto limit = body.empty() ? 0 : body.size() - 1;
        const auto sent = static_cast<std::size_t>(std::min<std::uint64_t>(f.bytes.value_or(body.size() / 2), limit));
        const std::string out = serialize_header(res.base()) + std::string(body.substr(0, sent));
        co_return co_await write_all(s, out, arm);
    }
    case fault_kind::trickle_reply: {
        const std::string out = serialize_header(res.base()) + std::string(body);
        co_return co_await trickle(s, out, f.bytes_per_write, std::chrono::milliseconds(f.interval_ms), timer, arm,
                                   give_up);
    }
    case fault_kind::huge_header: {
        std::string out = serialize_header(res.base());
        out.resize(out.size() - 2);  // the empty line that ends the header
        out += "X-Emulator-Padding: ";
        out.append(static_cast<std::size_t>(f.bytes.value_or(0)), 'a');
        out += "\r\n\r\n";
        out += body;
        co_return co_await write_all(s, out, arm);
    }
    default: {  // huge_body
        const auto padded = pad_json(body, f.bytes.value_or(0));
        res.content_length(padded.size());
        const std::string header = serialize_header(res.base());
        co_return co_await write_padded(s, header, padded, scratch, arm);
    }
    }
}

}  // namespace livefour::emulator::fault_io
