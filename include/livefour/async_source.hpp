// livefour — body sources read with co_await: a socket a phone is still sending on, a decoder,
// another service's response. The body asks the source for bytes one buffer at a time and sends
// them before it asks again: never more than one write buffer is in flight between the inbound
// side and the outbound connection, so a slow sender slows the upload and a slow API slows the
// sender (backpressure both ways).
#pragma once

#include <livefour/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace livefour {

/// A source read asynchronously (body_source::async). Implementations forward to an Asio
/// operation; see make_stream_source() for any AsyncReadStream, and <livefour/beast_source.hpp>
/// for the body of a request a Beast server is still receiving.
class async_byte_source {
public:
    /// Completion of a read: (error, bytes read); 0 bytes without error means the end.
    using read_handler = boost::asio::any_completion_handler<void(error_code, std::size_t)>;

    virtual ~async_byte_source() = default;

    /// The exact number of bytes the source will produce, or nullopt (then the legacy API's
    /// request goes out chunked; API 3.0 needs faceid::client_options::unsigned_payload, because
    /// a body that is not known in advance cannot be hashed before it is sent).
    virtual std::optional<std::uint64_t> size() const = 0;

    /// Reads at least one byte into `buffer`, or completes with 0 at the end. At most one read is
    /// in flight. It is started on the connection's executor (the operation's, with
    /// client_options::thread_safe off) and must honour the terminal cancellation of `handler`'s
    /// slot (every Asio I/O object does): a cancelled upload stops reading at once. The source's
    /// own I/O object must not be used by anyone else while the operation runs.
    virtual void async_read_some(boost::asio::mutable_buffer buffer, read_handler handler) = 0;

    /// True when the source can go back to its start for a resend (rewind()). A source that
    /// cannot is read once: a request whose source was read from is never retried — its failure
    /// is returned with its cause, never followed by a partial resend.
    virtual bool rewindable() const { return false; }
    /// Goes back to the start (only called when rewindable()).
    virtual void rewind(error_code& ec) { ec = {}; }
};

namespace detail {

/// An AsyncReadStream as an async_byte_source, stopping after `size` bytes when given.
template <class AsyncReadStream>
class stream_source final : public async_byte_source {
public:
    stream_source(AsyncReadStream& stream, std::optional<std::uint64_t> size) : stream_(stream), size_(size) {}

    std::optional<std::uint64_t> size() const override { return size_; }

    void async_read_some(boost::asio::mutable_buffer buffer, read_handler handler) override {
        if (size_) {
            const auto left = *size_ - read_;
            if (left == 0) return complete_at_end(std::move(handler));
            if (buffer.size() > left) buffer = boost::asio::buffer(buffer.data(), static_cast<std::size_t>(left));
        }
        // The read completes on the stream's executor; `counted` then dispatches to the handler's
        // own (the connection's strand). Not bound up front: Asio 1.81 cannot post to the
        // any_completion_executor of a type-erased handler (it cannot require blocking.never).
        stream_.async_read_some(buffer, counted{this, std::move(handler)});
    }

private:
    /// Counts what arrives; an end of stream before `size` bytes is not an end.
    struct counted {
        stream_source* self;
        read_handler handler;
        using cancellation_slot_type = boost::asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept { return handler.get_cancellation_slot(); }
        void operator()(error_code ec, std::size_t n) {
            self->read_ += n;
            // The end of a sized stream is its size: a sender that stops early broke the upload.
            if (ec == boost::asio::error::eof && !self->size_) ec = {};
            boost::asio::dispatch(boost::asio::append(std::move(handler), ec, n));
        }
    };

    void complete_at_end(read_handler handler) {
        // Not inside the initiating function: through the handler's executor, like any operation.
        boost::asio::post(stream_.get_executor(),
                          boost::asio::append(std::move(handler), error_code{}, std::size_t{0}));
    }

    AsyncReadStream& stream_;
    std::optional<std::uint64_t> size_;
    std::uint64_t read_ = 0;
};

}  // namespace detail

/// Any Asio AsyncReadStream (a socket, an SSL stream, a pipe) as a body source: `size` bytes of
/// it (an exact Content-Length; the stream may carry more afterwards), or, without a size, all of
/// it until end of stream (the request goes out chunked). The stream must outlive the operation.
template <class AsyncReadStream>
std::shared_ptr<async_byte_source> make_stream_source(AsyncReadStream& stream,
                                                      std::optional<std::uint64_t> size = std::nullopt) {
    return std::make_shared<detail::stream_source<AsyncReadStream>>(stream, size);
}

}  // namespace livefour
