// Internal: reading one HTTP/1.1 response from bytes as they arrive, without I/O. The exchange
// feeds it what each socket read brought; the fuzzer (test/fuzz/fuzz_response.cpp) feeds it
// arbitrary bytes — the same code, so the two cannot drift apart.
#pragma once

#include <livefour/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace livefour::detail {

/// One response, within bounds: the header (`max_header`), the body (`max_body`), what may wait
/// unparsed in the buffer (chunk-size lines, extensions and trailers, which Beast does not bound)
/// and what one response may cost in all. Interim 1xx responses are skipped.
class response_reader {
public:
    /// Bytes asked of one read: one TLS record, and responses are small.
    static constexpr std::size_t read_size = 16 * 1024;

    enum class state : unsigned char {
        need_more,  ///< read into prepare() and commit()
        done,       ///< a final response is complete: status(), keep_alive(), take_body()
        failed,     ///< error() says why; the connection must not be reused
    };

    /// `buffer` is the connection's: bytes left in it are parsed first.
    response_reader(boost::beast::flat_buffer& buffer, std::size_t max_header, std::size_t max_body);

    /// Parses what is buffered. need_more also means a read is allowed: the limits held.
    state parse();
    /// Room for the next read (never empty while parse() says need_more).
    boost::asio::mutable_buffer prepare();
    /// `n` bytes were read into prepare()'s room; parses them.
    state commit(std::size_t n);
    /// The peer closed the stream: a response delimited by the close ends here, anything else
    /// was cut short (client_error::connection_closed).
    state eof();
    /// Maps a failed read's error to what the caller should report (see read_failure in the .cpp).
    state fail_read(const error_code& ec);

    /// The failure, once state::failed.
    const error_code& error() const noexcept { return error_; }
    /// At least one byte of the final response arrived (a retry of a billed request is no longer
    /// safe). Interim 1xx responses do not count.
    bool started() const noexcept { return started_; }
    /// Interim (1xx) responses read and skipped so far: a `100 Continue` shows here.
    int interims() const noexcept { return interims_; }

    /// The final response, once state::done (its body until take_body()).
    const boost::beast::http::response<boost::beast::http::string_body>& message() const { return parser_->get(); }
    int status() const { return parser_->get().result_int(); }
    bool keep_alive() const { return parser_->get().keep_alive(); }
    std::string take_body() { return std::move(parser_->get().body()); }

private:
    void fresh_parser();
    state failed(error_code ec);

    boost::beast::flat_buffer& buffer_;
    std::size_t max_header_;
    std::uint64_t max_body_;
    std::size_t framing_limit_;
    std::uint64_t total_limit_;
    std::uint64_t total_read_ = 0;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    error_code error_;
    int interims_ = 0;
    bool started_ = false;
};

/// The error to report for a parser or read error while reading a response: limits and closes
/// get livefour's own codes, a stream timeout becomes client_error::stall_timeout.
error_code read_failure(const error_code& ec);

}  // namespace livefour::detail
