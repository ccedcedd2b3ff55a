// The exchange algorithm (exchange.hpp): Beast's serializer on the way out, response_reader on
// the way back, and the client's rules in between — without I/O.
#include "exchange.hpp"

#include "http_date.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/write.hpp>

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
      header_size_(serialized_header_size(req)) {
    // Over TLS the body needs no buffer of its own: the stream encrypts each buffer before its
    // write's initiation returns (encode_into_thread_buffer). Set before the serializer makes its
    // writer, at the first step.
    if (req.body()) req.body()->use_thread_buffer(encrypts_on_write);
    header_left_ = on_body_bytes_ ? header_size_ : 0;
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
    // A body that failed (a file that changed size, a source error): its error says what.
    if (ec) return finish(ec);
    return action::write;
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
