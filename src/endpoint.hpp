// Internal: the parsed endpoint URL. Included only by the compiled sources.
#pragma once

#include "proxy.hpp"

#include <livefour/error.hpp>

#include <optional>

#include <string>
#include <string_view>

namespace livefour::detail {

struct endpoint_info {
    bool tls = true;
    std::string host;         // without brackets for IPv6
    std::string port;         // always set (443 / 80 by default)
    std::string base_path;    // "" or "/prefix" without trailing slash
    std::string host_header;  // Host header value: host[:port] (port only when not the default)
    bool host_is_ip = false;  // IP literals get no SNI (RFC 6066) and are verified as IP SANs
    /// The HTTP proxy the connections go through (connection_options::proxy), when there is one:
    /// how the endpoint is reached is part of where it is, so open_connection() finds it here.
    std::optional<proxy_info> proxy;
};

/// A host name as DNS and TLS accept it (see endpoint.cpp); shared with the proxy URL's check.
bool valid_host_name(std::string_view name);

/// The port's digits as a number in 1..65535, or 0 (see endpoint.cpp).
unsigned parse_port(std::string_view digits);

/// Parses `https://host[:port][/base]`. `http` only when allow_http. Sets a client message in
/// `why` (never the URL's userinfo, which could hold a secret).
error_code parse_endpoint(std::string_view url, bool allow_http, endpoint_info& out, std::string& why);

}  // namespace livefour::detail
