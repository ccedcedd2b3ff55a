// Checking options: the one place each rule lives (the transport's in validate(engine_config),
// the legacy credentials' in signer::check), with the endpoint parsed once per client.
#include "engine.hpp"

#include <livefour/options.hpp>

#include <algorithm>

namespace livefour::detail {

error_code validate(const engine_config& c, endpoint_info& ep, std::string& why) {
    if (auto ec = parse_endpoint(c.endpoint, c.allow_insecure_http, ep, why)) return ec;
    ep.proxy.reset();
    if (!c.proxy.url.empty()) {
        proxy_info proxy;
        if (auto ec = parse_proxy_url(c.proxy.url, proxy, why)) return ec;
        ep.proxy = std::move(proxy);
    }
    if (c.write_buffer_size < min_write_buffer_size || c.write_buffer_size > max_write_buffer_size) {
        why = "write_buffer_size must be 16 KiB to 4 MiB";
        return client_error::invalid_argument;
    }
    // The User-Agent goes into every request header verbatim: visible ASCII and spaces only (no
    // CR/LF header injection), and short, so that a request header always fits the TLS stream's
    // single write together with the body writer's largest buffer (see tls_stream.hpp).
    if (c.user_agent.size() > 1024 ||
        !std::all_of(c.user_agent.begin(), c.user_agent.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; })) {
        why = "user_agent must be at most 1,024 visible ASCII characters or spaces";
        return client_error::invalid_argument;
    }
    if (auto ec = livefour::validate(c.retry)) {
        why = "invalid retry policy";
        return ec;
    }
    if (c.timeout.continue_wait.count() <= 0) {
        why = "timeouts::continue_wait must be positive";
        return client_error::invalid_argument;
    }
    if (c.pool.max_connections == 0 || c.max_response_bytes == 0 || c.max_header_bytes == 0) {
        why = "max_connections, max_response_bytes and max_header_bytes must be positive";
        return client_error::invalid_argument;
    }
    return {};
}

/// The legacy client's options: the transport's rules, then the credentials'.
error_code validate(const client_options& o, endpoint_info& ep, std::string& why) {
    if (auto ec = validate(engine_config_of(o, o.endpoint, o.max_upload_bytes), ep, why)) return ec;
    const char* text = nullptr;
    if (auto ec = signer::check(o.creds, o.signing, &text)) {
        why = text;
        return ec;
    }
    return {};
}

}  // namespace livefour::detail

namespace livefour {

error_code validate(const client_options& opts) {
    detail::endpoint_info ep;
    std::string why;
    return detail::validate(opts, ep, why);
}

}  // namespace livefour
