// Internal: the one Beast Body the client sends — any body_encoding, produced one buffer per
// write. It knows neither the sources nor the framing.
#pragma once

#include "encoding.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace livefour::detail {

/// Beast Body over a shared body_encoding (null: an empty body). Serialize-only.
struct encoded_body {
    using value_type = std::shared_ptr<body_encoding>;

    /// The exact length; only for a prepared body of known length (the client sets
    /// Content-Length or chunked itself and never asks Beast to).
    static std::uint64_t size(const value_type& body) { return body ? body->content_length().value() : 0; }

    /// BodyWriter: one contiguous buffer per get(), from body_encoding::next().
    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body) : body_(body.get()) {}

        void init(error_code& ec) {
            ec = {};
            if (body_) body_->start(ec);
        }

        boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
            ec = {};
            if (!body_) return boost::none;
            auto bytes = body_->next(ec);
            if (ec == boost::asio::error::would_block) {
                // An async source must be filled first (body_encoding::waiting()). Beast's words for
                // "no body buffer yet": need_more before the header (it is then sent alone),
                // need_buffer after it; either way the serializer asks again.
                ec = first_ ? error_code(boost::beast::http::error::need_more)
                            : error_code(boost::beast::http::error::need_buffer);
                first_ = false;
                return boost::none;
            }
            first_ = false;
            if (ec || bytes.empty()) return boost::none;
            return std::pair{const_buffers_type(bytes.data(), bytes.size()), !body_->done()};
        }

    private:
        body_encoding* body_;  // the request holds it
        bool first_ = true;    // the serializer's first get(), made with the header
    };
};

}  // namespace livefour::detail
