#include "endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <limits>

namespace livefour::detail {

error_code parse_endpoint(std::string_view url, bool allow_http, endpoint_info& out, std::string& why) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        why = "endpoint is not a valid absolute URL";
        return client_error::bad_endpoint;
    }
    const boost::urls::url_view& u = *parsed;
    const auto scheme = u.scheme_id();
    if (scheme == boost::urls::scheme::http) {
        if (!allow_http) {
            why = "http:// endpoint refused: set client_options::allow_insecure_http to allow cleartext";
            return client_error::insecure_http_refused;
        }
        out.tls = false;
    } else if (scheme == boost::urls::scheme::https) {
        out.tls = true;
    } else {
        why = "endpoint scheme must be https (or http when explicitly allowed)";
        return client_error::bad_endpoint;
    }
    if (u.has_userinfo()) {
        // Credentials in a URL end up in logs; the API authenticates by signature anyway.
        why = "endpoint must not contain user information";
        return client_error::bad_endpoint;
    }
    if (u.has_query() || u.has_fragment()) {
        why = "endpoint must not contain a query or fragment";
        return client_error::bad_endpoint;
    }
    out.host = std::string(u.encoded_host_address());
    if (out.host.empty()) {
        why = "endpoint has no host";
        return client_error::bad_endpoint;
    }
    if (u.host_type() == boost::urls::host_type::ipv6) {
        out.host_is_ip = true;
    } else if (u.host_type() == boost::urls::host_type::ipv4) {
        out.host_is_ip = true;
    } else if (u.host_type() != boost::urls::host_type::name) {
        why = "endpoint host type not supported";
        return client_error::bad_endpoint;
    }
    const std::string default_port = out.tls ? "443" : "80";
    if (u.has_port()) {
        auto p = u.port();
        if (p.empty() || u.port_number() == 0) {
            why = "endpoint port must be 1-65535";
            return client_error::bad_endpoint;
        }
        out.port = std::string(p);
    } else {
        out.port = default_port;
    }
    std::string host_for_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
    out.host_header = out.port == default_port ? host_for_header : host_for_header + ":" + out.port;
    out.base_path = std::string(u.encoded_path());
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
    return {};
}

}  // namespace livefour::detail
