// The API 3.0 client: its options checked once, an engine for the transport, and the faceid
// backend's operations (faceid_backend.hpp) launched through it.
#include <livefour/faceid/client.hpp>

#include "engine.hpp"
#include "faceid_backend.hpp"

#include <algorithm>
#include <utility>

namespace livefour::faceid {

namespace {

bool visible_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

/// The headers livefour writes itself: a user header of that name would contradict or forge them.
bool reserved(std::string_view name) {
    static constexpr std::string_view names[] = {
        "host",           "authorization", "content-type", "content-length", "transfer-encoding",
        "expect",         "connection",    "user-agent",   "x-tc-action",    "x-tc-version",
        "x-tc-timestamp", "x-tc-token",    "x-tc-region",  "x-tc-language",  "x-tc-content-sha256"};
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return std::find(std::begin(names), std::end(names), lower) != std::end(names);
}

error_code check(const client_options& o, livefour::detail::endpoint_info& ep, std::string& why) {
    if (auto ec =
            livefour::detail::validate(livefour::detail::engine_config_of(o, o.endpoint, o.max_upload_bytes), ep, why))
        return ec;
    if (!o.provider && (o.creds.secret_id.empty() || o.creds.secret_key.empty())) {
        why = "faceid: secret_id or secret_key is empty (and no credentials provider is set)";
        return client_error::missing_credentials;
    }
    if (!visible_ascii(o.creds.secret_id)) {
        why = "faceid: secret_id must be visible ASCII";
        return client_error::invalid_field;
    }
    // Header values: visible ASCII only (no CR/LF header injection).
    if (!visible_ascii(o.region) || !visible_ascii(o.language) || !visible_ascii(o.creds.token.reveal())) {
        why = "faceid: region, language and token must be visible ASCII";
        return client_error::invalid_field;
    }
    for (const auto& [name, value] : o.headers) {
        const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        });
        const bool text = std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
        if (!token || !text || reserved(name)) {
            why =
                "faceid: header '" + name + "' is not allowed (a token name, a printable value, not one livefour sets)";
            return client_error::invalid_field;
        }
    }
    return {};
}

}  // namespace

error_code validate(const client_options& opts) {
    livefour::detail::endpoint_info ep;
    std::string why;
    return check(opts, ep, why);
}

namespace detail {

namespace api = livefour::detail::faceid_api;
using livefour::detail::engine;
using livefour::detail::launch;
using livefour::detail::operation;

struct client_impl {
    client_impl(boost::asio::any_io_executor ex, const client_options& o, livefour::detail::endpoint_info ep)
        : eng(std::make_shared<engine>(
              std::move(ex), livefour::detail::engine_config_of(o, o.endpoint, o.max_upload_bytes), std::move(ep))) {
        ctx.sig = std::make_shared<api::tc3_signature>(o);
        ctx.common.push_back({"X-TC-Version", std::string(api::version)});
        if (!o.region.empty()) ctx.common.push_back({"X-TC-Region", o.region});
        if (!o.language.empty()) ctx.common.push_back({"X-TC-Language", o.language});
        if (o.unsigned_payload) ctx.common.push_back({"X-TC-Content-SHA256", "UNSIGNED-PAYLOAD"});
        for (const auto& [name, value] : o.headers) ctx.common.push_back({name, value});
        ctx.write_buffer_size = o.write_buffer_size;
    }

    api::context ctx;
    std::shared_ptr<engine> eng;
};

void async_get_live_code_erased(std::shared_ptr<client_impl> self, diagnostics* diag, live_code_handler handler) {
    launch<live_code_result>(self->eng, diag, std::move(handler),
                             [self](operation& op, live_code_result& out, diagnostics& d) {
                                 return api::get_live_code(self->ctx, op, out, d);
                             });
}

void async_get_action_sequence_erased(std::shared_ptr<client_impl> self, action_sequence_request req, diagnostics* diag,
                                      action_sequence_handler handler) {
    launch<action_sequence_result>(
        self->eng, diag, std::move(handler),
        [self, req = std::move(req)](operation& op, action_sequence_result& out, diagnostics& d) mutable {
            return api::get_action_sequence(self->ctx, std::move(req), op, out, d);
        });
}

void async_compare_erased(std::shared_ptr<client_impl> self, compare_request req, diagnostics* diag,
                          liveness_handler handler) {
    launch<liveness_result>(self->eng, diag, std::move(handler),
                            [self, req = std::move(req)](operation& op, liveness_result& out, diagnostics& d) mutable {
                                return api::compare(self->ctx, std::move(req), op, out, d);
                            });
}

void async_recognize_erased(std::shared_ptr<client_impl> self, recognition_request req, diagnostics* diag,
                            liveness_handler handler) {
    launch<liveness_result>(self->eng, diag, std::move(handler),
                            [self, req = std::move(req)](operation& op, liveness_result& out, diagnostics& d) mutable {
                                return api::recognize(self->ctx, std::move(req), op, out, d);
                            });
}

}  // namespace detail

client::client(executor_type ex, client_options opts) {
    livefour::detail::endpoint_info ep;
    std::string why;
    if (auto ec = check(opts, ep, why)) throw boost::system::system_error(ec, why);
    impl_ = std::make_shared<detail::client_impl>(std::move(ex), opts, std::move(ep));
}

client::~client() { close(); }
client::client(client&&) noexcept = default;
client& client::operator=(client&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

client::executor_type client::get_executor() const noexcept { return impl_ ? impl_->eng->executor() : executor_type{}; }

void client::close() {
    if (impl_) impl_->eng->close();
}

pool_stats client::stats() const { return impl_ ? impl_->eng->stats() : pool_stats{}; }

}  // namespace livefour::faceid
