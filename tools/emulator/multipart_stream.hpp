// livefour-emulator — a streaming multipart/form-data parser (RFC 7578 / RFC 2046 §5.1).
//
// The emulator must accept uploads of any size with bounded memory, so this parser never keeps a
// file: it is fed the body in arbitrary slices and reduces every part to a summary (byte count,
// SHA-256, the first bytes for magic detection). Text parts are kept whole up to a small limit
// because the server needs their values. Pure logic, no I/O: unit-testable and fuzzable alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::emulator {

/// What remains of one part once it has streamed through the parser.
struct part_info {
    std::string name;                         ///< Content-Disposition `name`
    std::optional<std::string> filename;      ///< Content-Disposition `filename`, if any
    std::optional<std::string> content_type;  ///< the part's Content-Type header, if any
    std::uint64_t size = 0;                   ///< body bytes of the part
    std::string sha256_hex;                   ///< lower-case hex SHA-256 of the part body
    /// The first bytes of the body: up to `multipart_limits::max_value_bytes` for parts without a
    /// filename (their whole value), up to `multipart_limits::file_head_bytes` for files.
    std::string head;

    /// True when `head` holds the complete body.
    [[nodiscard]] bool complete() const noexcept { return head.size() == size; }
};

/// Bounds that keep memory use independent of the body size.
struct multipart_limits {
    std::size_t max_part_header_bytes = 8192;  ///< all header lines of one part
    std::size_t max_parts = 64;
    std::size_t max_value_bytes = 64 * 1024;  ///< text parts longer than this are an error
    std::size_t file_head_bytes = 256;        ///< kept from file parts (magic detection)
    std::size_t max_preamble_bytes = 64 * 1024;
};

/// Incremental parser: call feed() with successive slices of the body, then finish().
/// Once an error is reported every further call is a no-op returning false.
class multipart_stream_parser {
public:
    /// `boundary` is the bare boundary parameter (without the leading "--").
    explicit multipart_stream_parser(std::string_view boundary, multipart_limits limits = {});
    ~multipart_stream_parser();
    multipart_stream_parser(multipart_stream_parser&&) noexcept;
    multipart_stream_parser& operator=(multipart_stream_parser&&) noexcept;

    /// Consumes the next bytes of the body. Returns false once the body is known to be malformed.
    bool feed(std::string_view bytes);

    /// Declares the end of the body. Returns false if the body was malformed or the closing
    /// delimiter never came.
    bool finish();

    /// The closing delimiter has been seen (anything after it is an ignored epilogue).
    [[nodiscard]] bool done() const noexcept;
    /// The body is malformed; error() says why.
    [[nodiscard]] bool failed() const noexcept;
    /// Human-readable reason of the failure; empty while not failed.
    [[nodiscard]] const std::string& error() const noexcept;
    /// Completed parts, in body order.
    [[nodiscard]] const std::vector<part_info>& parts() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The boundary of a `multipart/form-data` Content-Type value (quoted or not); nullopt when the
/// media type is something else or the boundary is missing or longer than 200 characters.
std::optional<std::string> form_data_boundary(std::string_view content_type);

}  // namespace livefour::emulator
