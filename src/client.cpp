// The legacy client: its options checked once, an engine (engine.hpp) for the transport, and the
// legacy backend's operations (legacy_backend.hpp) launched through it.
#include <livefour/client.hpp>

#include "engine.hpp"
#include "legacy_backend.hpp"

#include <utility>

namespace livefour::detail {

struct client_impl {
    client_impl(asio::any_io_executor ex, client_options& opts, endpoint_info ep)
        : sig(std::make_shared<legacy::signature>(std::move(opts.creds), std::move(opts.signing))),
          eng(std::make_shared<engine>(std::move(ex), engine_config_of(opts, opts.endpoint, opts.max_upload_bytes),
                                       std::move(ep))) {}

    std::shared_ptr<legacy::signature> sig;
    std::shared_ptr<engine> eng;
};

void async_get_digits_erased(std::shared_ptr<client_impl> self, digits_request req, diagnostics* diag,
                             digits_handler handler) {
    launch<digits_result>(self->eng, diag, std::move(handler),
                          [self, req = std::move(req)](operation& op, digits_result& out, diagnostics& d) mutable {
                              return legacy::get_digits(self->sig, std::move(req), op, out, d);
                          });
}

void async_detect_erased(std::shared_ptr<client_impl> self, detect_request req, diagnostics* diag,
                         detect_handler handler) {
    launch<detect_result>(self->eng, diag, std::move(handler),
                          [self, req = std::move(req)](operation& op, detect_result& out, diagnostics& d) mutable {
                              return legacy::detect(self->sig, self->eng->config(), std::move(req), op, out, d);
                          });
}

void async_idcard_detect_erased(std::shared_ptr<client_impl> self, idcard_detect_request req, diagnostics* diag,
                                detect_handler handler) {
    launch<detect_result>(self->eng, diag, std::move(handler),
                          [self, req = std::move(req)](operation& op, detect_result& out, diagnostics& d) mutable {
                              return legacy::idcard_detect(self->sig, self->eng->config(), std::move(req), op, out, d);
                          });
}

}  // namespace livefour::detail

namespace livefour {

client::client(executor_type ex, client_options opts) {
    detail::endpoint_info ep;
    std::string why;
    if (auto ec = detail::validate(opts, ep, why)) {
        if (why.empty()) throw boost::system::system_error(ec);
        throw boost::system::system_error(ec, why);
    }
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

}  // namespace livefour
