// The exchange algorithm (exchange.hpp): Beast's serializer on the way out, response_reader on
// the way back, and the client's rules in between — without I/O.
#include "exchange.hpp"

#include "http_date.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/write.hpp>

#include <boost/asio/async_result.hpp>

#include <algorithm>
#include <sstream>

namespace livefour::detail {

namespace beast = boost::beast;
namespace http = beast::http;

std::uint64_t serialized_header_size(const request_type& req) {
    // "METHOD target HTTP/1.1\r\n", one "name: value\r\n" per field, "\r\n": what Beast writes.
    std::uint64_t n = req.method_string().size() + 1 + req.target().size() + 11;
    for (const auto& f : req.base()) n += f.name_string().size() + 2 + f.value().size() + 2;
    return n + 2;
}

exchange_algo::exchange_algo(request_type& req, beast::flat_buffer& buffer, exchange_limits limits,
                             bool encrypts_on_write, const std::function<void(std::uint64_t)>& on_body_bytes)
    : req_(req), sr_(req), reader_(buffer, limits.max_header_bytes, limits.max_response_bytes),
      on_body_bytes_(on_body_bytes), encrypts_on_write_(encrypts_on_write), capture_headers_(limits.capture_headers),
      continue_wait_(limits.continue_wait), header_size_(serialized_header_size(req)) {
    // Over TLS the body needs no buffer of its own: the stream encrypts each buffer before its
    // write's initiation returns (encode_into_thread_buffer). Set before the serializer makes its
    // writer, at the first step.
    if (req.body()) req.body()->use_thread_buffer(encrypts_on_write);
    header_left_ = on_body_bytes_ ? header_size_ : 0;
    // With Expect: 100-continue the header goes out alone, and the body only once the server
    // says so (or stays silent for continue_wait).
    if (continue_wait_.count() > 0) sr_.split(true);
    fill_capacity_ = limits.fill_size;
}

namespace {

/// A stream timeout while sending is the stall bound (the runner re-arms it before every step).
error_code send_failure(const error_code& ec) {
    return ec == beast::error::timeout ? error_code(client_error::stall_timeout) : ec;
}

}  // namespace

exchange_algo::action exchange_algo::finish(error_code ec) {
    result_.ec = ec;
    phase_ = phase::done;
    return action::done;
}

exchange_algo::action exchange_algo::next_write() {
    phase_ = phase::writing;
    write_buffers_.clear();
    error_code ec;
    sr_.next(ec, [this](error_code&, const auto& buffers) {
        for (const auto b : beast::buffers_range_ref(buffers)) write_buffers_.push_back(b);
    });
    if (ec == http::error::need_buffer) {
        // The body's async source has nothing staged: read it, then produce the next buffer.
        // One buffer in flight at a time: a slow sender slows the upload, a slow server the sender.
        if (auto* src = req_.body() ? req_.body()->waiting() : nullptr) {
            filling_ = src;
            fill_buffer_ = src->fill_buffer(fill_capacity_);
            phase_ = phase::filling;
            return action::fill;
        }
    }
    // A body that failed (a file that changed size, a source error): its error says what.
    if (ec) return finish(ec);
    return action::write;
}

async_byte_source& exchange_algo::fill_source() const noexcept { return filling_->async_source(); }

asio::awaitable<std::tuple<error_code, std::size_t>> fill_source(exchange_algo& algo, std::chrono::milliseconds stall) {
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    auto& src = algo.fill_source();
    auto read = [&src, buffer = algo.fill_buffer()](auto token) {
        return asio::async_initiate<decltype(token), void(error_code, std::size_t)>(
            [&src, buffer](auto handler) {
                src.async_read_some(buffer, async_byte_source::read_handler(std::move(handler)));
            },
            token);
    };
    if (stall.count() <= 0) co_return co_await read(tuple);
    // The stream timer bounds the outbound socket, not the sender: a timer of our own does.
    asio::steady_timer timer(co_await asio::this_coro::executor, stall);
    auto r = co_await (read(tuple) || timer.async_wait(tuple));
    if (r.index() == 1) co_return std::tuple{error_code(client_error::stall_timeout), std::size_t{0}};
    co_return std::get<0>(std::move(r));
}

exchange_algo::action exchange_algo::continue_outcome(response_reader::state st) {
    result_.response_started = reader_.started();
    if (st == response_reader::state::need_more && reader_.interims() == 0) {
        read_buffer_ = reader_.prepare();
        return action::read_continue;
    }
    if (st == response_reader::state::need_more) return next_write();  // 100 Continue: the body goes out
    // A final reply before the body (a refused signature, a quota): the body is never sent. The
    // connection carries an unsent body's promise: it is closed, not reused.
    phase_ = phase::reading;
    const auto a = read_outcome(st);
    result_.keep_alive = false;
    return a;
}

exchange_algo::action exchange_algo::start_reading() {
    phase_ = phase::reading;
    return read_outcome(reader_.parse());
}

exchange_algo::action exchange_algo::read_outcome(response_reader::state st) {
    result_.response_started = reader_.started();
    switch (st) {
    case response_reader::state::need_more: read_buffer_ = reader_.prepare(); return action::read;
    case response_reader::state::failed: return finish(reader_.error());
    case response_reader::state::done:
        result_.status = reader_.status();
        result_.keep_alive = reader_.keep_alive();
        result_.body = reader_.take_body();
        if (const auto date = reader_.message().find(http::field::date); date != reader_.message().end())
            result_.server_time = parse_http_date(date->value()).value_or(0);
        if (capture_headers_) {
            std::ostringstream os;
            os << reader_.message().base();
            result_.response_header = os.str();
        }
        return finish({});
    }
    return finish(client_error::connection_closed);
}

exchange_algo::action exchange_algo::resume(error_code ec, std::size_t n) {
    switch (phase_) {
    case phase::start: return next_write();

    case phase::writing: {
        if (ec) return finish(send_failure(ec));
        sr_.consume(n);
        result_.bytes_sent += n;
        if (on_body_bytes_) {
            // Header bytes are not body progress.
            const auto h = std::min<std::uint64_t>(header_left_, n);
            header_left_ -= h;
            if (n > h) on_body_bytes_(n - h);
        }
        if (sr_.is_done()) {
            result_.request_fully_sent = true;
            return start_reading();
        }
        if (continue_wait_.count() > 0 && sr_.is_header_done() && !asked_continue_) {
            asked_continue_ = true;
            phase_ = phase::awaiting_continue;
            return continue_outcome(reader_.parse());
        }
        if (encrypts_on_write_) {
            // Produce and encrypt the next buffer only once the socket can take it: the records
            // then leave in the write that follows and the ciphertext buffer is freed at once,
            // instead of waiting, full, for a slow peer. With many concurrent uploads only the few
            // being encrypted hold a ciphertext buffer (docs/benchmarks.md, scenario 4).
            phase_ = phase::between_writes;
            return action::wait_writable;
        }
        return next_write();
    }

    case phase::between_writes:
        if (ec) return finish(send_failure(ec));
        return next_write();

    case phase::filling:
        if (ec == client_error::stall_timeout || ec == boost::asio::error::operation_aborted) return finish(ec);
        if (ec) {
            // The sender broke off (a phone that disconnected): the upload is cut, the connection
            // closed; the source's own error says why.
            result_.source_error = ec;
            return finish(client_error::source_failed);
        }
        filling_->filled(n);
        return next_write();

    case phase::awaiting_continue: {
        if (ec == boost::asio::error::timed_out) {
            // Silence: send the body anyway. But a final reply that has begun to arrive is read to
            // its end (bounded by the stall timeout), never answered with the body.
            if (!reader_.started()) return next_write();
            read_buffer_ = reader_.prepare();
            return action::read_continue;
        }
        auto st = n ? reader_.commit(n) : reader_.parse();
        if (ec && st == response_reader::state::need_more) st = reader_.fail_read(ec);
        return continue_outcome(st);
    }

    case phase::reading: {
        auto st = n ? reader_.commit(n) : reader_.parse();
        if (ec && st == response_reader::state::need_more) st = reader_.fail_read(ec);
        return read_outcome(st);
    }

    case phase::done: break;
    }
    return action::done;
}

}  // namespace livefour::detail
