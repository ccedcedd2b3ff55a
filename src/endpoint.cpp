#include "endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace livefour::detail {

/// A host name as DNS and TLS (SNI, certificate names) accept it: labels of letters, digits, '-'
/// and '_' (seen in internal names), 1..63 characters each, 253 in all, one optional trailing dot.
/// Boost.URL's reg-name is far wider (percent-encodings, '!', '$', '~', ...): such a name can only
/// fail later, in the resolver, with a less helpful message, or reach a host the user did not mean.
bool valid_host_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return label != 0;
}

/// The port's digits as a number in 1..65535, or 0. Boost.URL's port_number() keeps only the low
/// 16 bits (":99999" reads as 34463), and getaddrinfo() truncates the same way, so the text is
/// parsed here and the port is kept in its canonical spelling (":08443" is "8443").
unsigned parse_port(std::string_view digits) {
    if (digits.empty()) return 0;
    unsigned v = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > 65535) return 0;
    }
    return v;
}

error_code parse_endpoint(std::string_view url, bool allow_http, endpoint_info& out, std::string& why) {
    // The messages below never quote the URL: its user information or path may hold a secret.
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        why = "endpoint is not a valid absolute URL (need https://host[:port][/base-path])";
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
        why = "endpoint must start with https:// (or http:// when cleartext is explicitly allowed)";
        return client_error::bad_endpoint;
    }
    if (!u.has_authority()) {
        why = "endpoint has no host (need https://host[:port][/base-path])";
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
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6: out.host_is_ip = true; break;
    case boost::urls::host_type::name:
        out.host_is_ip = false;
        if (!valid_host_name(out.host)) {
            why = "endpoint host '" + out.host +
                  "' is not a valid host name (letters, digits, '-', '_' and dots; no percent-encoding)";
            return client_error::bad_endpoint;
        }
        break;
    default:
        why = "endpoint host type not supported (need a host name, an IPv4 or a bracketed IPv6 address)";
        return client_error::bad_endpoint;
    }
    const unsigned default_port = out.tls ? 443 : 80;
    unsigned port = default_port;
    if (u.has_port()) {
        const std::string_view text = u.port();
        port = parse_port(text);
        if (port == 0) {
            why = text.empty() ? std::string("endpoint has an empty port (drop the ':' or give 1-65535)")
                               : "endpoint port '" + std::string(text) + "' is not a number from 1 to 65535";
            return client_error::bad_endpoint;
        }
    }
    out.port = std::to_string(port);
    const std::string host_for_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
    out.host_header = port == default_port ? host_for_header : host_for_header + ":" + out.port;
    out.base_path = std::string(u.encoded_path());
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
    return {};
}

}  // namespace livefour::detail
