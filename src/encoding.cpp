// Body encodings (encoding.hpp): the multipart form's adapter, bytes in memory, and the thread's
// body buffer they may share.
#include "encoding.hpp"

#include <livefour/detail/multipart_body.hpp>

#include <utility>

namespace livefour::detail {

char* thread_body_buffer(std::size_t cap) {
    thread_local std::unique_ptr<char[]> buf;
    thread_local std::size_t size = 0;
    if (size < cap) {
        buf = std::make_unique_for_overwrite<char[]>(cap);
        size = cap;
    }
    return buf.get();
}

namespace {

/// multipart_form keeps its prepared state and error text itself; multipart_encoder produces it.
class multipart_encoding final : public body_encoding {
public:
    multipart_encoding(std::shared_ptr<multipart_form> form, std::span<const std::string_view> not_empty)
        : form_(std::move(form)), encoder_(form_), not_empty_(not_empty) {}

    std::string content_type() const override { return form_->content_type(); }
    error_code prepare() override {
        if (auto ec = form_->prepare()) return ec;
        for (const auto& name : not_empty_) {
            if (prepared_part_size(*form_, name) != std::uint64_t{0}) continue;
            detail_ = "part '" + std::string(name) + "' is empty (0 bytes)";
            return client_error::empty_source;
        }
        detail_.clear();
        return {};
    }
    std::optional<std::uint64_t> content_length() const noexcept override { return form_->content_length(); }
    void start(error_code& ec) override {
        encoder_ = multipart_encoder(form_);
        encoder_.start(ec);
    }
    std::span<const char> next(error_code& ec) override { return encoder_.next(ec); }
    bool done() const noexcept override { return encoder_.done(); }
    const std::string& error_detail() const noexcept override {
        return detail_.empty() ? form_->error_detail() : detail_;
    }
    void use_thread_buffer(bool on) noexcept override { encode_into_thread_buffer(*form_, on); }
    source_reader* waiting() noexcept override { return encoder_.waiting(); }
    bool rewindable() const noexcept override { return multipart_rewindable(*form_); }
    bool readable_twice() const noexcept override { return !multipart_has_async(*form_); }

private:
    std::shared_ptr<multipart_form> form_;
    multipart_encoder encoder_;
    std::span<const std::string_view> not_empty_;
    std::string detail_;  // our own check's explanation
};

/// A small body held whole (a JSON request): one buffer, no sources to re-check.
class memory_encoding final : public body_encoding {
public:
    memory_encoding(std::string bytes, std::string type) : bytes_(std::move(bytes)), type_(std::move(type)) {}

    std::string content_type() const override { return type_; }
    error_code prepare() override {
        armed_ = true;
        return {};
    }
    std::optional<std::uint64_t> content_length() const noexcept override { return bytes_.size(); }
    void start(error_code& ec) override {
        ec = {};
        if (!std::exchange(armed_, false)) {
            ec = client_error::invalid_argument;
            detail_ = "body not prepared (prepare() arms exactly one pass)";
            return;
        }
        done_ = false;
    }
    std::span<const char> next(error_code& ec) override {
        ec = {};
        if (done_) return {};
        done_ = true;
        return {bytes_.data(), bytes_.size()};
    }
    bool done() const noexcept override { return done_; }
    const std::string& error_detail() const noexcept override { return detail_; }
    void use_thread_buffer(bool) noexcept override {}  // the bytes outlive every write

private:
    std::string bytes_;
    std::string type_;
    std::string detail_;
    bool armed_ = false;
    bool done_ = true;
};

}  // namespace

std::shared_ptr<body_encoding> make_multipart_encoding(std::shared_ptr<multipart_form> form,
                                                       std::span<const std::string_view> not_empty) {
    return std::make_shared<multipart_encoding>(std::move(form), not_empty);
}

std::shared_ptr<body_encoding> make_memory_encoding(std::string bytes, std::string content_type) {
    return std::make_shared<memory_encoding>(std::move(bytes), std::move(content_type));
}

}  // namespace livefour::detail
