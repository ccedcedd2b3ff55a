// Internal: one HTTP/1.1 request/response exchange, as a sans-io algorithm and the one loop that
// runs it over a stream.
//
// exchange_algo knows HTTP (Beast's serializer writes the request, response_reader reads the
// reply) and the client's rules — progress accounting, the write-when-writable rhythm of TLS
// uploads, phase-specific error codes — but performs no I/O: resume(ec, n) takes the outcome of
// the previous step and says what to do next. Unit tests drive it step by step and fail each read
// and write in turn (test/unit/exchange_test.cpp), the way Boost.MySQL tests its algorithms.
//
// run_exchange() is the only place where an exchange awaits anything. After every step it asks
// whether the operation was cancelled meanwhile (stop_requested), so a cancellation that arrives
// while no socket operation is pending — a write that completed inside its initiation and was
// posted, or the gap between two operations — is honoured at the next step instead of being
// forgotten (docs/reference.md, "Cancellation").
#pragma once

#include "encoded_body.hpp"
#include "response_reader.hpp"
#include "source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace livefour::detail {

namespace asio = boost::asio;

/// Outcome of one exchange, with what a retry policy needs to know (docs/protocol.md §6).
struct exchange_result {
    error_code ec;
    int status = 0;
    std::string body;
    bool keep_alive = false;
    bool request_fully_sent = false;  ///< every byte of the request went out
    bool response_started = false;    ///< at least one response byte arrived
    bool connection_reused = false;   ///< ran on a kept-alive connection from the pool
    std::uint64_t bytes_sent = 0;     ///< request bytes handed to the transport, header included
    std::int64_t server_time = 0;     ///< the reply's Date header in Unix seconds; 0 without one
    /// From the first request byte written to the first reply byte read (zero without a reply).
    std::chrono::microseconds first_byte{0};
    std::string response_header;  ///< the reply's header block, with exchange_limits::capture_headers
    error_code source_error;      ///< why an async source failed (ec is then client_error::source_failed)
};

/// The request type every exchange sends: any body encoding behind one Beast body.
using request_type = boost::beast::http::request<encoded_body>;

/// Limits of one exchange (from client_options).
struct exchange_limits {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    bool capture_headers = false;  ///< keep the reply's header block (attempt events)
    /// The request carries `Expect: 100-continue`: after the header, wait up to this long for
    /// `100 Continue` (send the body) or a final reply (the body is never sent); nothing in time:
    /// send the body anyway. Zero: the request does not wait (no Expect header was set).
    std::chrono::milliseconds continue_wait{0};
    /// Bytes one read of an async body source may bring: one write buffer.
    std::size_t fill_size = 256 * 1024;
};

/// One exchange, without I/O.
class exchange_algo {
public:
    /// What the runner does next.
    enum class action : unsigned char {
        write,          ///< write_buffers() with one write_some
        wait_writable,  ///< wait until the socket takes writes (TLS uploads, before each body buffer)
        read,           ///< read_some into read_buffer()
        read_continue,  ///< read_some into read_buffer(), for at most continue_wait(); on timeout
                        ///< resume with asio::error::timed_out (the body then goes out anyway)
        fill,           ///< fill_source().async_read_some(fill_buffer()): the body's async source
                        ///< has nothing staged (bounded by the stall timeout: resume with
                        ///< client_error::stall_timeout when it expires)
        done,           ///< result() is final
    };

    /// `req` is prepared (body armed); `buffer` is the connection's read buffer. `encrypts_on_write`:
    /// the stream is done with each buffer when its write's initiation returns (tls_stream), so
    /// the body may fill the thread's buffer, and each body buffer after the first is produced
    /// only once the socket is writable. `on_body_bytes` (may be empty) gets body bytes per write.
    exchange_algo(request_type& req, boost::beast::flat_buffer& buffer, exchange_limits limits, bool encrypts_on_write,
                  const std::function<void(std::uint64_t)>& on_body_bytes);

    /// Advances with the outcome of the previous step (ignored for the first call): `ec` and the
    /// bytes it transferred. A stream timeout (beast::error::timeout) is the stall bound.
    action resume(error_code ec, std::size_t n);

    using buffers_type = boost::container::small_vector<boost::asio::const_buffer, 24>;

    /// The request bytes of a write step: Beast's header fields and the body buffer, gathered so
    /// that they leave in one socket write.
    const buffers_type& write_buffers() const noexcept { return write_buffers_; }
    boost::asio::mutable_buffer read_buffer() const noexcept { return read_buffer_; }
    /// The outcome, once resume() returned done.
    exchange_result& result() noexcept { return result_; }
    /// Bytes of the request's header (start line, fields, blank line).
    std::uint64_t header_size() const noexcept { return header_size_; }
    /// How long a read_continue step may wait.
    std::chrono::milliseconds continue_wait() const noexcept { return continue_wait_; }
    /// The async source of a fill step, and where its bytes go.
    async_byte_source& fill_source() const noexcept;
    boost::asio::mutable_buffer fill_buffer() const noexcept { return fill_buffer_; }

private:
    enum class phase : unsigned char { start, writing, between_writes, awaiting_continue, filling, reading, done };
    action next_write();
    action start_reading();
    action read_outcome(response_reader::state st);
    action continue_outcome(response_reader::state st);
    action finish(error_code ec);

    request_type& req_;
    boost::beast::http::request_serializer<encoded_body> sr_;
    response_reader reader_;
    const std::function<void(std::uint64_t)>& on_body_bytes_;
    bool encrypts_on_write_;
    bool capture_headers_;
    std::chrono::milliseconds continue_wait_;
    bool asked_continue_ = false;
    phase phase_ = phase::start;
    std::uint64_t header_size_ = 0;
    std::uint64_t header_left_ = 0;  // header bytes not yet written (not body progress)
    buffers_type write_buffers_;
    boost::asio::mutable_buffer read_buffer_;
    source_reader* filling_ = nullptr;
    std::size_t fill_capacity_ = 256 * 1024;
    boost::asio::mutable_buffer fill_buffer_;
    exchange_result result_;
};

/// One read of the body's async source (exchange_algo::action::fill), bounded by `stall` (0: none).
asio::awaitable<std::tuple<error_code, std::size_t>> fill_source(exchange_algo& algo, std::chrono::milliseconds stall);

/// Size of `req`'s header as Beast serializes it.
std::uint64_t serialized_header_size(const request_type& req);

/// The I/O of one connection, as run_exchange() needs it (see transport.cpp for the real ones).
/// Stream: async_write_some(buffers, token) and async_read_some(buffer, token). Io (constructed
/// per exchange): `arm()` re-arms the stall bound before a step, `wait_writable()` ->
/// awaitable<error_code> (the stall bound included), `stall()` (the bound, for reading the body's
/// async source), `after_write()` and `after_response()` release buffers.
template <class Stream, class Io>
boost::asio::awaitable<exchange_result> run_exchange(Stream& stream, Io& io, exchange_algo& algo) {
    namespace asio = boost::asio;
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    const auto started = std::chrono::steady_clock::now();
    std::chrono::microseconds first_byte{0};
    error_code ec;
    std::size_t n = 0;
    for (;;) {
        const auto what = algo.resume(ec, n);
        ec = {};
        n = 0;
        switch (what) {
        case exchange_algo::action::done:
            io.after_response();
            algo.result().first_byte = first_byte;
            co_return std::move(algo.result());
        case exchange_algo::action::write:
            io.arm();
            std::tie(ec, n) = co_await stream.async_write_some(algo.write_buffers(), tuple);
            io.after_write();
            break;
        case exchange_algo::action::wait_writable: ec = co_await io.wait_writable(); break;
        case exchange_algo::action::fill: std::tie(ec, n) = co_await fill_source(algo, io.stall()); break;
        case exchange_algo::action::read_continue: {
            // The stall bound still covers the wait; the shorter continue wait decides first.
            io.arm();
            asio::steady_timer timer(co_await asio::this_coro::executor, algo.continue_wait());
            auto r = co_await (stream.async_read_some(algo.read_buffer(), tuple) || timer.async_wait(tuple));
            if (r.index() == 0)
                std::tie(ec, n) = std::get<0>(r);
            else
                ec = asio::error::timed_out;  // no answer in time: the algorithm sends the body
            if (n && first_byte.count() == 0)
                first_byte =
                    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
            break;
        }
        case exchange_algo::action::read:
            io.arm();
            std::tie(ec, n) = co_await stream.async_read_some(algo.read_buffer(), tuple);
            if (n && first_byte.count() == 0)
                first_byte =
                    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
            break;
        }
        // The one place every step of an exchange passes: a cancellation recorded while no step
        // was pending wins over whatever the step reported.
        if (cs.cancelled() != asio::cancellation_type::none) ec = asio::error::operation_aborted;
    }
}

}  // namespace livefour::detail
