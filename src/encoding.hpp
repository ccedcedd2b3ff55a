// Internal: a request body as the transport sees it — an encoding that frames sources (a
// multipart form, JSON carrying a base64 source, or plain bytes), produced one buffer at a time.
// The transport knows nothing else about a body: the Beast adapter (encoded_body.hpp) and the
// exchange call only this interface.
#pragma once

#include <livefour/error.hpp>
#include <livefour/multipart.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::detail {

class source_reader;

/// A request body. Each prepare() re-opens and re-checks every source and arms exactly one pass
/// over the bytes (start() then next() until done()): a retry, or a second pass that hashes the
/// body before it is sent, reads the same bytes again or fails with a clear error — never a
/// silently different body. Its exact length is known after prepare() when every source is sized.
class body_encoding {
public:
    virtual ~body_encoding() = default;

    /// The Content-Type header value.
    virtual std::string content_type() const = 0;
    /// Opens every source and arms one pass; on failure error_detail() says why.
    virtual error_code prepare() = 0;
    /// The exact length after prepare(); nullopt when a source is unsized (the request then goes
    /// out chunked).
    virtual std::optional<std::uint64_t> content_length() const noexcept = 0;
    /// Begins the armed pass; fails if prepare() was not called since the last pass, or a file
    /// changed size since prepare().
    virtual void start(error_code& ec) = 0;
    /// The next bytes, valid until the next call; an empty span (without error) at the end.
    virtual std::span<const char> next(error_code& ec) = 0;
    /// True once every byte was produced.
    virtual bool done() const noexcept = 0;
    /// What the last failure of prepare() or of a pass was about, naming the source.
    virtual const std::string& error_detail() const noexcept = 0;
    /// After next() failed with asio::error::would_block: the async source to fill before calling
    /// next() again (source_reader::fill_buffer / filled). Null otherwise.
    virtual source_reader* waiting() noexcept { return nullptr; }
    /// False once a one-shot async source was read from: the body cannot be sent again.
    virtual bool rewindable() const noexcept { return true; }
    /// False when a source is async: a pass that reads the body before it is sent (the digest
    /// pass) would consume it.
    virtual bool readable_twice() const noexcept { return true; }
    /// Lets next() fill the calling thread's buffer instead of one of its own (see
    /// encode_into_thread_buffer in detail/multipart_body.hpp): only for a stream that is done with
    /// each buffer before its write's initiation returns (tls_stream).
    virtual void use_thread_buffer(bool on) noexcept = 0;
};

/// A multipart/form-data form (multipart.hpp) as a body. Its file parts named in `not_empty` (static
/// storage: it is not copied) are refused with client_error::empty_source when they have 0 bytes:
/// a call about an empty video would be billed for nothing.
std::shared_ptr<body_encoding> make_multipart_encoding(std::shared_ptr<multipart_form> form,
                                                       std::span<const std::string_view> not_empty = {});

/// Whether every file part of the prepared `form` can be read again (multipart.cpp).
bool multipart_rewindable(const multipart_form& form) noexcept;
/// Whether a part of the prepared `form` is an async source.
bool multipart_has_async(const multipart_form& form) noexcept;

/// The size prepare() found for the part named `name` (multipart.cpp); nullopt when the form is
/// not prepared, has no such part, or the part's source is unsized.
std::optional<std::uint64_t> prepared_part_size(const multipart_form& form, std::string_view name);

/// One member of a JSON object body: a string, or the base64 of a source.
struct json_member {
    std::string name;
    std::string value;                    ///< a string member's value (escaped when the body is framed)
    std::optional<body_source> source{};  ///< when set, the member's value is this source in base64
    std::uint64_t max_base64 = 0;         ///< refused above this many base64 characters (0: no limit)
    client_error too_large = client_error::upload_too_large;  ///< the error of that refusal
};

/// A JSON object of `members`, in order, the sources base64-encoded (RFC 4648, padded) while the
/// body is produced: `{"LivenessType":"LIP","VideoBase64":"AAAA..."}`. prepare() refuses an empty
/// source (client_error::empty_source) and one over its limit, and a file that changed since the
/// first prepare() of this body (so the pass that hashes the body and the pass that sends it read
/// the same bytes). `buffer_size` is the write buffer (clamped to 16 KiB..4 MiB).
std::shared_ptr<body_encoding> make_json_base64_encoding(std::vector<json_member> members, std::size_t buffer_size);

/// Bytes already in memory (a small JSON request) as a body.
std::shared_ptr<body_encoding> make_memory_encoding(std::string bytes, std::string content_type);

/// The calling thread's body buffer of at least `cap` bytes (grows, never shrinks; bounded by the
/// largest write buffer, 4 MiB). Each call may move it.
char* thread_body_buffer(std::size_t cap);

}  // namespace livefour::detail
