// livefour — the body of a request that a Beast server is still receiving, as a body source: a
// server forwards a phone's upload to the liveness API while it arrives, one write buffer at a
// time, instead of spooling it to a file first (examples/forward_server.cpp).
//
// Include this only where Beast is used anyway: it is a template over the server's stream.
#pragma once

#include <livefour/async_source.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

namespace livefour {

/// The body of a request whose header `parser` has read (`http::async_read_header`), read from
/// `stream` through `buffer` as the body is sent on: Content-Length makes it sized (an exact
/// Content-Length upstream), a chunked upload unsized. The stream, the buffer and the parser must
/// outlive the operation, and nothing else may read the stream meanwhile. A sender that goes
/// silent is bounded by timeouts::stall; one that disconnects fails the upload
/// (client_error::source_failed), whose connection is then closed, not reused.
template <class AsyncReadStream, class DynamicBuffer>
class request_body_source final : public async_byte_source {
public:
    using parser_type = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

    request_body_source(AsyncReadStream& stream, DynamicBuffer& buffer, parser_type& parser)
        : stream_(stream), buffer_(buffer), parser_(parser) {}

    std::optional<std::uint64_t> size() const override {
        if (const auto n = parser_.content_length()) return *n;
        return std::nullopt;
    }

    void async_read_some(boost::asio::mutable_buffer out, read_handler handler) override {
        if (parser_.is_done()) {
            // Not inside the initiating function: posted, then run on the handler's own executor.
            boost::asio::post(stream_.get_executor(),
                              boost::asio::append(std::move(handler), error_code{}, std::size_t{0}));
            return;
        }
        start(out, std::move(handler));
    }

private:
    /// One read of the parser into `out`: loops while a read brings only framing (a chunk
    /// header), completes with the body bytes it put there.
    struct read_op {
        request_body_source* self;
        boost::asio::mutable_buffer out;
        read_handler handler;

        using cancellation_slot_type = boost::asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }

        void operator()(error_code ec, std::size_t) {
            auto& body = self->parser_.get().body();
            const std::size_t got = out.size() - body.size;
            // need_buffer: the body buffer is full — that is the point of the read, not an error.
            if (ec == boost::beast::http::error::need_buffer) ec = {};
            if (!ec && got == 0 && !self->parser_.is_done()) return self->start(out, std::move(handler));
            // Back to the handler's own executor (the connection's strand).
            boost::asio::dispatch(boost::asio::append(std::move(handler), ec, got));
        }
    };

    void start(boost::asio::mutable_buffer out, read_handler handler) {
        auto& body = parser_.get().body();
        body.data = out.data();
        body.size = out.size();
        // Beast reads at most the buffer's free capacity per call (512 bytes at least): a buffer
        // sized for the header would bring the body 512 bytes at a time, one upstream write each
        // (measured: a 5 MiB forward took 0.35 s instead of 0.025 s). Room for one TLS record's
        // worth, allocated once: more would only add a second copy of the write buffer per upload.
        constexpr std::size_t read_room = 16 * 1024;
        const std::size_t room = std::min({out.size(), read_room, buffer_.max_size() - buffer_.size()});
        if (buffer_.capacity() - buffer_.size() < room) {
            buffer_.prepare(room);
            buffer_.commit(0);
        }
        // Completes on the stream's executor; read_op then dispatches to the handler's. Not bound
        // up front: Beast posts through the handler's executor, and Asio 1.81 cannot post to the
        // any_completion_executor of a type-erased handler (it cannot require blocking.never).
        boost::beast::http::async_read_some(stream_, buffer_, parser_, read_op{this, out, std::move(handler)});
    }

    AsyncReadStream& stream_;
    DynamicBuffer& buffer_;
    parser_type& parser_;
};

/// A request_body_source for `parser`'s request on `stream`.
template <class AsyncReadStream, class DynamicBuffer>
std::shared_ptr<async_byte_source> make_request_body_source(
    AsyncReadStream& stream, DynamicBuffer& buffer,
    boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser) {
    return std::make_shared<request_body_source<AsyncReadStream, DynamicBuffer>>(stream, buffer, parser);
}

}  // namespace livefour
