// Body sources (source.hpp): files read with pread, memory, user byte_sources — each checked
// against the size it had when it was opened.
#include "source.hpp"

#include <boost/asio/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace livefour::detail {

file_handle& file_handle::operator=(file_handle&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

void file_handle::reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

std::string errno_text(int e) { return std::generic_category().message(e); }

const std::shared_ptr<byte_source>& body_source_access::custom(const body_source& s) noexcept { return s.custom_; }
const std::shared_ptr<const std::string>& body_source_access::bytes(const body_source& s) noexcept { return s.bytes_; }
const std::shared_ptr<async_byte_source>& body_source_access::async(const body_source& s) noexcept { return s.async_; }

error_code source_reader::open(const body_source& src, bool rewind_custom, std::string& why) {
    *this = source_reader{};
    if (const auto* path = src.path()) {
        kind_ = kind::file;
        // O_NONBLOCK: opening a FIFO must not hang; it is rejected below anyway.
        const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            const int e = errno;
            why = "open: " + errno_text(e);
            return e == ENOENT ? client_error::file_not_found : client_error::file_unreadable;
        }
        file_ = file_handle(fd);
        struct stat sb {};
        if (::fstat(fd, &sb) != 0) {
            why = "fstat: " + errno_text(errno);
            return client_error::file_unreadable;
        }
        if (!S_ISREG(sb.st_mode)) {
            why = "not a regular file";
            return client_error::file_unreadable;
        }
        size_ = static_cast<std::uint64_t>(sb.st_size);
        identity_ = {static_cast<std::uint64_t>(sb.st_dev), static_cast<std::uint64_t>(sb.st_ino), *size_,
                     static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec};
        return {};
    }
    if (const auto& bytes = body_source_access::bytes(src)) {
        kind_ = kind::memory;
        bytes_ = bytes;
        size_ = bytes->size();
        return {};
    }
    if (const auto& a = body_source_access::async(src)) {
        kind_ = kind::async;
        // body_source::async() wraps every async source (multipart.cpp).
        async_ = std::static_pointer_cast<tracked_async_source>(a);
        if (async_->empty()) {
            why = "no source (null async_byte_source)";
            return client_error::invalid_argument;
        }
        if (async_->consumed()) {
            // Read from by an earlier attempt: only a source that can go back may be sent again.
            if (!async_->rewindable()) {
                why = "was read from and cannot be read again (a one-shot source is sent once)";
                return client_error::source_failed;
            }
            error_code ec;
            async_->rewind(ec);
            if (ec) {
                why = "rewind: " + ec.message();
                return client_error::source_failed;
            }
        }
        size_ = async_->size();
        return {};
    }
    kind_ = kind::custom;
    custom_ = body_source_access::custom(src);
    if (!custom_) {
        why = "no source (empty body_source or null byte_source)";
        return client_error::invalid_argument;
    }
    if (rewind_custom) {
        error_code ec;
        custom_->rewind(ec);
        if (ec) {
            why = "rewind: " + ec.message();
            return client_error::source_failed;
        }
    }
    size_ = custom_->size();
    return {};
}

error_code source_reader::check_size(std::string& why) const {
    if (kind_ != kind::file) return {};
    struct stat sb {};
    if (::fstat(file_.get(), &sb) != 0) {
        why = "fstat: " + errno_text(errno);
        return client_error::file_unreadable;
    }
    if (static_cast<std::uint64_t>(sb.st_size) != *size_) {
        why = "size changed from " + std::to_string(*size_) + " to " + std::to_string(sb.st_size) +
              " bytes since prepare()";
        return client_error::file_changed_size;
    }
    return {};
}

boost::asio::mutable_buffer source_reader::fill_buffer(std::size_t cap) {
    if (staged_cap_ < cap) {
        staged_ = std::make_unique_for_overwrite<char[]>(cap);
        staged_cap_ = cap;
    }
    std::size_t want = cap;
    // One byte more than is left: a source that has more than its size says shows it.
    if (size_) want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, *size_ - off_ + 1));
    staged_begin_ = staged_end_ = 0;
    return {staged_.get(), want};
}

void source_reader::filled(std::size_t n) noexcept {
    staged_begin_ = 0;
    staged_end_ = n;
    if (n == 0)
        async_end_ = true;
    else
        async_->note_consumed();
}

bool source_reader::rewindable() const noexcept {
    return kind_ != kind::async || !async_->consumed() || async_->rewindable();
}

error_code source_reader::changed(const char* how, std::string& why) const {
    why = std::string(how) + " than the " + std::to_string(*size_) + " bytes it had at prepare()";
    return client_error::file_changed_size;
}

error_code source_reader::read(std::span<char> out, std::size_t& n, std::string& why) {
    n = 0;
    if (ended_) return {};
    switch (kind_) {
    case kind::none: ended_ = true; return {};

    case kind::memory: {
        n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), bytes_->size() - off_));
        std::memcpy(out.data(), bytes_->data() + off_, n);
        off_ += n;
        ended_ = n == 0;
        return {};
    }

    case kind::file: {
        const std::uint64_t left = *size_ - off_;
        if (left == 0) {
            if (!end_checked_) {
                // Probe one byte past the end: a file that grew must not be cut silently.
                char probe;
                ssize_t r;
                do r = ::pread(file_.get(), &probe, 1, static_cast<off_t>(off_));
                while (r < 0 && errno == EINTR);
                if (r < 0) {
                    why = "read: " + errno_text(errno);
                    return client_error::file_unreadable;
                }
                if (r > 0) return changed("longer", why);
            }
            ended_ = true;
            return {};
        }
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), left));
        // When the rest fits with a byte to spare, that byte is the probe past the end.
        const bool probe_too = left < out.size();
        ssize_t r;
        do r = ::pread(file_.get(), out.data(), want + (probe_too ? 1 : 0), static_cast<off_t>(off_));
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            why = "read: " + errno_text(errno);
            return client_error::file_unreadable;
        }
        if (r == 0) return changed("shorter", why);
        if (static_cast<std::size_t>(r) > want) return changed("longer", why);
        n = static_cast<std::size_t>(r);
        off_ += n;
        if (probe_too && off_ == *size_) end_checked_ = true;  // read to the end, and nothing past it
        return {};
    }

    case kind::async: {
        if (staged_begin_ == staged_end_) {
            if (!async_end_) return boost::asio::error::would_block;  // the exchange fills it
            if (size_ && off_ != *size_) return changed("shorter", why);
            ended_ = true;
            return {};
        }
        n = std::min(out.size(), staged_end_ - staged_begin_);
        if (size_ && off_ + n > *size_) return changed("longer", why);
        std::memcpy(out.data(), staged_.get() + staged_begin_, n);
        staged_begin_ += n;
        off_ += n;
        return {};
    }

    case kind::custom: {
        error_code ec;
        if (size_ && off_ == *size_) {
            char probe;
            const auto r = custom_->read(std::span<char>(&probe, 1), ec);
            if (ec) {
                why = "read: " + ec.message();
                return client_error::source_failed;
            }
            if (r > 0) return changed("longer", why);
            ended_ = true;
            return {};
        }
        const auto want =
            size_ ? static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), *size_ - off_)) : out.size();
        const auto r = custom_->read(out.first(want), ec);
        if (ec) {
            why = "read: " + ec.message();
            return client_error::source_failed;
        }
        if (r > want) {
            why = "read() returned more than asked";
            return client_error::source_failed;
        }
        if (r == 0) {
            if (size_) return changed("shorter", why);
            ended_ = true;
            return {};
        }
        n = r;
        off_ += r;
        return {};
    }
    }
    return {};
}

}  // namespace livefour::detail
