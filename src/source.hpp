// Internal: where body bytes come from, apart from how a body frames them. A source_reader is one
// opened body_source — a file read with pread, bytes in memory, or a user byte_source — that
// yields its bytes in order and proves, as it goes, that they are the bytes it promised: a sized
// source that ends early or has a byte past its size fails with client_error::file_changed_size,
// never as a silently wrong body. Encodings (multipart today, base64 inside JSON for API 3.0)
// frame readers; they do not read files themselves.
#pragma once

#include <livefour/async_source.hpp>
#include <livefour/error.hpp>
#include <livefour/multipart.hpp>

#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace livefour::detail {

/// An open file descriptor, closed by its owner.
class file_handle {
public:
    file_handle() noexcept = default;
    explicit file_handle(int fd) noexcept : fd_(fd) {}
    file_handle(file_handle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    file_handle& operator=(file_handle&& o) noexcept;
    ~file_handle() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept;

private:
    int fd_ = -1;
};

/// What identifies a file's content cheaply: a pass that reads the same file again (to hash it,
/// then to send it) refuses a file that was replaced or written to in between.
struct file_identity {
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const file_identity&) const = default;
};

/// What body_source::async() holds: the user's source, and whether any of its bytes were taken
/// since it was made or rewound. A one-shot source that gave nothing yet (the connection failed
/// before the body) may still be sent by a retry; one that gave bytes may not.
class tracked_async_source final : public async_byte_source {
public:
    explicit tracked_async_source(std::shared_ptr<async_byte_source> inner) noexcept : inner_(std::move(inner)) {}
    std::optional<std::uint64_t> size() const override { return inner_->size(); }
    void async_read_some(boost::asio::mutable_buffer buffer, read_handler handler) override {
        inner_->async_read_some(buffer, std::move(handler));
    }
    bool rewindable() const override { return inner_->rewindable(); }
    void rewind(error_code& ec) override {
        inner_->rewind(ec);
        if (!ec) consumed_ = false;
    }
    bool consumed() const noexcept { return consumed_; }
    void note_consumed() noexcept { consumed_ = true; }
    bool empty() const noexcept { return !inner_; }

private:
    std::shared_ptr<async_byte_source> inner_;
    bool consumed_ = false;
};

/// One opened source, read from its start to its end, once per open().
class source_reader {
public:
    source_reader() = default;
    source_reader(source_reader&&) noexcept = default;
    source_reader& operator=(source_reader&&) noexcept = default;

    /// Opens `src`: a file is opened and fstat()ed (only regular files; `file_not_found`,
    /// `file_unreadable`), a custom source is rewound first when `rewind_custom` (it was read
    /// since), memory is shared. On failure `why` says what happened ("open: No such file or
    /// directory"); the caller prefixes it with its name for the source. Error texts are built only
    /// on failure: a part opened per request costs no allocation for a message it never shows.
    error_code open(const body_source& src, bool rewind_custom, std::string& why);

    /// The exact number of bytes; nullopt for an unsized custom source.
    const std::optional<std::uint64_t>& size() const noexcept { return size_; }
    /// True for a file source.
    bool is_file() const noexcept { return kind_ == kind::file; }
    /// True for a user byte_source or async_byte_source (which may be one-shot: it has to be
    /// rewound to be read again).
    bool is_custom() const noexcept { return kind_ == kind::custom || kind_ == kind::async; }
    /// True for an async_byte_source: read() fails with asio::error::would_block when its staged
    /// bytes ran out; the exchange then fills fill_buffer() with the source's async_read_some().
    bool is_async() const noexcept { return kind_ == kind::async; }
    /// Where the next async read goes (at most `cap` bytes, never past the source's size).
    boost::asio::mutable_buffer fill_buffer(std::size_t cap);
    /// `n` bytes arrived in fill_buffer(); 0 is the end of the source.
    void filled(std::size_t n) noexcept;
    /// The async source (is_async()).
    async_byte_source& async_source() const noexcept { return *async_; }
    /// True once an async source gave bytes (to this pass or an earlier one) and was not rewound.
    bool async_consumed() const noexcept { return async_ && async_->consumed(); }
    /// False for an async source that was read from and cannot rewind: the body cannot be sent again.
    bool rewindable() const noexcept;
    /// The file's identity at open(); for other sources a default value.
    const file_identity& identity() const noexcept { return identity_; }
    /// fstat()s a file again: `file_changed_size` if its size is not the one open() found.
    error_code check_size(std::string& why) const;

    /// Copies the next bytes into `out` and returns how many; 0 once the source has ended where
    /// its size said it would (a sized source is checked one byte past its end). When `out` has
    /// room for all that is left and one byte more, that byte is the end check: one pread
    /// instead of two at the end of every file. Bytes of `out` past the returned count may be
    /// overwritten. Errors: file_changed_size, file_unreadable, source_failed.
    error_code read(std::span<char> out, std::size_t& n, std::string& why);

    /// Bytes read so far.
    std::uint64_t offset() const noexcept { return off_; }
    /// True once read() returned 0.
    bool ended() const noexcept { return ended_; }

private:
    enum class kind : unsigned char { none, file, memory, custom, async };
    error_code changed(const char* how, std::string& why) const;

    kind kind_ = kind::none;
    std::shared_ptr<tracked_async_source> async_;
    std::unique_ptr<char[]> staged_;  // an async source's bytes between its read and the body
    std::size_t staged_cap_ = 0, staged_begin_ = 0, staged_end_ = 0;
    bool async_end_ = false;
    file_handle file_;
    std::shared_ptr<const std::string> bytes_;
    std::shared_ptr<byte_source> custom_;
    std::optional<std::uint64_t> size_;
    file_identity identity_;
    std::uint64_t off_ = 0;
    bool end_checked_ = false;  // the byte past the end was probed along with the last bytes
    bool ended_ = false;
};

/// The door into body_source's private members, for readers and encoders.
struct body_source_access {
    static const std::shared_ptr<byte_source>& custom(const body_source& s) noexcept;
    static const std::shared_ptr<const std::string>& bytes(const body_source& s) noexcept;
    static const std::shared_ptr<async_byte_source>& async(const body_source& s) noexcept;
};

/// Human-readable text of an errno value.
std::string errno_text(int e);

}  // namespace livefour::detail
