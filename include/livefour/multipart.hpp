// livefour — multipart/form-data request bodies (RFC 7578), streamed.
//
// A `multipart_form` is an ordered list of text fields and file parts. It is a description, not
// a buffer: file parts are read from disk (pread) while the request is being sent, in one
// fixed-size buffer, so memory use does not depend on file sizes. `prepare()` validates the form,
// opens every file and captures its size, which makes `content_length()` exact; it is called again
// before every attempt of a request (it is the rewind). The Beast body that serializes a prepared
// form is `livefour::detail::multipart_body` (include/livefour/detail/multipart_body.hpp).
//
// Header quoting (a decision, docs/protocol.md §4): CR, LF and NUL are rejected in names, filenames, field
// values and content types (`client_error::invalid_field`) because no receiver decodes an escaped
// line break the same way. A '"' in a name or filename is sent as "%22", which is what browsers do
// (WHATWG HTML, "multipart/form-data encoding algorithm"); every other byte, including '\' and
// UTF-8, is sent as is, again like browsers.
#pragma once

#include <livefour/error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace livefour {

class async_byte_source;

namespace detail {
struct multipart_access;
struct body_source_access;
struct prepared_form;
}  // namespace detail

/// A user-supplied source of part bytes (sized or unsized). Called on the I/O thread,
/// synchronously, while the request body is being written: implementations must not block for long.
class byte_source {
public:
    virtual ~byte_source() = default;

    /// The exact number of bytes `read` will produce from the start, or nullopt when unknown (the
    /// request then goes out with `Transfer-Encoding: chunked`). Called by `multipart_form::prepare`.
    /// A sized source that produces fewer or more bytes fails the upload with `file_changed_size`.
    virtual std::optional<std::uint64_t> size() const = 0;

    /// Copies the next bytes into `out` and returns how many; 0 means the end. Must fill as much of
    /// `out` as is available (a short read is not taken as the end, but 0 is). Setting `ec` fails
    /// the upload with `client_error::source_failed` (the original code is kept in
    /// `multipart_form::error_detail()`).
    virtual std::size_t read(std::span<char> out, error_code& ec) = 0;

    /// Goes back to the start, for a retry. Called by `multipart_form::prepare` once the source has
    /// been read from; never before the first read (one-shot sources work for a single attempt).
    virtual void rewind(error_code& ec) = 0;
};

/// The content type conventionally used for a file name's extension (case-insensitive):
/// mp4 video/mp4, flv video/x-flv, webm video/webm, mov video/quicktime, avi video/x-msvideo,
/// 3gp video/3gpp, mkv video/x-matroska, jpg/jpeg image/jpeg, png image/png, bmp image/bmp;
/// anything else application/octet-stream.
std::string_view content_type_for(std::string_view filename) noexcept;

/// Where one file part's bytes come from: a file path (opened at `prepare()`, read with pread,
/// size captured at open), bytes in memory (shared, never copied per attempt), or a user
/// `byte_source`. An empty content type is derived from the filename with `content_type_for`.
class body_source {
public:
    /// No source yet (so that request structs are default-constructible); a form holding an empty
    /// source fails `prepare()` with `client_error::invalid_argument` ("no source").
    body_source() noexcept : kind_(kind::custom) {}

    /// A file on disk. `filename` defaults to the path's last component; the content type to the
    /// filename's extension. Only regular files are accepted (see `multipart_form::prepare`).
    static body_source file(std::filesystem::path path, std::string content_type = {}, std::string filename = {});

    /// Bytes held in memory; they are moved into a shared buffer once.
    static body_source memory(std::string bytes, std::string filename, std::string content_type = {});

    /// Bytes held in memory and shared with the caller (not copied).
    static body_source memory(std::shared_ptr<const std::string> bytes, std::string filename,
                              std::string content_type = {});

    /// Bytes produced by a user source; unsized sources make the request chunked.
    static body_source custom(std::shared_ptr<byte_source> src, std::string filename, std::string content_type = {});

    /// Bytes read with co_await from a source (<livefour/async_source.hpp>): a socket, the body of
    /// a request a server is still receiving. Read one buffer at a time while the request is sent.
    static body_source async(std::shared_ptr<async_byte_source> src, std::string filename,
                             std::string content_type = {});

    /// The filename sent in Content-Disposition (before '"' escaping).
    const std::string& filename() const noexcept { return filename_; }
    /// The content type sent for this part (already defaulted).
    const std::string& content_type() const noexcept { return content_type_; }
    /// True for a source created with `file()`.
    bool is_file() const noexcept { return kind_ == kind::file; }
    /// The file path for a `file()` source, else nullptr.
    const std::filesystem::path* path() const noexcept { return is_file() ? &path_ : nullptr; }

private:
    friend struct detail::body_source_access;
    enum class kind : unsigned char { file, memory, custom, async };

    body_source(kind k, std::string filename, std::string content_type);

    kind kind_;
    std::filesystem::path path_;
    std::shared_ptr<const std::string> bytes_;
    std::shared_ptr<byte_source> custom_;
    std::shared_ptr<async_byte_source> async_;
    std::string filename_;
    std::string content_type_;
};

/// An ordered multipart/form-data form: text fields and file parts.
///
/// Copies share prepared state (open files) until one of them is changed or prepared again.
/// One `prepare()` arms exactly one serialization: the writer refuses a form that was not
/// prepared since the last serialization started, so that a retry cannot silently resend a
/// consumed custom source or skip the file-size checks.
class multipart_form {
public:
    /// Default: the boundary is random ("livefour-" and 32 characters from [A-Za-z0-9], drawn with
    /// RAND_bytes). A user boundary must be 1–70 characters of [A-Za-z0-9'()+_,-./:=?]; it is
    /// checked by `prepare()` (`client_error::invalid_argument`). Choosing a boundary that occurs
    /// in a file's content is the caller's problem (text fields and in-memory parts are checked).
    explicit multipart_form(std::string boundary = {});

    /// Appends a text field (no filename, no Content-Type).
    multipart_form& add_field(std::string name, std::string value);
    /// Appends a file part.
    multipart_form& add_file(std::string name, body_source source);

    /// The boundary, without the leading "--".
    const std::string& boundary() const noexcept { return boundary_; }
    /// `multipart/form-data; boundary=...`; the boundary is quoted unless it is only made of
    /// [A-Za-z0-9._-] (an unquoted "'" is legal but misread by some receivers).
    std::string content_type() const;
    /// Number of parts added so far.
    std::size_t part_count() const noexcept { return parts_.size(); }

    /// Validates the boundary, names, filenames, content types and values (CR, LF, NUL →
    /// `invalid_field`; an empty name → `invalid_field`), opens and fstat()s every file
    /// (`file_not_found`; `file_unreadable` for permission errors, directories and other non-regular
    /// files, or a path through a non-directory), rewinds custom sources that were read, and captures
    /// all sizes. Afterwards `content_length()` is exact. Calling it again re-opens everything; that
    /// is how a retry rewinds. On failure the form is left unprepared.
    error_code prepare();

    /// True after a successful `prepare()` and until the form is changed.
    bool prepared() const noexcept { return state_ != nullptr; }

    /// The exact body length; nullopt before `prepare()` or when a custom source is unsized.
    std::optional<std::uint64_t> content_length() const noexcept;

    /// Human-readable context of the last failure of `prepare()` or of the writer, e.g.
    /// "part 'video' (/tmp/a.mp4): open: No such file or directory". Empty after success.
    const std::string& error_detail() const noexcept { return error_detail_; }

    /// Size of the writer's single buffer; clamped to [16 KiB, 4 MiB] when serialization starts
    /// (and shrunk to the body length for smaller bodies).
    std::size_t write_buffer_size = 256 * 1024;

    /// Upper bound on the encoded body, enforced while streaming (`client_error::upload_too_large`);
    /// 0 = none. For sized forms the client checks `content_length()` before sending; this bound is
    /// what stops an unsized (chunked) source that turns out too large.
    std::uint64_t max_body_bytes = 0;

private:
    friend struct detail::multipart_access;

    struct part {
        std::string name;
        std::string value;                  // text field
        std::optional<body_source> source;  // file part when set
    };

    error_code fail(error_code ec, std::string detail);

    std::string boundary_;
    std::vector<part> parts_;
    std::shared_ptr<detail::prepared_form> state_;  // set by prepare(), dropped by changes
    std::string error_detail_;
    bool custom_read_ = false;    // a writer has read custom sources since the last prepare()
    bool thread_buffer_ = false;  // see detail::encode_into_thread_buffer
};

}  // namespace livefour
