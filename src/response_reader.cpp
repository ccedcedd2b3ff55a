// Reading a response without I/O (response_reader.hpp).
#include "response_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <climits>

namespace livefour::detail {

namespace http = boost::beast::http;

error_code read_failure(const error_code& ec) {
    if (ec == http::error::body_limit) return client_error::response_too_large;
    if (ec == http::error::header_limit) return client_error::header_too_large;
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::ssl::error::stream_truncated || ec == http::error::partial_message)
        return client_error::connection_closed;
    if (ec == boost::beast::error::timeout) return client_error::stall_timeout;
    return ec;
}

response_reader::response_reader(boost::beast::flat_buffer& buffer, std::size_t max_header, std::size_t max_body)
    : buffer_(buffer), max_header_(max_header), max_body_(max_body),
      // Beast bounds the header and the body, not chunk-size lines, chunk extensions or trailers:
      // bound what may wait unparsed, and what one response may cost in all, so that a hostile
      // server cannot make us buffer without end (found by test/fuzz).
      framing_limit_(max_header + 64 * 1024),
      // Chunk framing may cost several bytes per body byte (1-byte chunks): generous, but finite.
      total_limit_(static_cast<std::uint64_t>(max_header) + 8ull * max_body + 64 * 1024) {
    fresh_parser();
}

void response_reader::fresh_parser() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(max_header_, UINT32_MAX)));
    parser_->body_limit(max_body_);
    parser_->eager(true);  // one put() parses all that is buffered, header and body
}

response_reader::state response_reader::failed(error_code ec) {
    error_ = ec;
    return state::failed;
}

response_reader::state response_reader::parse() {
    if (error_) return state::failed;
    for (;;) {
        if (buffer_.size() != 0) {
            error_code pec;
            const std::size_t used = parser_->put(buffer_.data(), pec);
            buffer_.consume(used);
            if (pec && pec != http::error::need_more) return failed(read_failure(pec));
            if (parser_->is_done()) {
                // An interim 1xx (e.g. an unsolicited 100 Continue) is not the answer: read on.
                if (parser_->get().result_int() / 100 != 1) return state::done;
                ++interims_;
                // Nor has the answer started: a 100 Continue says nothing about processing (a
                // billed request may still be resent). Bytes after it belong to the answer.
                started_ = buffer_.size() != 0;
                fresh_parser();
                continue;
            }
            if (!pec && used != 0) continue;  // more of the buffer may parse now
        }
        if (buffer_.size() >= framing_limit_) return failed(client_error::header_too_large);
        if (total_read_ > total_limit_) return failed(client_error::response_too_large);
        return state::need_more;
    }
}

boost::asio::mutable_buffer response_reader::prepare() {
    return buffer_.prepare(std::min<std::size_t>(read_size, framing_limit_ - buffer_.size()));
}

response_reader::state response_reader::commit(std::size_t n) {
    buffer_.commit(n);
    total_read_ += n;
    if (n > 0) started_ = true;
    return parse();
}

response_reader::state response_reader::eof() {
    if (error_) return state::failed;
    if (parser_->got_some()) {
        // A response delimited by the close (no length, not chunked) ends here; else truncated.
        error_code ec;
        parser_->put_eof(ec);
        if (!ec && parser_->is_done()) return state::done;
    }
    return failed(client_error::connection_closed);
}

response_reader::state response_reader::fail_read(const error_code& ec) {
    if (ec == boost::asio::error::eof) return eof();
    return failed(read_failure(ec));
}

}  // namespace livefour::detail
