// livefour — the Beast Body that streams a prepared multipart_form.
//
// Internal: only the compiled client and the tests include this (it pulls in Beast). The encoding
// itself lives in `multipart_encoder` (src/multipart.cpp), which knows nothing about Beast; the
// Body's writer only adapts it to the BodyWriter concept.
#pragma once

#include <livefour/multipart.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

namespace livefour::detail {

class source_reader;

/// Produces the bytes of a prepared form, one buffer at a time, in a single buffer of
/// `write_buffer_size` bytes allocated by `start()` (or borrowed per call from the thread, see
/// `encode_into_thread_buffer`). Framing and part bytes are packed together, so
/// every buffer but the last is exactly full. Files are read with pread from the descriptors that
/// `prepare()` opened; a file or sized source that ends early or has bytes past its size fails
/// with `client_error::file_changed_size` — the body is never silently wrong.
class multipart_encoder {
public:
    /// A null form encodes as an empty body.
    explicit multipart_encoder(std::shared_ptr<multipart_form> form) noexcept;
    ~multipart_encoder();
    multipart_encoder(multipart_encoder&&) noexcept;
    multipart_encoder& operator=(multipart_encoder&&) noexcept;

    /// Takes the form's armed prepared state (see `multipart_form`), re-checks file sizes with
    /// fstat (so a change since `prepare()` fails before any byte is sent) and allocates the buffer.
    /// A body that fits one buffer skips the fstat: its first `next()` reads every file to the end
    /// and one byte past it, and fails there, before a serializer has sent the header with it.
    void start(error_code& ec);

    /// The next bytes; an empty span (without error) once everything was produced. The span stays
    /// valid until the next call. After an error every further call repeats it.
    std::span<const char> next(error_code& ec);

    /// True once the closing delimiter has been produced.
    bool done() const noexcept { return phase_ == phase::done; }

    /// Capacity of the one buffer (0 before `start()`).
    std::size_t buffer_capacity() const noexcept { return cap_; }

    /// True when `next()` fills the calling thread's buffer instead of one of its own.
    bool uses_thread_buffer() const noexcept { return thread_buffer_; }

    /// After next() failed with asio::error::would_block: the async source whose staged bytes ran
    /// out (src/source.hpp). Null otherwise.
    source_reader* waiting() const noexcept { return waiting_; }

private:
    enum class phase : unsigned char { head, body, tail, closing, done };

    error_code step(std::size_t& n);
    error_code body_step(std::size_t& n);
    bool copy_from(std::string_view s, std::size_t& n) noexcept;
    error_code fail(error_code ec, std::string detail);

    std::shared_ptr<multipart_form> form_;
    std::shared_ptr<prepared_form> state_;
    std::unique_ptr<char[]> buf_;  // null in thread-buffer mode
    char* out_ = nullptr;          // the buffer next() fills: buf_ or the thread's
    std::size_t cap_ = 0;
    bool thread_buffer_ = false;
    std::size_t part_ = 0;
    std::uint64_t off_ = 0;       // offset within the current head/body/tail/closing segment
    std::uint64_t produced_ = 0;  // body bytes produced so far (for max_body_bytes)
    phase phase_ = phase::head;
    error_code error_;
    source_reader* waiting_ = nullptr;
};

/// Lets the encoders of `form` fill a buffer owned by the calling thread (one per thread, grown to
/// the largest `write_buffer_size` seen) instead of one of their own, from the next serialization
/// on. Each `next()` overwrites that buffer, so this is only correct when whoever consumes the span
/// is done with it before the thread runs anything else — which is the case for
/// `detail::tls_stream`: its `async_write_some` encrypts every offered byte before its initiating
/// function returns, or fails. It halves the memory of an upload in flight over TLS (only the
/// ciphertext waits for the socket): ~256 KiB instead of ~512 KiB with the default buffer.
/// Never for a plain TCP stream, whose write reads the buffer while the operation is pending.
void encode_into_thread_buffer(multipart_form& form, bool on) noexcept;

/// Beast Body for a multipart/form-data request. The value is a shared form (cheap to copy with
/// the request; the prepared file descriptors live in the form). Serialize-only: no reader.
struct multipart_body {
    /// Shared so that request copies and retries refer to the same form; null means "no body".
    using value_type = std::shared_ptr<multipart_form>;

    /// The exact body length. Only valid for a prepared form with a known length: throws
    /// std::bad_optional_access otherwise (use `apply_payload_headers`, which handles chunked).
    static std::uint64_t size(const value_type& form) { return form ? form->content_length().value() : 0; }

    /// Beast BodyWriter: `get()` returns one contiguous buffer per call (see multipart_encoder).
    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& form) : encoder_(form) {}

        void init(error_code& ec) { encoder_.start(ec); }

        boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
            auto bytes = encoder_.next(ec);
            if (ec || bytes.empty()) return boost::none;
            return std::pair{const_buffers_type(bytes.data(), bytes.size()), !encoder_.done()};
        }

        /// For tests and diagnostics: the capacity of the writer's single buffer.
        std::size_t buffer_capacity() const noexcept { return encoder_.buffer_capacity(); }

    private:
        multipart_encoder encoder_;
    };
};

/// Sets Content-Type and the framing of a request carrying a prepared form: an exact
/// Content-Length when the length is known (docs/protocol.md §4), else (or when `force_chunked`)
/// Transfer-Encoding: chunked.
template <class Fields>
void apply_payload_headers(boost::beast::http::request<multipart_body, Fields>& req, bool force_chunked = false) {
    namespace http = boost::beast::http;
    const auto& form = req.body();
    if (!form) {
        req.content_length(std::uint64_t{0});
        return;
    }
    req.set(http::field::content_type, form->content_type());
    if (auto n = form->content_length(); n && !force_chunked)
        req.content_length(*n);
    else
        req.chunked(true);
}

}  // namespace livefour::detail
