// Internal: the parsed endpoint URL. Included only by the compiled sources.
#pragma once

#include <livefour/error.hpp>

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
};

/// Parses `https://host[:port][/base]`. `http` only when allow_http. Sets a client message in
/// `why` (never the URL's userinfo, which could hold a secret).
error_code parse_endpoint(std::string_view url, bool allow_http, endpoint_info& out, std::string& why);

}  // namespace livefour::detail
